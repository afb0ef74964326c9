"""Convolution ops (NHWC, Keras kernel layouts) against PyTorch in values and gradients, gradcheck in float64,
and the Keras/TF size and padding formulas."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.ops import conv


def nchw(torch, x):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def tf_padding(mode, hw, kernel, strides, dilation):
    return tuple(conv.explicit_padding(mode, n, k, s, d) for n, k, s, d in zip(hw, kernel, strides, dilation))


def torch_pad(torch, t, padding, value=0.0):
    (top, bottom), (left, right) = padding
    return torch.nn.functional.pad(t, (left, right, top, bottom), value=value)


def run(op, arrays, grad_seed=1, **params):
    """Forward and backward of a shendu op in float64; returns the output and the input gradients."""
    ts = [sd.Tensor(a, requires_grad=True) for a in arrays]
    y = op.apply(*ts, **params)
    g = np.random.default_rng(grad_seed).standard_normal(y.shape)
    y.backward(g)
    return y.numpy(), g, [t.grad.numpy() for t in ts]


CONV_CASES = [
    # (N, H, W, C, F, kernel, strides, dilation, groups, padding)
    (2, 7, 6, 3, 4, (3, 3), (1, 1), (1, 1), 1, "valid"),
    (2, 7, 6, 3, 4, (3, 3), (1, 1), (1, 1), 1, "same"),
    (2, 8, 7, 2, 3, (3, 2), (2, 2), (1, 1), 1, "valid"),
    (2, 8, 7, 2, 3, (3, 2), (2, 2), (1, 1), 1, "same"),
    (1, 9, 8, 2, 2, (3, 3), (1, 1), (2, 2), 1, "valid"),
    (1, 9, 8, 2, 2, (2, 3), (1, 1), (2, 1), 1, "same"),
    (1, 10, 9, 2, 3, (3, 3), (2, 3), (2, 1), 1, "same"),
    (2, 6, 6, 4, 6, (3, 3), (1, 2), (1, 1), 2, "same"),
    (2, 6, 5, 6, 3, (2, 2), (1, 1), (1, 1), 3, "valid"),
    (3, 7, 7, 1, 5, (3, 3), (1, 1), (1, 1), 1, "valid"),
    (2, 5, 6, 1, 2, (4, 4), (2, 1), (1, 1), 1, "same"),
    (2, 4, 4, 3, 2, (1, 1), (1, 1), (1, 1), 1, "valid"),
]


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_matches_torch(torch, case, relu, compiled):
    n, h, w, c, f, kernel, strides, dilation, groups, mode = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c))
    k = rng.standard_normal((*kernel, c // groups, f))
    b = rng.standard_normal(f)
    padding = tf_padding(mode, (h, w), kernel, strides, dilation)
    y, g, (dx, dk, db) = run(conv.Conv2D, [x, k, b], strides=strides, padding=padding, dilation=dilation,
                             groups=groups, relu=relu)
    xt, kt = nchw(torch, x), torch.tensor(k.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(torch_pad(torch, xt, padding), kt, bt, stride=strides, dilation=dilation,
                                    groups=groups)
    if relu:
        yt = torch.relu(yt)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    assert y.shape == (n, conv.conv_output_length(h, kernel[0], strides[0], mode, dilation[0]),
                       conv.conv_output_length(w, kernel[1], strides[1], mode, dilation[1]), f)
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv2d_float32_stays_float32_and_skips_unneeded_input_gradient():
    rng = np.random.default_rng(0)
    x = sd.Tensor(rng.standard_normal((2, 6, 6, 3), dtype=np.float32))
    k = sd.Tensor(rng.standard_normal((3, 3, 3, 4), dtype=np.float32), requires_grad=True)
    b = sd.Tensor(np.zeros(4, np.float32), requires_grad=True)
    y = conv.Conv2D.apply(x, k, b, relu=True)
    assert y.dtype == np.float32
    dx, dk, db = y.grad_fn.backward(np.ones(y.shape, np.float32))
    assert dx is None and dk.dtype == np.float32 and db.dtype == np.float32


def test_conv2d_rejects_mismatched_channels_and_small_images():
    k = sd.Tensor(np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match="2 channels"):
        conv.Conv2D.apply(sd.Tensor(np.zeros((1, 5, 5, 3))), k)
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        conv.Conv2D.apply(sd.Tensor(np.zeros((1, 4, 5, 2))), k, dilation=(2, 1))


TRANSPOSE_CASES = [
    # (N, H, W, C, F, kernel, strides, dilation, padding, output_padding)
    (2, 4, 5, 3, 2, (3, 3), (1, 1), (1, 1), "valid", None),
    (2, 4, 5, 3, 2, (3, 3), (1, 1), (1, 1), "same", None),
    (2, 4, 5, 3, 2, (3, 3), (2, 2), (1, 1), "same", None),
    (2, 4, 5, 3, 2, (3, 2), (2, 1), (1, 1), "valid", None),
    (1, 3, 4, 2, 3, (4, 3), (3, 2), (1, 2), "same", None),
    (1, 3, 4, 2, 3, (3, 3), (2, 2), (1, 1), "same", (1, 0)),
    (1, 3, 4, 2, 3, (3, 3), (2, 3), (1, 1), "valid", (1, 2)),
    (1, 3, 3, 2, 2, (2, 2), (3, 3), (1, 1), "same", None),
    (1, 3, 3, 2, 2, (2, 2), (3, 3), (1, 1), "valid", None),
    (1, 4, 3, 2, 2, (2, 3), (1, 1), (2, 2), "same", None),
]


def transpose_reference(torch, x, k, b, strides, dilation, out_hw, crop):
    """Keras's Conv2DTranspose from torch's full transposed convolution: crop `crop` leading pixels,
    extend with zeros to out_hw, then add the bias everywhere."""
    F = torch.nn.functional
    xt, kt = nchw(torch, x), torch.tensor(k.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    full = F.conv_transpose2d(xt, kt, stride=strides, dilation=dilation)
    fh, fw = full.shape[2:]
    full = F.pad(full, (0, max(0, crop[1] + out_hw[1] - fw), 0, max(0, crop[0] + out_hw[0] - fh)))
    yt = full[:, :, crop[0]:crop[0] + out_hw[0], crop[1]:crop[1] + out_hw[1]] + bt[:, None, None]
    return xt, kt, bt, yt


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_transpose_matches_torch(torch, case):
    n, h, w, c, f, kernel, strides, dilation, mode, out_pad = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c))
    k = rng.standard_normal((*kernel, f, c))
    b = rng.standard_normal(f)
    pads = out_pad or (None, None)
    out_hw = tuple(conv.conv_transpose_output_length(m, kk, s, mode, p, d)
                   for m, kk, s, p, d in zip((h, w), kernel, strides, pads, dilation))
    crop = tuple(conv.conv_transpose_crop(kk, s, mode, p, d) for kk, s, p, d in zip(kernel, strides, pads, dilation))
    y, g, (dx, dk, db) = run(conv.Conv2DTranspose, [x, k, b], out_hw=out_hw, crop=crop, strides=strides,
                             dilation=dilation)
    xt, kt, bt, yt = transpose_reference(torch, x, k, b, strides, dilation, out_hw, crop)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("length", "kernel", "stride", "mode", "out_pad", "expected", "crop"), [
    (4, 3, 2, "same", None, 8, 0),  # TF: out = L s, the forward conv pads (0, 1)
    (4, 3, 1, "same", None, 4, 1),
    (4, 4, 2, "same", None, 8, 1),
    (4, 2, 3, "same", None, 12, 0),
    (4, 3, 2, "valid", None, 9, 0),  # L s + max(k - s, 0)
    (4, 2, 3, "valid", None, 12, 0),
    (4, 3, 2, "valid", 1, 10, 0),  # (L - 1) s + k + output_padding
    (4, 3, 2, "same", 1, 8, 0),  # (L - 1) s + k % 2 + output_padding; TF's forward conv 8 -> 4 pads (0, 1)
    (4, 3, 2, "same", 0, 7, 1),  # TF's forward conv 7 -> 4 pads (1, 1)
])
def test_conv_transpose_sizes_follow_keras(length, kernel, stride, mode, out_pad, expected, crop):
    assert conv.conv_transpose_output_length(length, kernel, stride, mode, out_pad) == expected
    assert conv.conv_transpose_crop(kernel, stride, mode, out_pad) == crop


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(z), x> == <z, conv_transpose(x)> with the same kernel, strides and 'same' geometry."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2, 8, 7, 3))
    k = rng.standard_normal((3, 3, 3, 4))  # as Conv2D: (kh, kw, in=3, out=4); as Conv2DTranspose: (kh, kw, F=3, C=4)
    padding = tf_padding("same", (8, 7), (3, 3), (2, 2), (1, 1))
    y = conv.Conv2D.apply(sd.Tensor(z), sd.Tensor(k), strides=(2, 2), padding=padding).numpy()
    x = rng.standard_normal(y.shape)
    crop = (padding[0][0], padding[1][0])
    back = conv.Conv2DTranspose.apply(sd.Tensor(x), sd.Tensor(k), out_hw=(8, 7), crop=crop, strides=(2, 2)).numpy()
    np.testing.assert_allclose((y * x).sum(), (z * back).sum(), rtol=1e-10)


DEPTHWISE_CASES = [
    # (N, H, W, C, multiplier, kernel, strides, dilation, padding)
    (2, 6, 5, 3, 1, (3, 3), (1, 1), (1, 1), "valid"),
    (2, 6, 5, 3, 2, (3, 3), (1, 1), (1, 1), "same"),
    (1, 7, 8, 2, 3, (3, 2), (2, 2), (1, 1), "same"),
    (1, 9, 8, 2, 1, (3, 3), (1, 1), (2, 2), "valid"),
]


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=lambda c: "-".join(map(str, c)))
def test_depthwise_conv2d_matches_torch(torch, case):
    n, h, w, c, m, kernel, strides, dilation, mode = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c))
    k = rng.standard_normal((*kernel, c, m))
    b = rng.standard_normal(c * m)
    padding = tf_padding(mode, (h, w), kernel, strides, dilation)
    y, g, (dx, dk, db) = run(conv.DepthwiseConv2D, [x, k, b], strides=strides, padding=padding, dilation=dilation)
    xt, bt = nchw(torch, x), torch.tensor(b, requires_grad=True)
    kt = torch.tensor(k.reshape(*kernel, 1, c * m).transpose(3, 2, 0, 1), requires_grad=True)  # (C*m, 1, kh, kw)
    yt = torch.nn.functional.conv2d(torch_pad(torch, xt, padding), kt, bt, stride=strides, dilation=dilation, groups=c)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy().transpose(2, 3, 0, 1).reshape(k.shape), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("op", "shapes", "params"), [
    (conv.Conv2D, [(1, 5, 4, 2), (3, 2, 2, 2), (2,)],
     {"strides": (2, 1), "padding": ((1, 1), (0, 1)), "dilation": (1, 2), "relu": True}),
    (conv.Conv2D, [(1, 4, 4, 4), (2, 2, 2, 4)], {"groups": 2, "padding": ((0, 1), (1, 0))}),
    (conv.Conv2DTranspose, [(1, 3, 2, 2), (3, 2, 2, 2), (2,)],
     {"out_hw": (6, 5), "crop": (1, 0), "strides": (2, 2), "dilation": (1, 2)}),
    (conv.DepthwiseConv2D, [(1, 5, 4, 2), (2, 3, 2, 2), (4,)], {"strides": (2, 1), "padding": ((0, 1), (1, 1))}),
])
def test_gradcheck(op, shapes, params):
    rng = np.random.default_rng(4)
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    assert sd.gradcheck(lambda *ts: op.apply(*ts, **params), arrays)


@pytest.mark.parametrize(("length", "kernel", "stride", "mode", "dilation", "out", "pads"), [
    (28, 3, 1, "valid", 1, 26, (0, 0)),
    (28, 3, 1, "same", 1, 28, (1, 1)),
    (28, 4, 1, "same", 1, 28, (1, 2)),  # the odd pixel goes after, as TF
    (7, 3, 2, "same", 1, 4, (1, 1)),
    (8, 3, 2, "same", 1, 4, (0, 1)),
    (10, 3, 1, "causal", 2, 10, (4, 0)),
    (9, 3, 2, "valid", 2, 3, (0, 0)),
])
def test_output_lengths_and_padding_follow_keras(length, kernel, stride, mode, dilation, out, pads):
    assert conv.conv_output_length(length, kernel, stride, mode, dilation) == out
    assert conv.explicit_padding(mode, length, kernel, stride, dilation) == pads
    lo, hi = pads
    assert conv.valid_length(length + lo + hi, kernel, stride, dilation) == out  # the padded input's valid length
