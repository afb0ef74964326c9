"""The int8 layers of `model.quantize("int8")` in QDQ form, the ONNX layout of a quantized model that ONNX Runtime
turns into its int8 kernels: each kernel is stored as int8 with its per-channel scale and dequantized by a
DequantizeLinear (axis = the output channel); a calibrated layer's input goes through QuantizeLinear and
DequantizeLinear with its static scale, so the graph computes what shendu does, round(x s_x) / s_x times q / s_w.

ONNX's scale is a step (x = q * step), shendu's a multiplier (q = x * scale): step = 1 / scale. The zero points are
0 (symmetric). One difference: ONNX's int8 saturates at -128 where shendu clips at -127, so an input beyond the
calibrated range by more than a step may differ by that one step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.compression.quantized_layers import QuantizedConv1D, QuantizedConv2D, QuantizedDense, QuantizedEmbedding
from shendu.onnx.activations import apply_activation
from shendu.onnx.conv import _bias, _finish, conv_pads
from shendu.onnx.dense import zero_mask
from shendu.onnx.graph import Call, OnnxGraph, weight
from shendu.onnx.registry import converts


def dequantized_kernel(g: OnnxGraph, q: np.ndarray, scale: np.ndarray, axis: int, hint: str) -> str:
    """DequantizeLinear(q, 1 / scale, 0) per channel along `axis`: the int8 kernel stays int8 in the file."""
    step = g.const((1.0 / scale.astype(np.float64)).astype(np.float32), f"{hint}/kernel_step", np.float32)
    zero = g.const(np.zeros(scale.shape, np.int8), f"{hint}/kernel_zero_point", np.int8)
    kernel = g.op("DequantizeLinear", [g.const(q, f"{hint}/kernel_int8", np.int8), step, zero], f"{hint}/kernel",
                  axis=axis)
    return kernel if g.float == np.float32 else g.cast(kernel, g.float, f"{hint}/kernel_cast")


def quantized_input(g: OnnxGraph, layer: Any, x: str) -> str:
    """For a calibrated layer, x rounded to int8 steps of its static range: DequantizeLinear(QuantizeLinear(x))."""
    if not layer.input_quantization:
        return x
    hint = layer.name
    if g.float != np.float32:
        x = g.cast(x, np.float32, f"{hint}/input_cast")
    step = g.const(np.float32(1.0 / float(weight(layer.inputs_scale))), f"{hint}/input_step", np.float32)
    zero = g.const(np.int8(0), f"{hint}/input_zero_point", np.int8)
    x_q = g.op("QuantizeLinear", [x, step, zero], f"{hint}/input_int8")
    x = g.op("DequantizeLinear", [x_q, step, zero], f"{hint}/input_dequantized")
    return x if g.float == np.float32 else g.cast(x, g.float, f"{hint}/input_uncast")


@converts(QuantizedDense)
def _quantized_dense(g: OnnxGraph, call: Call) -> str:
    """activation(DQ(Q(x)) @ DQ(kernel) + bias), the kernel's scale per unit (axis 1)."""
    layer, x = call.layer, call.x.name
    if call.x.dtype != g.float:
        x = g.cast(x, g.float, f"{layer.name}/cast")
    q, scale = layer.quantized_weights()
    y = g.op("MatMul", [quantized_input(g, layer, x), dequantized_kernel(g, q, scale, 1, layer.name)],
             f"{layer.name}/matmul")
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(weight(layer.bias), f"{layer.name}/bias")], f"{layer.name}/bias_add")
    return apply_activation(g, y, layer.activation, layer.name, call.who())


@converts(QuantizedConv1D, QuantizedConv2D)
def _quantized_conv(g: OnnxGraph, call: Call) -> str:
    """Conv(DQ(Q(x)), DQ(kernel), bias) with the int8 kernel (k..., in / groups, out) laid out as (out, in /
    groups, k...) and its scale per filter (axis 0)."""
    layer, rank = call.layer, call.layer.rank
    q, scale = layer.quantized_weights()
    q = np.transpose(q, (rank + 1, rank, *range(rank)))
    x = quantized_input(g, layer, g.to_channels_first(call.x.name, rank, layer.name))
    attrs = conv_pads(layer.padding, call.x.shape[1:-1], layer.kernel_size, layer.strides, layer.dilation_rate)
    y = g.op("Conv", [x, dequantized_kernel(g, q, scale, 0, layer.name), _bias(g, layer)], f"{layer.name}/conv",
             kernel_shape=list(layer.kernel_size), strides=list(layer.strides), dilations=list(layer.dilation_rate),
             group=layer.groups, **attrs)
    return _finish(g, call, y, rank)


@converts(QuantizedEmbedding)
def _quantized_embedding(g: OnnxGraph, call: Call) -> str:
    """The int8 rows and their scales gathered, then row / scale: only the looked-up rows are dequantized."""
    layer = call.layer
    q, scale = layer.quantized_weights()
    ids = g.cast(call.x.name, "int64", f"{layer.name}/ids")
    rows = g.op("Gather", [g.const(q, f"{layer.name}/embeddings_int8", np.int8), ids], f"{layer.name}/rows", axis=0)
    steps = g.op("Gather", [g.const((1.0 / scale.astype(np.float64))[:, None], f"{layer.name}/embeddings_step"), ids],
                 f"{layer.name}/row_steps", axis=0)
    out = g.op("Mul", [g.cast(rows, g.float, f"{layer.name}/rows_float"), steps], layer.name)
    call.masks = [zero_mask(g, call.x.name, layer.name) if layer.mask_zero else None]
    return out
