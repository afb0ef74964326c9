"""Making tensors: from data, filled with zeros or ones, or a range."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor holding data (Python floats become float32; arrays keep their dtype)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], int):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; `zeros(2, 3)` or `zeros((2, 3))`."""
    return Tensor(np.zeros(_shape(shape), dtype=dtype or backend.floatx()), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; `ones(2, 3)` or `ones((2, 3))`."""
    return Tensor(np.ones(_shape(shape), dtype=dtype or backend.floatx()), requires_grad=requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of t."""
    arr = t.data if isinstance(t, Tensor) else backend.as_array(t)
    return Tensor(np.zeros_like(arr, dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of t."""
    arr = t.data if isinstance(t, Tensor) else backend.as_array(t)
    return Tensor(np.ones_like(arr, dtype=dtype), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop), as NumPy's `arange`; integer arguments give integers,
    float arguments give floatx (float32), as `torch.arange`.
    """
    if stop is None:
        start, stop = 0, start
    arr = np.arange(start, stop, step, dtype=dtype)
    if dtype is None and arr.dtype.kind == "f":
        arr = arr.astype(backend.floatx())
    return Tensor(arr)


def constant(value: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    """A tensor that takes no gradient, as `tf.constant`; a scalar value fills `shape` when given."""
    arr = backend.as_array(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        arr = np.broadcast_to(arr, shape).copy() if arr.size == 1 else arr.reshape(shape)
    return Tensor(arr)


def convert_to_tensor(value: Any, dtype: Any = None) -> Tensor:
    """Tensors pass through (cast when dtype is given); anything else becomes a tensor, as `tf.convert_to_tensor`."""
    if isinstance(value, Tensor):
        return value if dtype is None or value.dtype == np.dtype(dtype) else value.astype(dtype)
    return Tensor(value, dtype=dtype)


def cast(x: Any, dtype: Any) -> Tensor:
    """x converted to dtype, as `tf.cast` (differentiable between float dtypes)."""
    return convert_to_tensor(x).astype(dtype)
