"""tf.TensorArray: a list of tensors written by index in a loop and stacked at the end (TensorFlow's way to collect
a loop's outputs), eagerly: `write` returns the array (as TensorFlow's does, so `ta = ta.write(i, x)` works), `stack`
and `concat` are differentiable ops, so gradients flow to what was written."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.creation import as_dtype, convert_to_tensor
from shendu.tensor import Tensor
from shendu.tf.array_ops import concat, gather, stack, unstack

__all__ = ["TensorArray"]


class TensorArray:
    """TensorArray(dtype, size=0, dynamic_size=False, clear_after_read=True, element_shape=None): `write(i, value)`,
    `read(i)`, `stack()`, `unstack(value)`, `gather(indices)`, `scatter(indices, value)`, `concat()`, `size()`."""

    def __init__(self, dtype: Any, size: Any = None, dynamic_size: bool | None = None,
                 clear_after_read: bool | None = None, tensor_array_name: str | None = None, handle: Any = None,
                 flow: Any = None, infer_shape: bool = True, element_shape: Any = None,
                 colocate_with_first_write_call: bool = True, name: str | None = None) -> None:
        self.dtype = as_dtype(dtype)
        n = 0 if size is None else int(np.asarray(size.numpy() if isinstance(size, Tensor) else size))
        self._items: list[Tensor | None] = [None] * n
        self._dynamic = bool(dynamic_size)
        self._element_shape = None if element_shape is None else tuple(element_shape)

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements, as an int32 tensor."""
        return Tensor(np.int32(len(self._items)))

    def _index(self, index: Any, where: str) -> int:
        i = int(np.asarray(index.numpy() if isinstance(index, Tensor) else index))
        if i < 0 or (i >= len(self._items) and not self._dynamic):
            raise IndexError(f"TensorArray.{where}: index {i} is outside the array of size {len(self._items)} "
                             f"(dynamic_size=False)")
        return i

    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        """Store value at index (growing the array when dynamic_size); returns this array."""
        i = self._index(index, "write")
        t = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=self.dtype)
        if t.dtype != self.dtype:
            raise TypeError(f"TensorArray.write: the array holds {self.dtype}, got a value of {t.dtype}")
        shape = self._element_shape or next((tuple(x.shape) for x in self._items if x is not None), None)
        if shape is not None and tuple(t.shape) != shape and None not in shape:
            raise ValueError(f"TensorArray.write: every element must have shape {shape}, got {tuple(t.shape)}")
        if i >= len(self._items):
            self._items += [None] * (i + 1 - len(self._items))
        self._items[i] = t
        return self

    def read(self, index: Any, name: str | None = None) -> Tensor:
        """The element at index."""
        i = self._index(index, "read")
        if i >= len(self._items) or self._items[i] is None:
            raise ValueError(f"TensorArray.read: element {i} was never written")
        return self._items[i]

    def _all(self, where: str) -> list[Tensor]:
        missing = [i for i, x in enumerate(self._items) if x is None]
        if missing:
            raise ValueError(f"TensorArray.{where}: elements {missing} were never written")
        return list(self._items)  # type: ignore[arg-type]

    def stack(self, name: str | None = None) -> Tensor:
        """The elements stacked along a new first axis (an empty array gives shape (0, *element_shape))."""
        if not self._items:
            return Tensor(np.zeros((0, *(self._element_shape or ())), dtype=self.dtype))
        return stack(self._all("stack"))

    def concat(self, name: str | None = None) -> Tensor:
        """The elements joined along their first axis."""
        return concat(self._all("concat"), axis=0)

    def gather(self, indices: Any, name: str | None = None) -> Tensor:
        """The elements at indices, stacked."""
        return stack([self.read(i) for i in np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)])

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        """Write the slices of value along its first axis as elements 0, 1, ...; returns this array."""
        for i, part in enumerate(unstack(convert_to_tensor(value, dtype=self.dtype))):
            self.write(i, part)
        return self

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        """Write the slices of value at the given indices; returns this array."""
        t = convert_to_tensor(value, dtype=self.dtype)
        for k, i in enumerate(np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)):
            self.write(int(i), gather(t, k))
        return self

    @property
    def element_shape(self) -> tuple[int, ...] | None:
        return self._element_shape

    def __repr__(self) -> str:
        return f"<tf.TensorArray size={len(self._items)} dtype={self.dtype}>"
