"""BatchNormalization at inference (one scale and shift per channel, folded from the moving statistics) and
LayerNormalization (its formula over the normalized axes)."""

from __future__ import annotations

import numpy as np

from shendu.layers.normalization import BatchNormalization, LayerNormalization
from shendu.onnx.graph import Call, OnnxGraph, weight
from shendu.onnx.registry import converts


@converts(BatchNormalization)
def _batch_norm(g: OnnxGraph, call: Call) -> str:
    """y = x a + b with a = gamma / sqrt(moving_variance + epsilon), b = beta - moving_mean a, along `axis`."""
    layer, x = call.layer, call.x
    mean, var = weight(layer.moving_mean).astype(np.float64), weight(layer.moving_variance).astype(np.float64)
    gamma = weight(layer.gamma).astype(np.float64) if layer.gamma is not None else 1.0
    beta = weight(layer.beta).astype(np.float64) if layer.beta is not None else 0.0
    scale = gamma / np.sqrt(var + layer.epsilon)
    shift = beta - mean * scale
    axis = layer.axis % x.ndim
    shape = [x.shape[i] if i == axis else 1 for i in range(x.ndim)]
    scaled = g.op("Mul", [x.name, g.const(scale.reshape(shape), f"{layer.name}/scale")], f"{layer.name}/scaled")
    return g.op("Add", [scaled, g.const(shift.reshape(shape), f"{layer.name}/shift")], layer.name)


@converts(LayerNormalization)
def _layer_norm(g: OnnxGraph, call: Call) -> str:
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta over the axes (or gamma x / sqrt(mean(x^2) + epsilon)
    with rms_scaling)."""
    layer, x = call.layer, call.x.name
    axes, hint = list(layer._axes), layer.name
    if layer.rms_scaling:
        centered = x
    else:
        centered = g.op("Sub", [x, g.reduce("ReduceMean", x, axes, f"{hint}/mean")], f"{hint}/centered")
    var = g.reduce("ReduceMean", g.op("Mul", [centered, centered], f"{hint}/squares"), axes, f"{hint}/variance")
    std = g.op("Sqrt", [g.op("Add", [var, g.const(layer.epsilon, f"{hint}/epsilon")], f"{hint}/var_eps")],
               f"{hint}/std")
    y = g.op("Div", [centered, std], f"{hint}/normalized")
    shape = list(layer._param_shape)
    if layer.gamma is not None:
        y = g.op("Mul", [y, g.const(weight(layer.gamma).reshape(shape), f"{hint}/gamma")], f"{hint}/scaled")
    if layer.beta is not None and not layer.rms_scaling:
        y = g.op("Add", [y, g.const(weight(layer.beta).reshape(shape), f"{hint}/beta")], f"{hint}/shifted")
    return y
