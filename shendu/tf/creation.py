"""tf's creation functions and dtypes: constant, zeros, ones, fill, eye, range, linspace, one_hot, cast, shape, ...

TensorFlow's dtypes are NumPy dtypes here (`tf.float32.name == 'float32'`); `tf.string` is the object dtype that
holds Python strings. `bool_` is exported as `tf.bool` by the package (a module-level `bool` would hide the builtin).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from shendu.creation import (
    as_dtype,
    cast,
    constant,
    convert_to_tensor,
    default_array,
    ones,
    ones_like,
    shape_tuple,
    zeros,
    zeros_like,
)
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops.cast import AsType
from shendu.ops.shape import BroadcastTo, Concatenate
from shendu.tensor import Tensor

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
half, double = float16, float64
int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_ = (
    np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"))
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")
string = np.dtype(object)
newaxis = None


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape dims filled with value (its dtype: 1 gives int32, 1.0 float32); a gradient flows to
    value (the sum of the output's gradient)."""
    value = convert_to_tensor(value)
    if value.ndim != 0:
        raise ValueError(f"tf.fill: value must be a scalar, got shape {value.shape}")
    return BroadcastTo.apply(value, shape=shape_tuple(dims, "tf.fill"))


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None, dtype: Any = float32,
        name: str | None = None) -> Tensor:
    """Identity matrices of shape batch_shape + [num_rows, num_columns] (square by default)."""
    matrix = np.eye(int(num_rows), None if num_columns is None else int(num_columns), dtype=as_dtype(dtype))
    batch = () if batch_shape is None else shape_tuple(batch_shape, "tf.eye")
    return Tensor(np.broadcast_to(matrix, batch + matrix.shape).copy())


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range") -> Tensor:
    """[start, start + delta, ...) up to limit (`range(n)` counts from 0), as `tf.range`: the widest dtype of the
    arguments (int32 for Python ints, float32 when one is a Python float) unless `dtype` is given."""
    if limit is None:
        start, limit = 0, start
    bounds = [default_array(v) for v in (start, limit, delta)]
    if builtins.any(b.ndim for b in bounds):
        raise ValueError(f"tf.range: start, limit and delta must be scalars, got shapes {[b.shape for b in bounds]}")
    if bounds[2].item() == 0:
        raise ValueError("tf.range: delta must not be 0")
    if dtype is None:
        floats = [b for b in bounds if b.dtype.kind == "f"]
        dtype = np.result_type(*(floats or bounds))
    return Tensor(np.arange(*(b.item() for b in bounds), dtype=as_dtype(dtype)))


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """num evenly spaced values from start to stop inclusive: start, start + i (stop - start) / (num - 1), ...,
    stop (batched when start and stop are arrays, the new axis at `axis`); gradients flow to start and stop."""
    start, stop = convert_to_tensor(start), convert_to_tensor(stop)
    if start.dtype.kind != "f":
        start, stop = cast(start, float32), cast(stop, float32)
    num = int(num)
    ends = (*np.broadcast_shapes(start.shape, stop.shape), 1)
    first, last = (BroadcastTo.apply(t.reshape(*t.shape, 1), shape=ends) for t in (start, stop))
    steps = np.arange(1, max(num - 1, 1), dtype=start.dtype)
    middle = first + (last - first) / max(num - 1, 1) * steps
    values = Concatenate.apply(first, middle, last, axis=-1)[..., :num]
    return values.transpose(_moved_last(values.ndim, axis))


def _moved_last(ndim: int, axis: int) -> list[int]:
    """The permutation that moves the last axis to position `axis`."""
    axis %= ndim
    return [*builtins.range(axis), ndim - 1, *builtins.range(axis, ndim - 1)]


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None, axis: int | None = None,
            dtype: Any = None, name: str | None = None) -> Tensor:
    """on_value where the new axis (last, or `axis`) equals the index, off_value elsewhere; an index outside
    [0, depth) gives a row of off_value. dtype: given, else on_value's, else float32."""
    idx = default_array(indices)
    if idx.dtype.kind == "f" and np.isfinite(idx).all() and (idx == np.round(idx)).all():
        idx = idx.astype(np.int64)  # labels kept as whole floats (the Keras guides cast them so) are indices
    if idx.dtype.kind not in "iu":
        raise TypeError(f"tf.one_hot: indices must be integers, got dtype {idx.dtype}")
    known = [default_array(v) for v in (on_value, off_value) if v is not None]
    dtype = as_dtype(dtype) if dtype is not None else known[0].dtype if known else float32
    on = np.asarray(1 if on_value is None else default_array(on_value), dtype=dtype)
    off = np.asarray(0 if off_value is None else default_array(off_value), dtype=dtype)
    hot = np.where(idx[..., None] == np.arange(int(depth)), on, off)
    axis = -1 if axis is None else axis
    return Tensor(np.moveaxis(hot, -1, axis))


def shape(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:
    """The shape of input as a 1-D integer tensor (int32 unless out_type says otherwise)."""
    return Tensor(np.asarray(default_array(input).shape, dtype=as_dtype(out_type or int32)))


def rank(input: Any, name: str | None = None) -> Tensor:
    """The number of dimensions of input, as an int32 scalar tensor."""
    return Tensor(np.asarray(default_array(input).ndim, dtype=np.int32))


def size(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:
    """The number of elements of input, as an integer scalar tensor (int32 unless out_type says otherwise)."""
    return Tensor(np.asarray(default_array(input).size, dtype=as_dtype(out_type or int32)))


def identity(input: Any, name: str | None = None) -> Tensor:
    """A new tensor with input's values; the gradient passes through unchanged."""
    x = convert_to_tensor(input)
    return AsType.apply(x, dtype=x.dtype)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """input's values cut off from the graph: no gradient flows back through it."""
    return convert_to_tensor(input).detach()


def is_tensor(x: Any) -> bool:
    """Whether x is a shendu Tensor (Variables included), as `tf.is_tensor`."""
    return isinstance(x, Tensor)


__all__: list[str] = [
    "Tensor", "as_dtype", "bool_", "cast", "complex128", "complex64", "constant", "convert_to_tensor", "double",
    "eye", "fill", "float16", "float32", "float64", "half", "identity", "int16", "int32", "int64", "int8",
    "is_tensor", "linspace", "newaxis", "one_hot", "ones", "ones_like", "range", "rank", "shape", "size",
    "stop_gradient", "string", "uint16", "uint32", "uint64", "uint8", "zeros", "zeros_like",
]

dispatch_symbolic(globals(), "", skip=("is_tensor",))  # tf.* on KerasTensors builds a TFOpLambda layer
