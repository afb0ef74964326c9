"""Pooling and upsampling ops (NHWC) against PyTorch in values and gradients, TF's 'same' conventions
(max pools padded with -inf, averages over the real pixels only), ties, and gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.ops import conv, pool, resize


def nchw(torch, x):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def forward_backward(op, x, **params):
    xs = sd.Tensor(x, requires_grad=True)
    y = op.apply(xs, **params)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    return y.numpy(), g, xs.grad.numpy()


POOL_CASES = [
    # (N, H, W, C, pool, strides, padding)
    (2, 6, 6, 3, (2, 2), (2, 2), "valid"),
    (2, 7, 5, 3, (2, 2), (2, 2), "valid"),
    (2, 7, 5, 3, (2, 2), (2, 2), "same"),
    (2, 7, 5, 3, (3, 2), (2, 1), "same"),
    (1, 5, 8, 2, (3, 3), (1, 2), "same"),
    (1, 9, 9, 2, (3, 3), (3, 3), "valid"),
    (1, 9, 8, 2, (3, 3), (2, 2), "valid"),
    (1, 5, 6, 2, (2, 3), (3, 2), "same"),
    (2, 1, 7, 3, (1, 3), (1, 2), "same"),
]


def padding_of(case):
    _, h, w, _, p, s, mode = case
    return tuple(conv.explicit_padding(mode, n, k, st) for n, k, st in zip((h, w), p, s))


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "-".join(map(str, c)))
def test_max_pool_matches_torch(torch, case, compiled):
    F = torch.nn.functional
    n, h, w, c, p, s, mode = case
    x = np.random.default_rng(0).standard_normal((n, h, w, c))
    padding = padding_of(case)
    y, g, dx = forward_backward(pool.MaxPool2D, x, pool_size=p, strides=s, padding=padding)
    assert y.shape[1:3] == (conv.conv_output_length(h, p[0], s[0], mode), conv.conv_output_length(w, p[1], s[1], mode))
    xt = nchw(torch, x)
    (top, bottom), (left, right) = padding
    yt = F.max_pool2d(F.pad(xt, (left, right, top, bottom), value=-np.inf), p, s)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-12)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "-".join(map(str, c)))
def test_avg_pool_matches_torch_counting_only_real_pixels(torch, case):
    F = torch.nn.functional
    n, h, w, c, p, s, _ = case
    x = np.random.default_rng(0).standard_normal((n, h, w, c))
    padding = padding_of(case)
    y, g, dx = forward_backward(pool.AvgPool2D, x, pool_size=p, strides=s, padding=padding)
    xt = nchw(torch, x)
    (top, bottom), (left, right) = padding
    pads = (left, right, top, bottom)
    total = F.avg_pool2d(F.pad(xt, pads), p, s, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(xt), pads), p, s, divisor_override=1)
    yt = total / count
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-12)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-12)


def test_same_avg_pool_corner_is_mean_of_real_pixels():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    padding = tuple(conv.explicit_padding("same", 3, 2, 2) for _ in range(2))  # (0, 1) on both axes
    y = pool.AvgPool2D.apply(sd.Tensor(x), pool_size=(2, 2), strides=(2, 2), padding=padding).numpy()[0, :, :, 0]
    np.testing.assert_allclose(y, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]])


@pytest.mark.parametrize("window", [(2, 2), (3, 3)])
def test_max_pool_ties_route_to_the_first_maximum_like_torch(torch, window, compiled):
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, (2, 6, 6, 3)).astype(np.float64)  # many ties
    _, g, dx = forward_backward(pool.MaxPool2D, x, pool_size=window, strides=window)
    xt = nchw(torch, x)
    F.max_pool2d(xt, window).backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(dx, nhwc(xt.grad))


def test_max_pool_float32_and_preserves_dtype(compiled):
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    xs = sd.Tensor(x, requires_grad=True)
    y = pool.MaxPool2D.apply(xs, pool_size=(2, 2), strides=(2, 2))
    y.sum().backward()
    assert y.dtype == np.float32 and xs.grad.dtype == np.float32
    assert xs.grad.numpy().sum() == y.size  # one winner per window


def test_pool_rejects_images_smaller_than_the_window():
    with pytest.raises(ValueError, match="smaller than the pool size"):
        pool.MaxPool2D.apply(sd.Tensor(np.zeros((1, 1, 4, 1))), pool_size=(2, 2), strides=(2, 2))


@pytest.mark.parametrize("op", [pool.MaxPool2D, pool.AvgPool2D])
@pytest.mark.parametrize(("pool_size", "strides", "padding"), [
    ((2, 2), (2, 2), ((0, 0), (0, 0))),
    ((3, 2), (1, 2), ((1, 1), (0, 1))),
])
def test_pool_gradcheck(op, pool_size, strides, padding, compiled):
    x = np.random.default_rng(2).permutation(60).reshape(1, 5, 4, 3) * 0.1  # distinct values: no ties
    assert sd.gradcheck(lambda t: op.apply(t, pool_size=pool_size, strides=strides, padding=padding), [x])


def test_upsample_nearest_matches_torch(torch):
    F = torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2))
    y, g, dx = forward_backward(resize.UpSampleNearest2D, x, size=(2, 3))
    xt = nchw(torch, x)
    yt = F.interpolate(xt, scale_factor=(2, 3), mode="nearest")
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt))
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-12)


@pytest.mark.parametrize(("hw", "out_hw"), [((3, 4), (6, 8)), ((2, 5), (6, 5)), ((4, 4), (5, 7))])
def test_resize_bilinear_matches_torch_half_pixel(torch, hw, out_hw):
    F = torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, *hw, 3))
    y, g, dx = forward_backward(resize.ResizeBilinear, x, out_hw=out_hw)
    xt = nchw(torch, x)
    yt = F.interpolate(xt, size=out_hw, mode="bilinear", align_corners=False)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("op", "params"), [
    (resize.UpSampleNearest2D, {"size": (2, 2)}),
    (resize.ResizeBilinear, {"out_hw": (5, 4)}),
])
def test_resize_gradcheck(op, params):
    x = np.random.default_rng(3).standard_normal((1, 2, 3, 2))
    assert sd.gradcheck(lambda t: op.apply(t, **params), [x])
