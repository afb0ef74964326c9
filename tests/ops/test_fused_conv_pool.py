"""The fused Conv2D + ReLU + MaxPool2D op against the three ops one after the other (values and gradients, in one
piece and in chunks on two threads, its convolution im2col or Winograd), and gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.ops import conv, pool
from shendu.ops.conv_pool import Conv2DMaxPool

CASES = [
    # (x shape, kernel shape, conv params, pool params, relu)
    ((5, 9, 8, 3), (3, 3, 3, 4), {"padding": ((1, 1), (0, 1)), "strides": (1, 2)},
     {"pool_size": (2, 2), "strides": (2, 2), "padding": ((0, 1), (0, 1))}, True),
    ((4, 11, 11, 2), (3, 3, 2, 5), {}, {"pool_size": (3, 2), "strides": (2, 1)}, False),
    ((4, 12, 12, 4), (3, 3, 2, 6), {"groups": 2, "dilation": (2, 1)}, {"pool_size": (2, 2), "strides": (2, 2)}, True),
    ((3, 8, 8, 1), (3, 3, 1, 4), {}, {"pool_size": (2, 2), "strides": (2, 2)}, True),
    # 3x3 over 16 channels: a Winograd convolution inside when the compiled loops run
    ((3, 8, 9, 16), (3, 3, 16, 5), {"padding": ((1, 1), (1, 1))}, {"pool_size": (2, 2), "strides": (2, 2)}, True),
    ((2, 9, 8, 16), (3, 3, 16, 3), {}, {"pool_size": (3, 2), "strides": (2, 2)}, False),
    # 11x11 conv outputs pooled 2x2 in the output transform: the odd last row and column in no window
    ((2, 13, 13, 16), (3, 3, 16, 4), {}, {"pool_size": (2, 2), "strides": (2, 2)}, False),
]


def unfused(x, k, b, conv_params, pool_params, relu):
    y = conv.Conv2D.apply(x, k, b, **conv_params)
    return pool.MaxPool2D.apply(sd.maximum(y, 0.0) if relu else y, **pool_params)


def values_and_grads(fn, arrays):
    ts = [sd.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(np.random.default_rng(5).standard_normal(y.shape))
    return [y.numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_fused_op_matches_the_ops_one_by_one(monkeypatch, case, threads, compiled):
    shape, kshape, conv_params, pool_params, relu = case
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)  # chunks even for these small images
    with parallel.num_threads(threads):
        rng = np.random.default_rng(0)
        arrays = [rng.standard_normal(shape), rng.standard_normal(kshape), rng.standard_normal(kshape[-1]) - 0.5]
        want = values_and_grads(lambda *t: unfused(*t, conv_params, pool_params, relu), arrays)
        got = values_and_grads(lambda *t: Conv2DMaxPool.apply(*t, conv=conv_params, pool=pool_params, relu=relu),
                               arrays)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c[-1]])
def test_relu_conv_then_max_pool_equals_the_separate_relu(case, compiled):
    """A ReLU convolution followed by a max pool, as two ops: the convolution masks the gradient the pool sends
    it, as a separate ReLU would."""
    shape, kshape, conv_params, pool_params, _ = case
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape), rng.standard_normal(kshape), rng.standard_normal(kshape[-1]) - 0.5]
    got = values_and_grads(lambda x, k, b: pool.MaxPool2D.apply(conv.Conv2D.apply(x, k, b, relu=True, **conv_params),
                                                                **pool_params), arrays)
    want = values_and_grads(lambda *t: unfused(*t, conv_params, pool_params, True), arrays)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_fused_op_gradcheck_and_first_layer_without_input_gradient(compiled):
    rng = np.random.default_rng(1)
    x, k, b = rng.standard_normal((2, 6, 5, 2)), rng.standard_normal((2, 2, 2, 3)), rng.standard_normal(3)
    params = {"conv": {"padding": ((0, 1), (1, 0))}, "pool": {"pool_size": (2, 2), "strides": (1, 2)}, "relu": True}
    assert sd.gradcheck(lambda *t: Conv2DMaxPool.apply(*t, **params), [x, k, b])
    xs, ks = sd.Tensor(x), sd.Tensor(k, requires_grad=True)
    Conv2DMaxPool.apply(xs, ks, **params).sum().backward()
    assert xs.grad is None and ks.grad.shape == k.shape


FIRST_LAYER_CASES = [
    # (x shape, kernel shape, conv params, pool params, relu): few input taps, no input gradient
    ((5, 12, 11, 1), (3, 3, 1, 8), {}, {"pool_size": (2, 2), "strides": (2, 2)}, True),
    ((3, 10, 9, 3), (3, 3, 3, 5), {"padding": ((1, 1), (1, 1)), "strides": (1, 2)},
     {"pool_size": (3, 2), "strides": (2, 1)}, False),
    ((2, 11, 11, 2), (2, 3, 2, 4), {"dilation": (2, 1)}, {"pool_size": (2, 2), "strides": (1, 1)}, True),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", FIRST_LAYER_CASES)
def test_first_layer_compiled_loop_matches_the_ops_one_by_one(monkeypatch, case, threads, compiled):
    shape, kshape, conv_params, pool_params, relu = case
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    with parallel.num_threads(threads):
        rng = np.random.default_rng(3)
        x, k, b = rng.standard_normal(shape), rng.standard_normal(kshape), rng.standard_normal(kshape[-1]) - 0.5
        g = rng.standard_normal(unfused(sd.Tensor(x), sd.Tensor(k), sd.Tensor(b), conv_params, pool_params,
                                        relu).shape)
        results = []
        for fn in (lambda *t: unfused(*t, conv_params, pool_params, relu),
                   lambda *t: Conv2DMaxPool.apply(*t, conv=conv_params, pool=pool_params, relu=relu,
                                                  input_grad=False)):
            ks, bs = sd.Tensor(k, requires_grad=True), sd.Tensor(b, requires_grad=True)
            y = fn(sd.Tensor(x), ks, bs)
            y.backward(g)
            results.append((y.numpy(), ks.grad.numpy(), bs.grad.numpy()))
        if compiled:
            spy = Conv2DMaxPool(conv_params, pool_params, relu, input_grad=False)
            spy.forward(x, k, b)
            assert spy.direct  # the compiled loop ran, not im2col and a product
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_first_layer_compiled_loop_gradcheck_and_refuses_an_input_gradient(compiled):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 6, 1))
    params = {"conv": {}, "pool": {"pool_size": (2, 2), "strides": (2, 2)}, "relu": True, "input_grad": False}
    k, b = rng.standard_normal((3, 3, 1, 3)), rng.standard_normal(3)
    assert sd.gradcheck(lambda kt, bt: Conv2DMaxPool.apply(sd.Tensor(x), kt, bt, **params), [k, b])
    y = Conv2DMaxPool.apply(sd.Tensor(x, requires_grad=True), sd.Tensor(k), sd.Tensor(b), **params)
    with pytest.raises(RuntimeError, match="input_grad=False"):
        y.sum().backward()


@pytest.mark.parametrize("hw", [(11, 13), (14, 14)])  # conv outputs 9x11 (an odd row and column in no window), 12x12
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_in_the_winograd_transforms_equals_the_pool_beside_them(numba, monkeypatch, dtype, hw):
    """The output transform that pools (`kernels.winograd_output_pool`) and the output-gradient transform that makes
    the pool's gradient (`kernels.winograd_output_grad_pool`) give the values, winners and gradients of the
    transforms with the compiled pool between, bit for bit (the bias's gradient, summed in another order, to
    rounding): ties to the first maximum, NaN winning, and the ReLU."""
    rng = np.random.default_rng(4)
    x = rng.integers(-2, 3, (3, *hw, 16)).astype(dtype)  # small integers: many ties after the products
    x[0, 3, 4, :] = np.nan
    k, b = rng.integers(-1, 2, (3, 3, 16, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)
    k[..., :2] = 0  # these filters give the bias everywhere: every window a four-way tie
    params = {"conv": {}, "pool": {"pool_size": (2, 2), "strides": (2, 2)}, "relu": True}

    def run():
        ts = [sd.Tensor(a, requires_grad=True) for a in (x, k, b)]
        y = Conv2DMaxPool.apply(*ts, **params)
        assert isinstance(y.grad_fn.conv, conv.Conv2DWinograd)
        winners = np.concatenate([part[1] for part in y.grad_fn.parts])
        g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        g[2, 1, 1, 3] = np.nan  # the pool's gradient sends g * won: NaN to the whole window where windows tile
        y.backward(g)
        return [y.numpy(), winners] + [t.grad.numpy() for t in ts]

    fused = run()
    monkeypatch.setattr(conv.Conv2DWinograd, "pools", lambda self, pool: False)
    beside = run()
    assert fused[0].shape == (3, (hw[0] - 2) // 2, (hw[1] - 2) // 2, 5) and np.isnan(fused[0]).any()
    assert (fused[1][..., :2] == 0).all() and (fused[1] > 0).any()  # ties go to the first maximum
    for got, want in zip(fused[:-1], beside[:-1]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(fused[-1], beside[-1], rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_layer_loop_for_2x2_pools_equals_the_general_loop(numba, dtype):
    """The 2x2 pool's loop (the window's four sums side by side) gives the general loop's values and winners bit for
    bit: ties to the first maximum (a zero filter), NaN winning, the ReLU."""
    from shendu.ops import kernels

    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, (2, 9, 11, 2)).astype(dtype)
    x[1, 4, 5, 0] = np.nan
    w, b = rng.standard_normal((18, 6)).astype(dtype), rng.standard_normal(6).astype(dtype)
    w[:, 0] = 0
    geometry = (3, 3, 2, 6, 1, 1, 1, 1)
    outs = []
    for loop in (kernels._conv_max_pool4(*geometry, 2, 2), kernels._conv_max_pool_cells(*geometry, 2, 2, 2, 2)):
        out, idx = np.empty((2, 3, 4, 6), dtype), np.empty((2, 3, 4, 6), np.uint8)
        loop(x, w, b, True, out, idx)
        outs.append((out, idx))
    (out, idx), (want, want_idx) = outs
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(idx, want_idx)
    assert np.isnan(out).any() and (idx[0, ..., 0] == 0).all() and (idx > 0).any()  # image 0 has no NaN
