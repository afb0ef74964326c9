"""tf.TensorSpec: the type of a tensor (shape and dtype) that `tf.function(input_signature=...)` checks arguments
against and `Dataset.element_spec` reports. It sits on the tensor floor, beside `TensorShape`."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.creation import as_dtype
from shendu.tensor import Tensor
from shendu.tensor_shape import TensorShape


class TensorSpec:
    """The type of a tensor, as `tf.TensorSpec(shape, dtype=tf.float32, name=None)`: a shape (None for an unknown
    size, or shape=None for an unknown rank) and a dtype. A value fits it when the dtypes are equal and the shapes
    compatible."""

    __slots__ = ("_dtype", "_name", "_shape")

    def __init__(self, shape: Any, dtype: Any = np.float32, name: str | None = None) -> None:
        self._shape = TensorShape(shape)
        self._dtype = as_dtype(dtype)
        self._name = name

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        """The spec of a tensor (or array): its shape and dtype."""
        arr = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
        return cls(arr.shape, arr.dtype, name)

    @classmethod
    def from_spec(cls, spec: Any, name: str | None = None) -> TensorSpec:
        """A TensorSpec with the shape and dtype of any spec (and its name unless one is given)."""
        return cls(spec.shape, spec.dtype, name if name is not None else getattr(spec, "name", None))

    def is_compatible_with(self, spec_or_value: Any) -> bool:
        """Whether a spec, tensor or array fits this spec: the same dtype, and compatible shapes."""
        other = spec_or_value
        if not (hasattr(other, "shape") and hasattr(other, "dtype")):
            other = np.asarray(other)
        return np.dtype(other.dtype) == self._dtype and self._shape.is_compatible_with(other.shape)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self._shape == other._shape and self._dtype == other._dtype
                and self._name == other._name)

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self) -> str:
        dtype = "tf.string" if self._dtype.kind == "O" else f"tf.{self._dtype.name}"
        return f"TensorSpec(shape={self._shape}, dtype={dtype}, name={self._name!r})"

