"""Max and average pooling (channels-first inside, as ONNX's pooling ops) and the global poolings (reductions
over the spatial axes, a masked mean for GlobalAveragePooling1D with a Keras mask)."""

from __future__ import annotations

from shendu.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from shendu.onnx.conv import conv_pads
from shendu.onnx.graph import Call, OnnxGraph
from shendu.onnx.registry import converts


@converts(MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D)
def _pool(g: OnnxGraph, call: Call) -> str:
    """MaxPool / AveragePool; with 'same' padding the average counts only real pixels (count_include_pad=0)."""
    layer, rank = call.layer, call.layer.rank
    op = "MaxPool" if isinstance(layer, (MaxPooling1D, MaxPooling2D)) else "AveragePool"
    attrs = conv_pads(layer.padding, call.x.shape[1:-1], layer.pool_size, layer.strides, (1,) * rank)
    x = g.to_channels_first(call.x.name, rank, layer.name)
    y = g.op(op, [x], f"{layer.name}/pool", kernel_shape=list(layer.pool_size), strides=list(layer.strides),
             **attrs)
    return g.to_channels_last(y, rank, layer.name)


@converts(GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling2D)
def _global_pool(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    kind = "ReduceMean" if isinstance(layer, GlobalAveragePooling2D) else "ReduceMax"
    call.masks = [None]
    return g.reduce(kind, call.x.name, range(1, layer.rank + 1), layer.name, keepdims=layer.keepdims)


@converts(GlobalAveragePooling1D)
def _global_average_1d(g: OnnxGraph, call: Call) -> str:
    """The mean over the steps; with a Keras mask, sum(x m) / sum(m) over the unmasked steps."""
    layer, x = call.layer, call.x
    call.masks = [None]
    mask = call.kwargs.get("mask") or x.mask
    if mask is None:
        return g.reduce("ReduceMean", x.name, [1], layer.name, keepdims=layer.keepdims)
    name = mask if isinstance(mask, str) else mask.name
    w = g.unsqueeze(g.cast(name, x.dtype, f"{layer.name}/weights"), [-1], f"{layer.name}/weights3")
    total = g.reduce("ReduceSum", g.op("Mul", [x.name, w], f"{layer.name}/masked"), [1], f"{layer.name}/total",
                     keepdims=layer.keepdims)
    count = g.reduce("ReduceSum", w, [1], f"{layer.name}/count", keepdims=layer.keepdims)
    return g.op("Div", [total, count], layer.name)
