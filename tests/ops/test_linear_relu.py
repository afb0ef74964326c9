"""LinearReLU (the fused dense + ReLU op): values and gradients against NumPy, on sizes that exercise both the
block-wise SIMD part of the in-place ReLU and its tail."""

import numpy as np
import pytest

from shendu import Tensor
from shendu.ops.nn import LinearReLU


@pytest.mark.parametrize("shape", [(3, 5, 7), (64, 40, 130)])  # 21 outputs (tail only); 8320 (4 blocks + tail)
def test_linear_relu_matches_numpy(shape: tuple[int, int, int]) -> None:
    n, k, f = shape
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((n, k), (k, f), (f,)))
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = LinearReLU.apply(xt, wt, bt)
    z = x @ w + b
    np.testing.assert_allclose(y.data, np.maximum(z, 0), rtol=1e-5, atol=1e-5)
    assert (y.data == 0).any() and (y.data > 0).any()
    g = rng.standard_normal((n, f)).astype(np.float32)
    dx, dw, db = y.grad_fn.backward(g)
    gz = g * (z > 0)
    np.testing.assert_allclose(dx, gz @ w.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, x.T @ gz, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, gz.sum(0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_compiled_pass_equals_numpy(numba, dtype) -> None:
    """The compiled mask-and-sum pass against NumPy's product and sum: the masked gradient bit for bit (NaN in g
    kept where y > 0 and where it is not, as NaN * 0), the column sums to rounding."""
    from shendu.ops import kernels
    from shendu.ops.nn import relu_backward

    rng = np.random.default_rng(3)
    g = rng.standard_normal((501, 33)).astype(dtype)
    y = np.maximum(rng.standard_normal((501, 33)), 0).astype(dtype)
    g[0, 0], g[1, 1] = np.nan, np.nan
    y[0, 0], y[1, 1] = 1.0, 0.0
    previous = kernels.set_enabled(False)
    try:
        want, want_sums = relu_backward(g, y, True)
    finally:
        kernels.set_enabled(previous)
    got, sums = relu_backward(g, y, True)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0, 0]) and np.isnan(got[1, 1])
    np.testing.assert_allclose(sums[2:], want_sums[2:], rtol=1e-5, atol=1e-4)
    assert np.isnan(sums[0]) and np.isnan(sums[1])
    assert relu_backward(g, y, False)[1] is None


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bias_relu_compiled_pass_equals_numpy(numba, relu, with_bias) -> None:
    """The compiled bias + ReLU pass against NumPy's two passes, bit for bit, NaN kept."""
    from shendu.ops import kernels
    from shendu.ops.conv import bias_relu

    rng = np.random.default_rng(4)
    y = rng.standard_normal((300, 17)).astype(np.float32)
    y[3, 4] = np.nan
    b = rng.standard_normal(17).astype(np.float32) if with_bias else None
    previous = kernels.set_enabled(False)
    try:
        want = bias_relu(y.copy(), b, relu)
    finally:
        kernels.set_enabled(previous)
    got = y.copy()
    assert bias_relu(got, b, relu) is got
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[3, 4])
    if relu:
        assert np.nanmin(got) == 0


def test_weight_gradient_on_a_worker_equals_one_thread(monkeypatch) -> None:
    """With two threads, a large product's dW = x^T g runs on a worker while the calling thread makes dx: the
    gradients of one thread (to BLAS's rounding, whose thread count may differ between the two)."""
    from shendu import parallel
    from shendu.ops import nn

    calls = []
    submit = nn.submit
    monkeypatch.setattr(nn, "submit", lambda fn, *a: calls.append(fn) or submit(fn, *a))
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((64, 600), (600, 300), (300,)))
    g = rng.standard_normal((64, 300)).astype(np.float32)
    grads = []
    for threads in (1, 2):
        with parallel.num_threads(threads):
            y = LinearReLU.apply(*(Tensor(a, requires_grad=True) for a in (x, w, b)))
            grads.append(y.grad_fn.backward(g))
    assert calls == [np.matmul]  # the two-thread backward only (64 x 600 x 300 over OVERLAPPED_PRODUCT_WORK)
    for one, two in zip(*grads):
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-5)
