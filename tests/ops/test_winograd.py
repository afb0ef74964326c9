"""Winograd F(4x4, 3x3) convolutions (`Conv2DWinograd`): the matrices and the NumPy reference transforms, the
compiled transforms against that reference, the op against the im2col Conv2D with either set of transforms (float64
and float32) and against PyTorch, gradcheck in float64, and where `conv2d` chooses it."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.ops import conv, kernels, winograd
from shendu.ops.conv_pool import Conv2DMaxPool

REFERENCE = ["input_transform", "output_transform", "output_transform_grad", "input_transform_grad"]


@pytest.fixture
def reference_calls(monkeypatch):
    """The names of the NumPy reference transforms called."""
    calls = []
    for name in REFERENCE:
        fn = getattr(winograd, name)
        monkeypatch.setattr(winograd, name, lambda *a, _fn=fn, _name=name: calls.append(_name) or _fn(*a))
    return calls


@pytest.fixture
def threads(monkeypatch):
    """Sets the number of threads (chunks even for small images); restored afterwards."""
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    with parallel.num_threads(parallel.get_num_threads()):
        yield parallel.set_num_threads


def test_the_matrices_give_a_4x4_block_of_the_3x3_correlation():
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    u, v = winograd.G @ g @ winograd.G.T, winograd.B_T @ d @ winograd.B_T.T
    y = winograd.A_T @ (u * v) @ winograd.A_T.T
    np.testing.assert_allclose(y, [[(d[i:i + 3, j:j + 3] * g).sum() for j in range(4)] for i in range(4)], rtol=1e-12)


# padded inputs of a valid 3x3 convolution: whole tiles, the last tiles partly outside (11x11 outputs: the tutorial
# CNN's second layer), one tile, and one row of tiles one pixel high
TRANSFORM_SHAPES = [(2, 10, 6, 3), (1, 13, 13, 4), (3, 4, 3, 2), (1, 3, 11, 2)]


def transform_arrays(shape, dtype, seed=0):
    """Random arguments of the four transforms for padded images of `shape`, and the tile counts."""
    rng = np.random.default_rng(seed)
    n, h, w, c = shape
    th, tw = winograd.tiles(h - 2, w - 2)
    x = rng.standard_normal(shape).astype(dtype)
    m = rng.standard_normal((winograd.POSITIONS, n * th * tw, c)).astype(dtype)
    g = rng.standard_normal((n, h - 2, w - 2, c)).astype(dtype)
    return th, tw, x, m, g


@pytest.mark.parametrize("shape", TRANSFORM_SHAPES)
def test_reference_transforms_are_the_tile_formulas_and_their_adjoints(shape):
    th, tw, x, m, g = transform_arrays(shape, np.float64)
    n, h, w, c = shape
    v = winograd.input_transform(x, th, tw, np.empty(m.shape))
    xz = np.pad(x, ((0, 0), (0, 4 * th + 2 - h), (0, 4 * tw + 2 - w), (0, 0)))  # zeros past the images
    tile = xz[n - 1, 4 * th - 4:4 * th + 2, 4 * tw - 4:4 * tw + 2, c - 1]  # the last tile of the last image
    np.testing.assert_allclose(v[:, -1, -1].reshape(6, 6), winograd.B_T @ tile @ winograd.B_T.T, rtol=1e-12)
    y = winograd.output_transform(m, th, tw, np.empty(g.shape), np.empty(0))
    block = winograd.A_T @ m[:, 0, 0].reshape(6, 6) @ winograd.A_T.T  # the first tile of the first image
    np.testing.assert_allclose(y[0, :4, :4, 0], block[:h - 2, :w - 2], rtol=1e-12)  # the part inside the output
    # <T a, b> = <a, T' b> for each transform T and its adjoint T'
    np.testing.assert_allclose((y * g).sum(), (m * winograd.output_transform_grad(g, th, tw, np.empty(m.shape))).sum(),
                               rtol=1e-12)
    np.testing.assert_allclose((v * m).sum(), (x * winograd.input_transform_grad(m, th, tw, np.zeros(shape))).sum(),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", TRANSFORM_SHAPES)
def test_compiled_transforms_equal_the_reference(numba, shape, dtype):
    th, tw, x, m, g = transform_arrays(shape, dtype)
    start = np.random.default_rng(1).standard_normal(shape).astype(dtype)  # the input gradient adds into it
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for loop, reference, arg, out in [
        (kernels.winograd_input, winograd.input_transform, x, np.full(m.shape, np.nan, dtype)),
        (kernels.winograd_output, winograd.output_transform, m, np.full(g.shape, np.nan, dtype)),
        (kernels.winograd_output_grad, winograd.output_transform_grad, g, np.full(m.shape, np.nan, dtype)),
        (kernels.winograd_input_grad, winograd.input_transform_grad, m, start),
    ]:
        got, want = out.copy(), out.copy()
        bias = (np.arange(shape[3], dtype=dtype),) if reference is winograd.output_transform else ()
        loop(arg, th, tw, got, *bias)
        reference(arg, th, tw, want, *bias)
        assert not np.isnan(want).any()  # every element written
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=reference.__name__)


def values_and_grads(op, arrays, want_x=True, **params):
    ts = [sd.Tensor(a, requires_grad=want_x or i > 0) for i, a in enumerate(arrays)]
    y = op.apply(*ts, **params)
    y.backward(np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype))
    return [y.numpy()] + [t.grad.numpy() for t in ts if t.requires_grad]


CONV_CASES = [
    # (x shape, filters, padding mode, relu, bias, input gradient)
    ((2, 13, 13, 16), 8, "valid", True, True, True),   # 11x11 outputs: the last tiles partly outside
    ((3, 10, 7, 5), 4, "same", False, True, True),     # few channels: Conv2DWinograd still computes it
    ((1, 4, 3, 24), 3, "valid", False, False, True),   # one tile, mostly outside
    ((5, 11, 10, 16), 4, "same", True, True, True),    # several blocks of images (BLOCK_BYTES made small)
    ((2, 8, 9, 16), 6, "same", True, True, False),     # a first layer: no input gradient
]


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("case", CONV_CASES)
def test_winograd_equals_im2col(case, n_threads, threads, compiled, reference_calls, monkeypatch):
    shape, filters, mode, relu, bias, want_x = case
    monkeypatch.setattr(winograd, "BLOCK_BYTES", 36 * 9 * 4 * 8 * 2)  # blocks of 1-2 images (9 tiles, float64)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal((3, 3, shape[3], filters))]
    arrays += [rng.standard_normal(filters)] if bias else []
    padding = tuple(conv.explicit_padding(mode, n, 3, 1) for n in shape[1:3])
    threads(n_threads)
    fast = values_and_grads(conv.Conv2DWinograd, arrays, want_x, padding=padding, relu=relu)
    chunks = min(n_threads, shape[0])
    if compiled:
        assert reference_calls == []
    else:  # one input and one output-gradient transform per chunk, the others once per block at least
        assert reference_calls.count("input_transform") == reference_calls.count("output_transform_grad") == chunks
        assert reference_calls.count("output_transform") >= chunks
        assert ("input_transform_grad" in reference_calls) == want_x
    plain = values_and_grads(conv.Conv2D, arrays, want_x, padding=padding, relu=relu)
    assert len(fast) == len(plain)
    for got, want in zip(fast, plain):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("n", "limit", "expected"), [
    (32, 36 * 9 * 64 * 4 * 32, [32]),          # the whole chunk fits one block
    (32, 36 * 9 * 64 * 4 * 25, [16, 16]),      # 25 images fit: two even blocks, not 25 + 7
    (5, 36 * 9 * 64 * 4 // 2, [1] * 5),        # not even one image fits: one image a block
    (0, 1 << 21, []),
])
def test_blocks_are_as_few_and_as_even_as_the_limit_allows(n, limit, expected, monkeypatch):
    monkeypatch.setattr(winograd, "BLOCK_BYTES", limit)
    parts = winograd.blocks(n, 9, 64, 4)
    assert [p[0].stop - p[0].start for p in parts] == expected
    assert [p[0].start for p in parts] == [sum(expected[:i]) for i in range(len(expected))]
    assert all(p[1] == slice(p[0].start * 9, p[0].stop * 9) for p in parts)


def test_winograd_float32_is_close_to_im2col(compiled):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 13, 13, 32)).astype(np.float32)
    k = (rng.standard_normal((3, 3, 32, 64)) * 0.1).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    fast = values_and_grads(conv.Conv2DWinograd, [x, k, b], relu=True)
    plain = values_and_grads(conv.Conv2D, [x, k, b], relu=True)
    for got, want in zip(fast, plain):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize(("shape", "filters", "mode"), [((2, 9, 9, 16), 5, "same"), ((1, 6, 5, 3), 2, "valid")])
def test_winograd_matches_torch(torch, shape, filters, mode, compiled):
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x, k, b = rng.standard_normal(shape), rng.standard_normal((3, 3, shape[3], filters)), rng.standard_normal(filters)
    padding = tuple(conv.explicit_padding(mode, n, 3, 1) for n in shape[1:3])
    y, dx, dk, db = values_and_grads(conv.Conv2DWinograd, [x, k, b], padding=padding, relu=True)
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    kt = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    (top, bottom), (left, right) = padding
    yt = F.relu(F.conv2d(F.pad(xt, (left, right, top, bottom)), kt, bt))
    yt.backward(torch.tensor(np.random.default_rng(1).standard_normal(y.shape).transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_winograd_gradcheck_alone_and_in_the_fused_pool(compiled):
    rng = np.random.default_rng(3)
    x, k, b = rng.standard_normal((1, 6, 5, 16)), rng.standard_normal((3, 3, 16, 2)), rng.standard_normal(2)
    assert sd.gradcheck(lambda *t: conv.Conv2DWinograd.apply(*t, padding=((1, 1), (0, 1)), relu=True), [x, k, b])
    params = {"conv": {}, "pool": {"pool_size": (2, 2), "strides": (2, 2)}, "relu": True}
    fused = Conv2DMaxPool(**params)
    fused.forward(x, k, b)
    assert type(fused.conv) is (conv.Conv2DWinograd if compiled else conv.Conv2D)
    assert sd.gradcheck(lambda *t: Conv2DMaxPool.apply(*t, **params), [x, k, b])


@pytest.mark.parametrize(("kshape", "params"), [
    ((3, 3, 8, 4), {}),                       # too few channels: the transforms would cost more than they save
    ((3, 3, 16, 4), {"strides": (2, 2)}),
    ((3, 3, 16, 4), {"dilation": (2, 1)}),
    ((3, 3, 8, 4), {"groups": 2}),
    ((2, 2, 16, 4), {}),
])
def test_conv2d_chooses_winograd_only_where_it_pays(kshape, params, compiled):
    x = np.zeros((1, 9, 9, 16))
    assert conv.conv2d_class(x, np.zeros(kshape), **params) is conv.Conv2D
    chosen = conv.Conv2DWinograd if compiled else conv.Conv2D
    assert conv.conv2d_class(x, np.zeros((3, 3, 16, 4)), relu=True) is chosen
    y = conv.conv2d(sd.Tensor(x, requires_grad=True), sd.Tensor(np.zeros((3, 3, 16, 4))), padding=((1, 1), (1, 1)))
    assert type(y.grad_fn) is chosen and y.shape == (1, 9, 9, 4)


@pytest.mark.parametrize(("kshape", "params"), [((5, 5, 2, 3), {}), ((3, 3, 2, 3), {"strides": (2, 1)}),
                                                ((3, 3, 1, 4), {"groups": 2})])
def test_winograd_op_refuses_other_convolutions(kshape, params):
    x = sd.Tensor(np.zeros((1, 8, 8, 2)))
    with pytest.raises(ValueError, match="Winograd F\\(4x4, 3x3\\) needs a 3x3 kernel"):
        conv.Conv2DWinograd.apply(x, sd.Tensor(np.zeros(kshape)), **params)
