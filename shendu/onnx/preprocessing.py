"""Rescaling and Normalization (their constants folded into one Mul and one Add or Sub/Div)."""

from __future__ import annotations

import numpy as np

from shendu.layers.preprocessing import EPSILON, Normalization, Rescaling
from shendu.onnx.graph import Call, OnnxGraph
from shendu.onnx.registry import converts


def _as_float(g: OnnxGraph, call: Call) -> str:
    x = call.x
    return x.name if x.dtype == g.float else g.cast(x.name, g.float, f"{call.layer.name}/cast")


@converts(Rescaling)
def _rescaling(g: OnnxGraph, call: Call) -> str:
    """y = x scale + offset."""
    layer = call.layer
    y = g.op("Mul", [_as_float(g, call), g.const(np.asarray(layer.scale, np.float64), f"{layer.name}/scale")],
             f"{layer.name}/scaled")
    if np.any(np.asarray(layer.offset) != 0):
        y = g.op("Add", [y, g.const(np.asarray(layer.offset, np.float64), f"{layer.name}/offset")], layer.name)
    return y


@converts(Normalization)
def _normalization(g: OnnxGraph, call: Call) -> str:
    """y = (x - mean) / max(sqrt(variance), epsilon), or mean + x std with invert=True."""
    layer = call.layer
    mean, variance = layer._stats()
    if not layer._keep and call.x.ndim != len(layer._bshape):
        mean, variance = np.reshape(mean, ()), np.reshape(variance, ())
    std = np.maximum(np.sqrt(variance), EPSILON)
    x, mean_c, std_c = _as_float(g, call), g.const(mean, f"{layer.name}/mean"), g.const(std, f"{layer.name}/std")
    if layer.invert:
        return g.op("Add", [mean_c, g.op("Mul", [x, std_c], f"{layer.name}/scaled")], layer.name)
    return g.op("Div", [g.op("Sub", [x, mean_c], f"{layer.name}/centered"), std_c], layer.name)
