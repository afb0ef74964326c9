"""TensorShape: a tensor's shape as TensorFlow reports it, and still a tuple.

`Tensor.shape` returns one, so `x.shape == (2, 3)`, `np.zeros(x.shape)` and `n, d = x.shape` keep working while
TensorFlow code gets `x.shape.as_list()`, `.rank`, `.num_elements()`, slices that stay TensorShapes and None for
an unknown size (`TensorShape([None, 3])`). `TensorShape(None)` has an unknown rank. It lives on the tensor floor
(it needs nothing but the standard library); `tf.TensorShape` re-exports it from `shendu/tf/shape.py`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any


class TensorShape(tuple):
    """A shape: a tuple of ints, None for a size not known; `TensorShape(None)` when even the rank is not known.

    Equal to tuples and lists with the same sizes; `str` gives `(2, 3)`, `repr` gives `TensorShape([2, 3])`.
    """

    __slots__ = ()

    def __new__(cls, dims: Any) -> TensorShape:
        if dims is None:
            return _UNKNOWN
        if isinstance(dims, TensorShape):
            return dims
        if hasattr(dims, "__index__") and getattr(dims, "ndim", 0) == 0:
            dims = (dims,)  # TensorFlow's deprecated single-integer form
        return tuple.__new__(TensorShape, [_dimension(d) for d in dims])

    # --- what TensorFlow's TensorShape offers -------------------------------------------------------
    @property
    def rank(self) -> int | None:
        """The number of dimensions, or None when the rank is unknown."""
        return tuple.__len__(self)

    ndims = rank

    def as_list(self) -> list[int | None]:
        """The sizes as a list (None for unknown ones)."""
        return list(self)

    def num_elements(self) -> int | None:
        """The number of elements, or None when a size is unknown."""
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self:
            n *= d
        return n

    def is_fully_defined(self) -> bool:
        """Whether the rank and every size are known."""
        return None not in self

    def is_compatible_with(self, other: Any) -> bool:
        """Whether the two shapes can describe the same tensor: the same rank, and equal sizes where both are known."""
        other = as_shape(other)
        if self.rank is None or other.rank is None:
            return True
        return self.rank == other.rank and all(a is None or b is None or a == b for a, b in zip(self, other))

    def assert_is_compatible_with(self, other: Any) -> None:
        """Raise ValueError unless `is_compatible_with(other)`."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def merge_with(self, other: Any) -> TensorShape:
        """The shape with what both know: `TensorShape([None, 3]).merge_with([2, None]) == (2, 3)`."""
        other = as_shape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        if self.rank is None:
            return other
        if other.rank is None:
            return self
        return TensorShape([a if a is not None else b for a, b in zip(self, other)])

    def concatenate(self, other: Any) -> TensorShape:
        """The dimensions of self followed by those of other (unknown if either rank is)."""
        other = as_shape(other)
        if self.rank is None or other.rank is None:
            return _UNKNOWN
        return tuple.__new__(TensorShape, tuple(self) + tuple(other))

    # --- tuple behaviour kept TensorFlow's way ------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        """An int index gives the size (int or None); a slice gives a TensorShape."""
        if type(key) is slice:
            return tuple.__new__(TensorShape, tuple.__getitem__(self, key))
        return tuple.__getitem__(self, key)

    def __add__(self, other: Any) -> TensorShape:  # type: ignore[override]
        return self.concatenate(other)

    def __radd__(self, other: Any) -> TensorShape:
        return as_shape(other).concatenate(self)

    def __eq__(self, other: object) -> bool:
        if type(other) in _PLAIN and self is not _UNKNOWN and other is not _UNKNOWN:  # the common case, at C speed
            return tuple.__eq__(self, other)
        if not isinstance(other, (list, tuple)):
            return NotImplemented
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self.rank == other.rank and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        if type(other) in _PLAIN and self is not _UNKNOWN and other is not _UNKNOWN:
            return tuple.__ne__(self, other)
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return tuple.__repr__(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return TensorShape, (list(self),)


class _UnknownShape(TensorShape):
    """The shape of unknown rank (`TensorShape(None)`): compatible with every shape, with no list of sizes."""

    __slots__ = ()

    @property
    def rank(self) -> None:
        return None

    ndims = rank

    def as_list(self) -> list[int | None]:
        raise ValueError("as_list() is not defined on an unknown TensorShape.")

    def is_fully_defined(self) -> bool:
        return False

    def __len__(self) -> int:
        raise ValueError("Cannot take the length of shape with unknown rank.")

    def __iter__(self) -> Iterator[int | None]:
        raise ValueError("Cannot iterate over a shape with unknown rank.")

    def __getitem__(self, key: Any) -> Any:
        return _UNKNOWN if isinstance(key, slice) else None

    __hash__ = TensorShape.__hash__

    def __repr__(self) -> str:
        return "TensorShape(None)"

    def __str__(self) -> str:
        return "<unknown>"

    def __reduce__(self) -> tuple[Any, ...]:
        return TensorShape, (None,)


_UNKNOWN = tuple.__new__(_UnknownShape, ())
_PLAIN = (tuple, TensorShape)  # shapes compared element by element (an unknown rank aside)


def as_shape(shape: Any) -> TensorShape:
    """shape as a TensorShape (TensorShapes pass through; lists, tuples, ints and None are converted)."""
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def _dimension(d: Any) -> int | None:
    """One size: an int >= 0, or None (unknown); integer scalars (NumPy, 0-d tensors) are taken by their index."""
    if d is None:
        return None
    value = getattr(d, "value", d)  # a TensorFlow Dimension-like object
    if value is None:
        return None
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"TensorShape: a dimension must be an integer or None, got {d!r}") from None
    if value < 0:
        raise ValueError(f"TensorShape: a dimension must be >= 0 or None, got {value}")
    return value
