"""The NumPy path of the fused conv + max pool that computes the convolution phase by phase
(`shendu.ops.conv_pool_phases`) against the op's reference path (the convolution, then the pool): values and
gradients in float64, in one piece and in chunks on two threads; and where it is chosen."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.ops import conv, conv_pool_phases, kernels
from shendu.ops.conv_pool import Conv2DMaxPool

CASES = [
    # (x shape, kernel shape, conv params, pool size, bias, input gradient)
    ((3, 12, 12, 1), (3, 3, 1, 4), {}, (2, 2), True, False),                      # a first layer on grey images
    ((2, 13, 13, 5), (3, 3, 5, 6), {}, (2, 2), True, True),                        # odd sizes: conv rows no pool uses
    ((2, 11, 10, 3), (3, 2, 3, 4), {"strides": (2, 1), "same": True}, (3, 2), False, True),
    ((2, 12, 11, 2), (2, 3, 2, 3), {"dilation": (2, 1)}, (2, 3), True, True),
]


@pytest.fixture
def numpy_path():
    before = kernels.set_enabled(False)
    yield
    kernels.set_enabled(before)


def run(case, phases, monkeypatch):
    shape, kshape, params, pool_size, bias, want_x = case
    params = dict(params)
    strides, dilation = params.get("strides", (1, 1)), params.get("dilation", (1, 1))
    mode = "same" if params.pop("same", False) else "valid"
    padding = tuple(conv.explicit_padding(mode, n, k, s, d) for n, k, s, d in zip(shape[1:3], kshape[:2], strides,
                                                                                   dilation))
    if not phases:
        monkeypatch.setattr(conv_pool_phases, "applies", lambda *a: False)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal(kshape)] + ([rng.standard_normal(kshape[3])] * bias)
    ts = [sd.Tensor(a, requires_grad=want_x or i > 0) for i, a in enumerate(arrays)]
    op_params = {"conv": {"strides": strides, "padding": padding, "dilation": dilation, "groups": 1},
                 "pool": {"pool_size": pool_size, "strides": pool_size}, "relu": True, "input_grad": want_x}
    y = Conv2DMaxPool.apply(*ts, **op_params)
    assert y.grad_fn.phases is phases
    y.backward(np.random.default_rng(1).standard_normal(y.shape))
    monkeypatch.undo()
    return [y.numpy()] + [t.grad.numpy() for t in ts if t.requires_grad]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_phases_equal_the_convolution_then_the_pool(case, threads, numpy_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    with parallel.num_threads(threads):
        fast = run(case, True, monkeypatch)
        monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
        plain = run(case, False, monkeypatch)
    assert len(fast) == len(plain) == 3 + case[4] - (not case[5])
    for got, want in zip(fast, plain):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_phases_gradcheck(numpy_path):
    rng = np.random.default_rng(3)
    x, k, b = rng.standard_normal((1, 7, 6, 2)), rng.standard_normal((3, 3, 2, 2)), rng.standard_normal(2)
    params = {"conv": {}, "pool": {"pool_size": (2, 2), "strides": (2, 2)}, "relu": True}
    assert sd.gradcheck(lambda *t: Conv2DMaxPool.apply(*t, **params), [x, k, b])


@pytest.mark.parametrize(("pool", "groups", "expected"), [
    ({"pool_size": (2, 2), "strides": (2, 2)}, 1, True),
    ({"pool_size": (3, 3), "strides": (2, 2)}, 1, False),                                    # overlapping windows
    ({"pool_size": (2, 2), "strides": (2, 2), "padding": ((0, 1), (0, 1))}, 1, False),       # a padded pool
    ({"pool_size": (2, 2), "strides": (2, 2)}, 2, False),                                    # grouped convolution
])
def test_phases_run_only_where_the_windows_tile_and_without_numba(pool, groups, expected, compiled):
    x, k = np.zeros((2, 9, 9, 4)), np.zeros((3, 3, 4 // groups, 4))
    op = Conv2DMaxPool(conv={"groups": groups}, pool=pool)
    op.forward(x, k)
    assert op.phases is (expected and not compiled)
