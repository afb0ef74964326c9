"""Softmax and log-softmax along an axis, both shifted by the maximum so that they never overflow."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function


def softmax(x: Any, axis: int = -1) -> Any:
    """e^(x - max x) / sum e^(x - max x) along axis, on raw arrays."""
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - max x - log sum e^(x - max x) along axis, on raw arrays."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


class Softmax(Function):
    """y = softmax(x);  dx = y * (g - sum(g * y))."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        self.y = softmax(x, self.axis)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.y
        gy = g * y
        gy -= y * gy.sum(axis=self.axis, keepdims=True)
        return (gy,)


class LogSoftmax(Function):
    """y = log softmax(x);  dx = g - softmax(x) * sum(g)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        self.y = log_softmax(x, self.axis)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        return (g - xp.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)
