"""Winograd F(2x2, 3x3) convolutions (the compiled path for 3x3, stride 1, many channels) against PyTorch in values
and gradients, against the im2col path in float32, gradcheck in float64, and the cases it leaves to im2col."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.ops import conv, kernels, winograd
from shendu.ops.conv_pool import Conv2DMaxPool

pytest.importorskip("numba")
torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.fixture(autouse=True)
def compiled_loops():
    before = kernels.set_enabled(True)
    yield
    kernels.set_enabled(before)


def conv_values_and_grads(x, k, b, padding, relu):
    ts = [sd.Tensor(a, requires_grad=True) for a in (x, k, b)]
    y = conv.Conv2D.apply(*ts, padding=padding, relu=relu)
    y.backward(np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype))
    return [y.numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("shape", "filters", "mode", "relu"), [
    ((2, 13, 13, 16), 8, "valid", True),   # odd output: the last tile half outside
    ((3, 10, 7, 16), 5, "same", False),
    ((1, 4, 3, 24), 3, "valid", False),    # one row and one column of tiles
])
def test_winograd_conv_matches_torch(monkeypatch, shape, filters, mode, relu, threads):
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    before = parallel.get_num_threads()
    parallel.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        x, k = rng.standard_normal(shape), rng.standard_normal((3, 3, shape[3], filters))
        b = rng.standard_normal(filters)
        padding = tuple(conv.explicit_padding(mode, n, 3, 1) for n in shape[1:3])
        op = conv.Conv2D(padding=padding)
        op.forward(x, k, b)
        assert op.winograd
        y, dx, dk, db = conv_values_and_grads(x, k, b, padding, relu)
    finally:
        parallel.set_num_threads(before)
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    kt = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    (top, bottom), (left, right) = padding
    yt = F.conv2d(F.pad(xt, (left, right, top, bottom)), kt, bt)
    yt = F.relu(yt) if relu else yt
    yt.backward(torch.tensor(np.random.default_rng(1).standard_normal(y.shape).transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_winograd_float32_is_close_to_im2col():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 13, 13, 32)).astype(np.float32)
    k = (rng.standard_normal((3, 3, 32, 64)) * 0.1).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    fast = conv_values_and_grads(x, k, b, ((0, 0), (0, 0)), True)
    kernels.set_enabled(False)
    plain = conv_values_and_grads(x, k, b, ((0, 0), (0, 0)), True)
    for got, want in zip(fast, plain):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_winograd_gradcheck_and_fused_pool():
    rng = np.random.default_rng(3)
    x, k, b = rng.standard_normal((1, 6, 5, 16)), rng.standard_normal((3, 3, 16, 2)), rng.standard_normal(2)
    assert sd.gradcheck(lambda *t: conv.Conv2D.apply(*t, padding=((1, 1), (0, 1))), [x, k, b])
    params = {"conv": {}, "pool": {"pool_size": (2, 2), "strides": (2, 2)}, "relu": True}
    fused = Conv2DMaxPool(**params)
    fused.forward(x, k, b)
    assert fused.conv.winograd
    assert sd.gradcheck(lambda *t: Conv2DMaxPool.apply(*t, **params), [x, k, b])


@pytest.mark.parametrize(("kshape", "params"), [
    ((3, 3, 8, 4), {}),                       # too few channels: the transforms would cost more than they save
    ((3, 3, 16, 4), {"strides": (2, 2)}),
    ((3, 3, 16, 4), {"dilation": (2, 1)}),
    ((3, 3, 8, 4), {"groups": 2}),
    ((2, 2, 16, 4), {}),
])
def test_other_convolutions_stay_on_im2col(kshape, params):
    x = np.zeros((1, 9, 9, 16))
    assert not winograd.applies(x, np.zeros(kshape), params.get("strides", (1, 1)),
                                params.get("dilation", (1, 1)), params.get("groups", 1))
    assert winograd.applies(x, np.zeros((3, 3, 16, 4)), (1, 1), (1, 1), 1)
    kernels.set_enabled(False)
    assert not winograd.applies(x, np.zeros((3, 3, 16, 4)), (1, 1), (1, 1), 1)
