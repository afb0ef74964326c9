"""Making tensors: from data (TensorFlow's default dtypes), filled with zeros or ones, or a range; dtype conversion."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor

_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "string": "object", "str": "object"}
_INT32 = np.iinfo(np.int32)
_TF_DATATYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "object",
                 9: "int64", 10: "bool", 17: "uint16", 19: "float16", 22: "uint32", 23: "uint64"}
"""TensorFlow's DataType enum values (types.proto), which tf functions accept as a dtype."""


def as_dtype(type_value: Any) -> np.dtype:
    """The NumPy dtype that TensorFlow's `type_value` names: a dtype, a type, or a name ('float' is float32,
    'string' and Python `object` the object dtype that holds strings, as TensorFlow's `.numpy()` gives them)."""
    if isinstance(type_value, str):
        type_value = _ALIASES.get(type_value, type_value)
    elif type(type_value) is int and type_value in _TF_DATATYPES:  # TensorFlow's DataType enum (1 is float32)
        type_value = _TF_DATATYPES[type_value]
    elif type_value is float:
        return np.dtype("float32")
    try:
        dtype = np.dtype(type_value)
    except TypeError:
        raise TypeError(f"tf.as_dtype: cannot convert {type_value!r} to a dtype; expected a dtype such as "
                        "tf.float32, a name such as 'int32', or a NumPy type") from None
    return np.dtype(object) if dtype.kind in "US" else dtype


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor holding data (Python floats become float32; arrays keep their dtype)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def shape_tuple(shape: Any, fn: str) -> tuple[int, ...]:
    """A shape argument (an int, a list or tuple, a 1-D integer tensor or array, a TensorShape) as a tuple of ints."""
    if isinstance(shape, Tensor):
        shape = shape.data
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    try:
        arr = np.asarray([int(np.asarray(d)) for d in shape] if isinstance(shape, (list, tuple)) else shape)
    except TypeError:
        arr = None
    if arr is None or arr.ndim > 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{fn}: expected a shape (an int or a list of ints), got {shape!r}")
    return tuple(int(d) for d in arr.reshape(-1))


def default_array(value: Any) -> Any:
    """value as an array with TensorFlow's default dtypes: Python floats float32, Python ints int32 (int64 when
    they do not fit), bools bool, strings the object dtype; NumPy arrays and Tensors keep theirs."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, np.generic)):
        arr = backend.as_array(value)
    else:
        try:
            arr = np.asarray(value)
        except ValueError as e:  # NumPy's "inhomogeneous shape" for rows of different lengths
            raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor (its rows differ in length; "
                             f"shendu has no ragged tensors): {str(value)[:80]}") from e
    if arr.dtype.kind in "US":
        return arr.astype(object)
    if isinstance(value, (np.ndarray, np.generic)) or arr.dtype.kind not in "fi":
        return arr
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    return arr.astype(np.int32) if arr.size == 0 or (_INT32.min <= arr.min() and arr.max() <= _INT32.max) else arr


def zeros(shape: Any, dtype: Any = np.float32, name: str | None = None, *, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, as `tf.zeros([2, 3])`; `requires_grad=True` makes it a leaf that takes a gradient."""
    return Tensor(np.zeros(shape_tuple(shape, "tf.zeros"), dtype=_fill_dtype(dtype, "tf.zeros")),
                  requires_grad=requires_grad)


def ones(shape: Any, dtype: Any = np.float32, name: str | None = None, *, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, as `tf.ones([2, 3])`; `requires_grad=True` makes it a leaf that takes a gradient."""
    return Tensor(np.ones(shape_tuple(shape, "tf.ones"), dtype=_fill_dtype(dtype, "tf.ones")),
                  requires_grad=requires_grad)


def _fill_dtype(dtype: Any, fn: str) -> np.dtype:
    """zeros/ones' dtype, the error saying that the shape is one argument (NumPy-style `zeros(2, 3)` lands here)."""
    try:
        return as_dtype(dtype)
    except TypeError:
        raise TypeError(f"{fn}: dtype {dtype!r} is not a dtype; the shape is one argument: {fn}([2, 3])") from None


def zeros_like(input: Any, dtype: Any = None, name: str | None = None, *, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of input."""
    arr = default_array(input)
    return Tensor(np.zeros(arr.shape, dtype=as_dtype(dtype or arr.dtype)), requires_grad=requires_grad)


def ones_like(input: Any, dtype: Any = None, name: str | None = None, *, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of input."""
    arr = default_array(input)
    return Tensor(np.ones(arr.shape, dtype=as_dtype(dtype or arr.dtype)), requires_grad=requires_grad)


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


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor holding a copy of value, taking no gradient, as `tf.constant`: Python floats become float32 and
    ints int32; a single value fills `shape`, other values are reshaped to it."""
    arr = _array(value, dtype)
    xp = backend.get_array_module(arr)  # a NumPy array given in a GPU block is already on the device here
    arr = xp.array(arr)
    if shape is not None:
        shape = shape_tuple(shape, "tf.constant")
        if arr.size == 1:
            arr = xp.broadcast_to(arr.reshape(()), shape).copy()
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"tf.constant: {arr.size} values cannot fill shape {shape} (expected one value or "
                            f"{int(np.prod(shape))})")
    return Tensor(arr)


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None, name: str | None = None) -> Tensor:
    """Tensors (and Variables) pass through; anything else becomes a tensor with TensorFlow's default dtypes,
    or `dtype`, or `dtype_hint` where the value converts to it exactly, as `tf.convert_to_tensor`."""
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != as_dtype(dtype):
            raise ValueError(f"tf.convert_to_tensor: the tensor has dtype {value.dtype}, but dtype "
                             f"{as_dtype(dtype)} was requested; use tf.cast to convert it")
        return value
    arr = _array(value, dtype)
    if dtype is None and dtype_hint is not None and arr.dtype.kind in "biuf":
        hinted = _array(value, dtype_hint)
        if hinted.dtype.kind in "biuf" and np.array_equal(hinted, arr):
            arr = hinted
    return Tensor(arr)


def _array(value: Any, dtype: Any) -> Any:
    """value as an array of dtype, or of TensorFlow's default dtype for it when dtype is None."""
    if dtype is None:
        return default_array(value)
    return np.asarray(value.data if isinstance(value, Tensor) else value, dtype=as_dtype(dtype))


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """x converted to dtype, as `tf.cast`: differentiable between float dtypes; floats cast to integers
    truncate toward zero, and any non-zero value casts to True."""
    return convert_to_tensor(x).astype(as_dtype(dtype))
