"""Reductions over axes (NumPy's `axis=` and `keepdims=`): sum, mean, var, max, min."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function

Axis = int | tuple[int, ...] | None


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Turn an `axis=` argument into a sorted tuple of non-negative axes (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    return tuple(sorted(out))


def expand_reduced(g: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts over the input."""
    if keepdims or not axes:
        return g
    xp = get_array_module(g)
    return xp.expand_dims(g, axes)


class _Reduction(Function):
    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def _setup(self, x: Any) -> None:
        self.axes = normalize_axes(self.axis, x.ndim)
        self.shape = x.shape


class Sum(_Reduction):
    """y = sum of x over axes;  dx = g broadcast back over the summed axes."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        g = expand_reduced(g, self.axes, self.keepdims)
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Mean(_Reduction):
    """y = sum(x) / n over axes;  dx = g / n broadcast back."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        n = 1
        for a in self.axes:
            n *= self.shape[a]
        g = expand_reduced(g, self.axes, self.keepdims) / n
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Var(_Reduction):
    """y = mean((x - mean x)^2) over axes (ddof=0 as in NumPy);  dx = g * 2 (x - mean x) / n."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        sq = self.centered * self.centered
        return sq.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        n = 1
        for a in self.axes:
            n *= self.shape[a]
        g = expand_reduced(g, self.axes, self.keepdims)
        return (g * (2.0 / n) * self.centered,)


class Max(_Reduction):
    """y = max of x over axes;  dx = g at the maxima, split evenly between ties."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.x = x
        self.y = x.max(axis=self.axes, keepdims=True)
        return self.y if self.keepdims else self.y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, g: Any) -> tuple[Any]:
        hit = (self.x == self.y).astype(g.dtype)
        hit /= hit.sum(axis=self.axes, keepdims=True)
        return (expand_reduced(g, self.axes, self.keepdims) * hit,)


class Min(Max):
    """y = min of x over axes;  dx = g at the minima, split evenly between ties."""

    def forward(self, x: Any) -> Any:
        return -super().forward(-x)
