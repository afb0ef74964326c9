"""Keras's activations (the `activation=` argument and the activation layers) as ONNX nodes."""

from __future__ import annotations

import math
from typing import Any

from shendu import activations
from shendu.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from shendu.layers.core import Activation
from shendu.onnx.graph import Call, OnnxGraph, weight
from shendu.onnx.registry import ExportError, converts

# name -> (ONNX op, attributes) for the activations that are one ONNX op
_SINGLE: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("Relu", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {"axis": -1}),
    "log_softmax": ("LogSoftmax", {"axis": -1}),
    "elu": ("Elu", {"alpha": 1.0}),
    "selu": ("Selu", {"alpha": activations.SELU_ALPHA, "gamma": activations.SELU_SCALE}),
    "softplus": ("Softplus", {}),
    "softsign": ("Softsign", {}),
    "hard_sigmoid": ("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}),
    "hard_silu": ("HardSwish", {}),
    "exponential": ("Exp", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
}


def activation_name(fn: Any) -> str | None:
    """Keras's name of a built-in activation function, else None."""
    return activations._NAMES.get(fn)


def apply_activation(g: OnnxGraph, x: str, fn: Any, hint: str, who: str) -> str:
    """fn(x) as ONNX nodes; an activation that is not a built-in is an ExportError naming the layer."""
    name = activation_name(fn)
    if name is None:
        raise ExportError(f"ONNX export: {who} has the activation {fn!r}, which is not one of Keras's built-in "
                          "activations; the export knows only those")
    return apply_named(g, x, name, hint)


def apply_named(g: OnnxGraph, x: str, name: str, hint: str) -> str:
    """The activation of this Keras name applied to x."""
    if name == "linear":
        return x
    if name in _SINGLE:
        op, attrs = _SINGLE[name]
        return g.op(op, [x], f"{hint}/{name}", **attrs)
    if name == "relu6":
        return g.op("Clip", [x, g.const(0.0, f"{hint}/zero"), g.const(6.0, f"{hint}/six")], f"{hint}/relu6")
    if name == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x], f"{hint}/sigmoid")], f"{hint}/silu")
    if name == "gelu":  # x (1 + erf(x / sqrt 2)) / 2
        scaled = g.op("Mul", [x, g.const(1.0 / math.sqrt(2.0), f"{hint}/inv_sqrt2")], f"{hint}/scaled")
        erf1 = g.op("Add", [g.op("Erf", [scaled], f"{hint}/erf"), g.const(1.0, f"{hint}/one")], f"{hint}/erf1")
        return g.op("Mul", [g.op("Mul", [x, erf1], f"{hint}/x_erf"), g.const(0.5, f"{hint}/half")], f"{hint}/gelu")
    if name == "mish":
        soft = g.op("Softplus", [x], f"{hint}/softplus")
        return g.op("Mul", [x, g.op("Tanh", [soft], f"{hint}/tanh")], f"{hint}/mish")
    raise ExportError(f"ONNX export: the activation '{name}' has no ONNX form yet")


@converts(Activation)
def _activation(g: OnnxGraph, call: Call) -> str:
    return apply_activation(g, call.x.name, call.layer.activation, call.layer.name, call.who())


@converts(ReLU)
def _relu(g: OnnxGraph, call: Call) -> str:
    """Keras's ReLU: where(x > t, min(x, max_value), 0) - negative_slope relu(t - x) (plain Relu when t = 0)."""
    layer, x, hint = call.layer, call.x.name, call.layer.name
    if layer.threshold == 0:
        y = g.op("Relu", [x], f"{hint}/relu") if layer.negative_slope == 0 else g.op(
            "LeakyRelu", [x], f"{hint}/leaky", alpha=layer.negative_slope)
        if layer.max_value is not None:
            y = g.op("Min", [y, g.const(layer.max_value, f"{hint}/max")], f"{hint}/clip")
        return y
    t = g.const(layer.threshold, f"{hint}/threshold")
    y = g.op("Where", [g.op("Greater", [x, t], f"{hint}/above"), x, g.const(0.0, f"{hint}/zero")], f"{hint}/kept")
    if layer.max_value is not None:
        y = g.op("Min", [y, g.const(layer.max_value, f"{hint}/max")], f"{hint}/clip")
    if layer.negative_slope:
        below = g.op("Relu", [g.op("Sub", [t, x], f"{hint}/t_minus_x")], f"{hint}/below")
        scaled = g.op("Mul", [below, g.const(layer.negative_slope, f"{hint}/slope")], f"{hint}/scaled")
        y = g.op("Sub", [y, scaled], f"{hint}/relu")
    return y


@converts(LeakyReLU)
def _leaky_relu(g: OnnxGraph, call: Call) -> str:
    return g.op("LeakyRelu", [call.x.name], call.layer.name, alpha=call.layer.negative_slope)


@converts(PReLU)
def _prelu(g: OnnxGraph, call: Call) -> str:
    alpha = weight(call.layer.alpha)
    return g.op("PRelu", [call.x.name, g.const(alpha, f"{call.layer.name}/alpha")], call.layer.name)


@converts(ELU)
def _elu(g: OnnxGraph, call: Call) -> str:
    return g.op("Elu", [call.x.name], call.layer.name, alpha=call.layer.alpha)


@converts(Softmax)
def _softmax(g: OnnxGraph, call: Call) -> str:
    """Softmax along `axis` (a tuple of axes is not an ONNX Softmax); a mask of the inputs' rank is not exported."""
    axis = call.layer.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ExportError(f"ONNX export: {call.who()} has axis={axis}; ONNX's Softmax takes one axis")
        axis = axis[0]
    return g.op("Softmax", [call.x.name], call.layer.name, axis=int(axis))
