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
