"""Softmax and log-softmax along an axis, both shifted by the maximum so that they never overflow."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function

SHORT_AXIS = 32
"""Up to this length a last axis is reduced column by column (`max_last`, `sum_last`): NumPy's max and sum along a
short contiguous axis are 6-10x slower (MNIST's 10 classes, 60,000 rows: max 3.7 against 0.6 ms, sum 1.15 against
0.11 ms)."""


def max_last(x: Any) -> Any:
    """x.max(axis=-1, keepdims=True); over a short last axis as np.maximum of its columns in turn (NaN wins, as in
    max)."""
    c = x.shape[-1]
    if not 0 < c <= SHORT_AXIS:
        return x.max(axis=-1, keepdims=True)
    xp = get_array_module(x)
    m = x[..., 0].copy()
    for j in range(1, c):
        xp.maximum(m, x[..., j], out=m)
    return m[..., None]


def sum_last(x: Any) -> Any:
    """x.sum(axis=-1, keepdims=True) of a float array; over a short last axis as the product with a column of ones
    (one BLAS matrix-vector product)."""
    c = x.shape[-1]
    if not 0 < c <= SHORT_AXIS:
        return x.sum(axis=-1, keepdims=True)
    return (x @ get_array_module(x).ones(c, x.dtype))[..., None]


def _last(x: Any, axis: int) -> bool:
    return axis in (-1, x.ndim - 1)


def softmax(x: Any, axis: int = -1) -> Any:
    """e^(x - max x) / sum e^(x - max x) along axis, on raw arrays."""
    xp = get_array_module(x)
    last = _last(x, axis)
    e = xp.exp(x - (max_last(x) if last else x.max(axis=axis, keepdims=True)))
    e /= sum_last(e) if last else e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - max x - log sum e^(x - max x) along axis, on raw arrays."""
    xp = get_array_module(x)
    last = _last(x, axis)
    shifted = x - (max_last(x) if last else x.max(axis=axis, keepdims=True))
    e = xp.exp(shifted)
    shifted -= xp.log(sum_last(e) if last else e.sum(axis=axis, keepdims=True))
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
