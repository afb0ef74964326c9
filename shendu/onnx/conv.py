"""The convolutions: Keras's channels-last tensors are transposed to ONNX's channels-first around each Conv
(ONNX Runtime's optimizer cancels the transposes between consecutive layers), kernels re-laid out once."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from shendu.onnx.activations import apply_activation
from shendu.onnx.graph import Call, OnnxGraph, weight
from shendu.onnx.registry import converts
from shendu.ops import conv as conv_ops


def conv_pads(padding: str, lengths: tuple, kernel: tuple, strides: tuple, dilation: tuple) -> dict[str, Any]:
    """ONNX's padding attributes for Keras's padding: explicit pads (all begins, then all ends) where the spatial
    sizes are known, SAME_UPPER (the odd pixel after, as TF) where they are not."""
    if padding == "same" and any(n is None for n in lengths):
        return {"auto_pad": "SAME_UPPER"}
    pairs = [conv_ops.explicit_padding(padding, n or 1, k, s, d)
             for n, k, s, d in zip(lengths, kernel, strides, dilation)]
    return {"pads": [p[0] for p in pairs] + [p[1] for p in pairs]}


def _finish(g: OnnxGraph, call: Call, y: str, rank: int) -> str:
    layer = call.layer
    y = g.to_channels_last(y, rank, layer.name)
    return apply_activation(g, y, layer.activation, layer.name, call.who())


def _bias(g: OnnxGraph, layer: Any) -> str | None:
    return g.const(weight(layer.bias), f"{layer.name}/bias") if layer.bias is not None else None


@converts(Conv1D, Conv2D)
def _conv(g: OnnxGraph, call: Call) -> str:
    """Conv with kernel (k..., in / groups, out) -> (out, in / groups, k...)."""
    layer, rank = call.layer, call.layer.rank
    kernel = weight(layer.kernel)
    w = np.transpose(kernel, (rank + 1, rank, *range(rank)))
    x = g.to_channels_first(call.x.name, rank, layer.name)
    attrs = conv_pads(layer.padding, call.x.shape[1:-1], layer.kernel_size, layer.strides, layer.dilation_rate)
    y = g.op("Conv", [x, g.const(w, f"{layer.name}/kernel"), _bias(g, layer)], f"{layer.name}/conv",
             kernel_shape=list(layer.kernel_size), strides=list(layer.strides), dilations=list(layer.dilation_rate),
             group=layer.groups, **attrs)
    return _finish(g, call, y, rank)


def _depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """(kh, kw, C, M) -> (C M, 1, kh, kw): output channel c M + m, as Keras orders them."""
    kh, kw, c, m = kernel.shape
    return np.transpose(kernel.reshape(kh, kw, c * m), (2, 0, 1))[:, None]


def _depthwise(g: OnnxGraph, call: Call, x: str, bias: str | None) -> str:
    layer = call.layer
    kernel = weight(layer.depthwise_kernel)
    attrs = conv_pads(layer.padding, call.x.shape[1:-1], layer.kernel_size, layer.strides, layer.dilation_rate)
    return g.op("Conv", [x, g.const(_depthwise_kernel(kernel), f"{layer.name}/depthwise_kernel"), bias],
                f"{layer.name}/depthwise", kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                dilations=list(layer.dilation_rate), group=int(kernel.shape[2]), **attrs)


@converts(DepthwiseConv2D)
def _depthwise_conv(g: OnnxGraph, call: Call) -> str:
    x = g.to_channels_first(call.x.name, 2, call.layer.name)
    return _finish(g, call, _depthwise(g, call, x, _bias(g, call.layer)), 2)


@converts(SeparableConv2D)
def _separable_conv(g: OnnxGraph, call: Call) -> str:
    """The depthwise Conv, then a 1x1 Conv with the pointwise kernel and the bias."""
    layer = call.layer
    mid = _depthwise(g, call, g.to_channels_first(call.x.name, 2, layer.name), None)
    w = np.transpose(weight(layer.pointwise_kernel), (3, 2, 0, 1))
    y = g.op("Conv", [mid, g.const(w, f"{layer.name}/pointwise_kernel"), _bias(g, layer)], f"{layer.name}/pointwise",
             kernel_shape=[1, 1])
    return _finish(g, call, y, 2)


@converts(Conv2DTranspose)
def _conv_transpose(g: OnnxGraph, call: Call) -> str:
    """ConvTranspose with kernel (kh, kw, out, in) -> (in, out, kh, kw). Keras keeps the full output
    ((L - 1) s + k_eff) from `crop` on for its output length: pads cut it, output_padding extends it."""
    layer = call.layer
    w = np.transpose(weight(layer.kernel), (3, 2, 0, 1))
    begins, ends, extra = [], [], []
    out_pads = layer.output_padding or (None, None)
    for k, s, p, d in zip(layer.kernel_size, layer.strides, out_pads, layer.dilation_rate):
        length = 8  # the crops below do not depend on the input length
        k_eff = (k - 1) * d + 1
        full = (length - 1) * s + k_eff
        crop = conv_ops.conv_transpose_crop(k, s, layer.padding, p, d)
        out = conv_ops.conv_transpose_output_length(length, k, s, layer.padding, p, d)
        more = out - (full - crop)
        begins.append(crop)
        ends.append(max(-more, 0))
        extra.append(max(more, 0))
    x = g.to_channels_first(call.x.name, 2, layer.name)
    y = g.op("ConvTranspose", [x, g.const(w, f"{layer.name}/kernel"), _bias(g, layer)], f"{layer.name}/deconv",
             kernel_shape=list(layer.kernel_size), strides=list(layer.strides), dilations=list(layer.dilation_rate),
             pads=begins + ends, output_padding=extra)
    return _finish(g, call, y, 2)
