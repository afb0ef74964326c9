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
    out = set()
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for a tensor of {ndim} dimensions")
        if a % ndim in out:
            raise ValueError(f"axis {a} is repeated in {axis}")
        out.add(a % ndim)
    return tuple(sorted(out))


class _Reduction(Function):
    """Shared setup: the reduced axes and the input shape; `_kept()` is the output shape with keepdims=True,
    to which a reduced gradient is reshaped so that it broadcasts against the input.
    """

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def _setup(self, x: Any) -> None:
        self.axes = normalize_axes(self.axis, x.ndim)
        self.shape = x.shape

    def _kept(self) -> tuple[int, ...]:
        return tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))

    def _count(self) -> int:
        n = 1
        for a in self.axes:
            n *= self.shape[a]
        return n

    def _spread(self, g: Any) -> Any:
        """g (reduced) copied to every position of the input's shape, as a new writable array."""
        dx = get_array_module(g).empty(self.shape, dtype=g.dtype)
        dx[...] = g if g.ndim in (0, dx.ndim) else g.reshape(self._kept())  # 0-d and keepdims g broadcast as is
        return dx


class Sum(_Reduction):
    """y = sum of x over axes;  dx = g broadcast back over the summed axes."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (self._spread(g),)


class Mean(_Reduction):
    """y = sum(x) / n over axes;  dx = g / n broadcast back."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (self._spread(g / self._count()),)


class Var(_Reduction):
    """y = mean((x - mean x)^2) over axes (ddof=0, as NumPy and Keras);  dx = g * 2 (x - mean x) / n."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        sq = self.centered * self.centered
        return sq.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.reshape(self._kept()) * (2.0 / self._count()) * self.centered,)


class Max(_Reduction):
    """y = max of x over axes;  dx = g at the maxima, split evenly between ties (as `torch.amax`)."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.x = x
        self.y = x.max(axis=self.axes, keepdims=True)
        return self.y if self.keepdims else self.y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, g: Any) -> tuple[Any]:
        hit = (self.x == self.y).astype(g.dtype)
        hit /= hit.sum(axis=self.axes, keepdims=True)
        return (g.reshape(self._kept()) * hit,)


class Min(Max):
    """y = min of x over axes = -max(-x);  dx = g at the minima, split evenly between ties."""

    def forward(self, x: Any) -> Any:
        return -super().forward(-x)
