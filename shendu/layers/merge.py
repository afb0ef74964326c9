"""Merge layers: combine a list of inputs element-wise (Add, Subtract, Multiply, Average, Maximum, Minimum),
join them along an axis (Concatenate) or take dot products (Dot), with the functional forms add(...), dot(...), ...

Element-wise merges broadcast as Keras does: axes of size 1 stretch, and a lower-rank input gets new
axes after the batch axis. Keras masks merge as in Keras 3: the element-wise merges keep a step that any
input keeps (the masks OR-ed, and no mask unless every input has one); Concatenate ORs the masks along the
joined axis, an unmasked input counting as all kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np

from shendu import ops
from shendu.layers.base import Layer
from shendu.ops.einsum import Einsum
from shendu.tensor import Tensor

Shape = tuple[int | None, ...]


class _Merge(Layer):
    """Base of the element-wise merges: checks the shapes and folds `_merge` over the inputs."""

    _exact_inputs: int | None = None

    def _check_list(self, shapes: Any) -> list[Shape]:
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a list of inputs, got shape {shapes}")
        shapes = [tuple(s) for s in shapes]
        if self._exact_inputs is not None and len(shapes) != self._exact_inputs:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected exactly {self._exact_inputs} inputs, got {len(shapes)}"
            )
        return shapes

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._check_list(input_shape)
        batches = {s[0] for s in shapes if s and s[0] is not None}
        if len(batches) > 1:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': cannot merge inputs with different batch sizes: {shapes}"
            )
        out: Shape = shapes[0][1:]
        for shape in shapes[1:]:
            out = self._broadcast(out, shape[1:], shapes)
        return (batches.pop() if batches else None, *out)

    def _broadcast(self, a: Shape, b: Shape, shapes: list[Shape]) -> Shape:
        if len(a) < len(b):
            a, b = b, a
        out = list(a[: len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:
                out.append(i if j == 1 else j if i == 1 else None)
            elif i == 1 or j == 1 or i == j:
                out.append(max(i, j) if 1 in (i, j) else i)
            else:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': inputs have incompatible shapes {shapes}; the axes after "
                    "the batch axis must be equal or 1"
                )
        return tuple(out)

    def call(self, inputs: list[Tensor]) -> Tensor:
        shapes = self._check_list([t.shape for t in inputs])
        self.compute_output_shape(shapes)
        rank = max(len(s) for s in shapes)
        aligned = [t if t.ndim == rank else _expand_after_batch(t, rank) for t in inputs]
        return self._merge(aligned)

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """m1 | m2 | ... when every input carries a mask, else None."""
        masks = _check_masks(self, inputs, mask)
        if masks is None or any(m is None for m in masks):
            return None
        return np.logical_or.reduce([_bool(m) for m in masks])


def _expand_after_batch(t: Tensor, rank: int) -> Tensor:
    shape = (t.shape[0], *([1] * (rank - t.ndim)), *t.shape[1:])
    return ops.Reshape.apply(t, shape=shape)


class Add(_Merge):
    """output = x1 + x2 + ... (element-wise)."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.Add.apply, inputs)


class Subtract(_Merge):
    """output = x1 - x2 (exactly two inputs)."""

    _exact_inputs = 2

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return ops.Sub.apply(inputs[0], inputs[1])


class Multiply(_Merge):
    """output = x1 * x2 * ... (element-wise)."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.Mul.apply, inputs)


class Average(_Merge):
    """output = (x1 + x2 + ... + xn) / n."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.Add.apply, inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    """output = max(x1, x2, ...) element-wise."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.Maximum.apply, inputs)


