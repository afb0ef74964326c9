"""Ops that move values without changing them: reshape, transpose, indexing, joining, padding, broadcasting and
scattering."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops.function import Function


class Reshape(Function):
    """y = x viewed with a new shape;  dx = g reshaped back."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.reshape(self.in_shape),)


class Transpose(Function):
    """y = x with its axes permuted (reversed by default);  dx = g with the inverse permutation."""

    def __init__(self, axes: tuple[int, ...] | None = None) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        axes = self.axes if self.axes is not None else tuple(reversed(range(x.ndim)))
        y = x.transpose(axes)  # validates axes before they are inverted
        self.inverse = tuple(int(i) for i in get_array_module(x).argsort([a % x.ndim for a in axes]))
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g.transpose(self.inverse),)


class GetItem(Function):
    """y = x[index] (slices, integers, integer arrays, masks);  dx = g scattered back, added where repeated."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Any) -> Any:
        self.shape = x.shape
        return x[self.index]

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        dx = xp.zeros(self.shape, dtype=g.dtype)
        if _selects_once(self.index):
            dx[self.index] = g
        else:
            xp.add.at(dx, self.index, g)
        return (dx,)


def _selects_once(index: Any) -> bool:
    """True when no element can be selected twice (ints, slices, None, ..., boolean masks), so that
    plain assignment scatters the gradient; integer arrays may repeat and need `add.at`.
    """
    for i in index if isinstance(index, tuple) else (index,):
        is_mask = getattr(getattr(i, "dtype", None), "kind", "") == "b"
        if not (is_mask or isinstance(i, (int, slice, np.integer)) or i is None or i is Ellipsis):
            return False
    return True


class Concatenate(Function):
    """y = the inputs joined along an existing axis;  each dx = its slice of g."""

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        xp = get_array_module(xs[0])
        self.splits = xp.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, g: Any) -> tuple[Any, ...]:
        return tuple(get_array_module(g).split(g, self.splits, axis=self.axis))


class Stack(Function):
    """y = the inputs stacked along a new axis;  each dx = its slice of g along that axis."""

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        return get_array_module(xs[0]).stack(xs, axis=self.axis)

    def backward(self, g: Any) -> tuple[Any, ...]:
        xp = get_array_module(g)
        return tuple(xp.moveaxis(g, self.axis, 0))


class Where(Function):
    """y = a where cond else b (cond is a constant mask);  da = g where cond, db = g elsewhere."""

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def forward(self, a: Any, b: Any) -> Any:
        return get_array_module(a).where(self.cond, a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        da = xp.where(self.cond, g, zero) if self.needs_grad(0) else None
        db = xp.where(self.cond, zero, g) if self.needs_grad(1) else None
        return da, db


class Pad(Function):
    """y = x padded by `pad_width` ((before, after) per axis) with a constant, or mirrored ('reflect' leaves the
    edge out, 'symmetric' repeats it);  dx = the centre of g, plus for a mirror each padded g added to its source.
    """

    def __init__(self, pad_width: Any, constant_values: float = 0, mode: str = "constant") -> None:
        self.pad_width, self.constant_values, self.mode = pad_width, constant_values, mode

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        width = tuple(map(tuple, np.broadcast_to(np.asarray(self.pad_width, dtype=int), (x.ndim, 2)).tolist()))
        if self.mode == "constant":
            self.center = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(width, x.shape))
            return xp.pad(x, width, mode="constant", constant_values=self.constant_values)
        self.width, self.shape = width, x.shape
        return xp.pad(x, width, mode=self.mode)

    def backward(self, g: Any) -> tuple[Any]:
        if self.mode == "constant":
            return (g[self.center],)
        xp = get_array_module(g)
        size = int(np.prod(self.shape))
        source = xp.pad(xp.arange(size).reshape(self.shape), self.width, mode=self.mode)  # where each y came from
        dx = xp.bincount(source.ravel(), weights=g.ravel(), minlength=size)
        return (dx.astype(g.dtype).reshape(self.shape),)


class BroadcastTo(Function):
    """y = x broadcast to `shape` (a new array);  dx = g summed back over the broadcast axes (by the engine)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return get_array_module(x).broadcast_to(x, self.shape).copy()

    def backward(self, g: Any) -> tuple[Any]:
        return (g,)


def nd_index(indices: Any) -> tuple[Any, ...]:
    """TensorFlow's (..., m) index array as a NumPy index of the first m axes: (indices[..., 0], ...)."""
    return tuple(indices[..., k] for k in range(indices.shape[-1]))


class ScatterND(Function):
    """y = zeros(shape) with y[indices[j]] += updates[j] (repeated indices add up);  dupdates[j] = g[indices[j]]."""

    def __init__(self, indices: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = nd_index(indices), shape

    def forward(self, updates: Any) -> Any:
        xp = get_array_module(updates)
        y = xp.zeros(self.shape, dtype=updates.dtype)
        xp.add.at(y, self.index, updates)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g[self.index],)


class ScatterNDUpdate(Function):
    """y = x with y[indices[j]] = updates[j];  dx = g zeroed where overwritten, dupdates[j] = g[indices[j]]."""

    def __init__(self, indices: Any) -> None:
        self.index = nd_index(indices)

    def forward(self, x: Any, updates: Any) -> Any:
        y = x.copy()
        y[self.index] = updates
        return y

    def backward(self, g: Any) -> tuple[Any, Any]:
        dx = None
        if self.needs_grad(0):
            dx = g.copy()
            dx[self.index] = 0
        return dx, g[self.index]