class Minimum(_Merge):
    """output = min(x1, x2, ...) element-wise."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.Minimum.apply, inputs)


class Concatenate(Layer):
    """output = the inputs joined along axis (default -1, the features); all other axes must match."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0],
                                                                                             (list, tuple)):
            raise ValueError(f"Concatenate '{self.name}': expected a list of inputs, got shape {input_shape}")
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(
                f"Concatenate '{self.name}': inputs must have the same rank and axis={self.axis} must exist; "
                f"got shapes {shapes}"
            )
        axis = self.axis % rank
        out: list[int | None] = []
        for i in range(rank):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(
                    f"Concatenate '{self.name}': inputs must match on every axis except the concatenation "
                    f"axis {self.axis}; got shapes {shapes}"
                )
            out.append(known.pop() if known else None)
        return tuple(out)

    def call(self, inputs: list[Tensor]) -> Tensor:
        self.compute_output_shape([t.shape for t in inputs])
        return ops.Concatenate.apply(*inputs, axis=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The masks (all True for an unmasked input, a trailing axis added to one of lower rank) joined along
        `axis`, then any() over the last axis; None when no input carries a mask."""
        masks = _check_masks(self, inputs, mask)
        if masks is None or all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            shape = tuple(x.shape)
            if m is None:
                full.append(np.ones(shape, dtype=bool))
                continue
            m = _bool(m)
            full.append(np.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return np.concatenate(full, axis=self.axis).any(axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """The dot product of two samples along `axes` (Keras's batch_dot): for x (batch, n) and y (batch, n) and
    axes=1, output (batch, 1); in general the axes of x then of y that are not summed, after the batch axis.

    axes: an int or a pair of ints (axes of x and y, the batch axis being 0; negative ones count from the end).
    normalize=True L2-normalizes both inputs along their axes first, so the output is the cosine proximity.
    """

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
            axes = (int(axes), int(axes))
        elif not (isinstance(axes, (list, tuple)) and len(axes) == 2
                  and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes)):
            raise TypeError(f"Dot '{self.name}': axes must be an int or a list of two ints, got {axes!r}")
        self.axes = (int(axes[0]), int(axes[1]))
        self.normalize = bool(normalize)

    def _shapes(self, input_shape: Any) -> tuple[Shape, Shape, int, int]:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"Dot '{self.name}': expected a list of exactly 2 inputs, got shape {input_shape}")
        a, b = (tuple(s) for s in input_shape)
        ax, ay = (axis % len(shape) if -len(shape) <= axis < len(shape) else -1
                  for axis, shape in zip(self.axes, (a, b)))
        if min(len(a), len(b)) < 2 or ax < 1 or ay < 1:
            raise ValueError(f"Dot '{self.name}': axes={list(self.axes)} must name a non-batch axis of inputs of "
                             f"rank >= 2; got shapes {a} and {b}")
        if a[ax] is not None and b[ay] is not None and a[ax] != b[ay]:
            raise ValueError(f"Dot '{self.name}': incompatible input shapes {a} and {b}: axis {ax} of the first "
                             f"({a[ax]}) and axis {ay} of the second ({b[ay]}) must have the same size")
        return a, b, ax, ay

    def build(self, input_shape: Any) -> None:
        self._shapes(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        a, b, ax, ay = self._shapes(input_shape)
        out = (*a[:ax], *a[ax + 1:], *b[1:ay], *b[ay + 1:])
        return out if len(out) > 1 else (*out, 1)

    def call(self, inputs: list[Tensor]) -> Tensor:
        a, b, ax, ay = self._shapes([tuple(t.shape) for t in inputs])
        x, y = inputs
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        letters = "bcdefghijklmnopqrstuvwxyz"
        sx = "a" + letters[:len(a) - 1]
        sy = ["a", *letters[len(a) - 1:len(a) + len(b) - 2]]
        sy[ay] = sx[ax]
        sy = "".join(sy)
        out = sx.replace(sx[ax], "") + sy[1:].replace(sx[ax], "")
        z = Einsum.apply(x, y, equation=f"{sx},{sy}->{out}")
        return z if z.ndim > 1 else ops.Reshape.apply(z, shape=(z.shape[0], 1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """x / sqrt(max(sum(x^2, axis), 1e-12)), as Keras's normalize=True."""
    sq = ops.Mul.apply(x, x).sum(axis=axis, keepdims=True)
    eps = Tensor(np.asarray(1e-12, dtype=x.dtype))
    return ops.Mul.apply(x, ops.PowScalar.apply(ops.Maximum.apply(sq, eps, ties="first"), p=-0.5))


def _bool(mask: Any) -> np.ndarray:
    return np.asarray(getattr(mask, "data", mask), dtype=bool)


def _check_masks(layer: Layer, inputs: Any, mask: Any) -> list[Any] | None:
    """The list of input masks (None when no mask is given), checked against the list of inputs."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': expected one mask (or None) per input, got "
                         f"mask={mask!r} for {len(inputs) if isinstance(inputs, (list, tuple)) else 1} input(s)")
    return list(mask)


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[Any], axes: int | Sequence[int], normalize: bool = False, **kwargs: Any) -> Any:
    """Functional form of `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
