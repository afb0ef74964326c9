"""tf.math: element-wise math, comparisons, reductions, scans, clipping and segment sums, as adapters over
shendu.ops. The names in `__all__` are also TensorFlow's top-level names (`tf.add`, `tf.reduce_sum`); the others
(`tf.math.log`, `tf.math.reduce_std`, ...) exist only here, as in TensorFlow.

Conversion follows TensorFlow: a tensor operand keeps its dtype and a Python number or NumPy array beside it takes
that dtype (a float never becomes an integer); integer math stays integer, and true division of integers gives
float64 (float32 for 8- and 16-bit integers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from shendu import ops
from shendu.backend import get_array_module
from shendu.creation import as_dtype, convert_to_tensor, default_array
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops import arithmetic, elementwise, nn, reduce
from shendu.tensor import Tensor, make_tensor

# --- conversion ----------------------------------------------------------------------------------------------


def _tf(fn: str) -> str:
    """How the user spelled the function: tf.add for a top-level name, tf.math.log for the others."""
    return f"tf.{fn}" if fn in __all__ else f"tf.math.{fn}"


def _floating(fn: str, x: Any) -> Tensor:
    """x as a tensor, which must be floating-point (TensorFlow has no integer exp, log, sqrt, ...)."""
    t = convert_to_tensor(x)
    if t.dtype.kind not in "fc":
        raise TypeError(f"{_tf(fn)}: expected a floating-point tensor, got dtype {t.dtype}; convert it first, "
                        f"e.g. tf.cast(x, tf.float32)")
    return t


def _like(fn: str, value: Any, dtype: np.dtype) -> Tensor:
    """A non-tensor operand (number, list, array) converted to the other operand's dtype, as TensorFlow does: ints
    may become floats, but a float never becomes an integer or a bool, nor a number a bool."""
    arr = default_array(value)
    if arr.dtype != dtype and (dtype.kind == "b" or (arr.dtype.kind in "fc" and dtype.kind in "iu")):
        raise TypeError(f"{_tf(fn)}: cannot convert {value!r} (dtype {arr.dtype}) to the other operand's dtype {dtype}")
    if arr.dtype != dtype and not isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value, dtype=dtype)  # Python floats straight to float64, not through float32
    return make_tensor(arr.astype(dtype, copy=False), None)


def _binary(fn: str, x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """The two operands of a binary function as tensors of one dtype kind whose shapes broadcast."""
    if not isinstance(y, Tensor):
        x = convert_to_tensor(x)
        y = _like(fn, y, x.dtype)
    elif not isinstance(x, Tensor):
        x = _like(fn, x, y.dtype)
    if x.dtype.kind != y.dtype.kind and {x.dtype.kind, y.dtype.kind} != {"i", "u"}:
        raise TypeError(f"{_tf(fn)}: x has dtype {x.dtype} but y has dtype {y.dtype}; cast one with tf.cast")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"{_tf(fn)}: incompatible shapes {list(x.shape)} and {list(y.shape)}") from None
    return x, y


def _axes(fn: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """An `axis` argument (None, an int, a list, a tensor) as a sorted tuple of non-negative axes (None: all)."""
    if axis is not None:
        arr = np.asarray(axis.data if isinstance(axis, Tensor) else axis)
        if arr.dtype.kind not in "iu" and arr.size:
            raise TypeError(f"{_tf(fn)}: axis must be an int or a list of ints, got {axis!r}")
        axis = tuple(int(a) for a in arr.reshape(-1))
    try:
        return reduce.normalize_axes(axis, ndim)
    except ValueError as err:
        raise ValueError(f"{_tf(fn)}: {err}") from None


def _axis(fn: str, axis: Any, ndim: int) -> int:
    """A single axis (an int or a scalar tensor), made non-negative."""
    axes = _axes(fn, axis, ndim)
    if len(axes) != 1 or np.ndim(axis.data if isinstance(axis, Tensor) else axis) != 0:
        raise ValueError(f"{_tf(fn)}: axis must be a single int, got {axis!r}")
    return axes[0]


def _constant(arr: Any) -> Tensor:
    """A result that carries no gradient (booleans, indices, counts, integer math)."""
    return make_tensor(arr, None)


def _same_dtype(y: Tensor, dtype: np.dtype) -> Tensor:
    """NumPy accumulates small integers in int64; TensorFlow keeps the input's integer dtype."""
    return y if y.dtype == dtype else _constant(y.data.astype(dtype))


# --- arithmetic ----------------------------------------------------------------------------------------------


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x + y element-wise, broadcasting."""
    return ops.Add.apply(*_binary("add", x, y))


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x - y element-wise, broadcasting."""
    return ops.Sub.apply(*_binary("subtract", x, y))


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x * y element-wise, broadcasting."""
    return ops.Mul.apply(*_binary("multiply", x, y))


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """scalar * x for a 0-d scalar."""
    if np.ndim(scalar.data if isinstance(scalar, Tensor) else scalar) != 0:
        raise ValueError(f"tf.scalar_mul: scalar must be 0-d, got {scalar!r}")
    return ops.Mul.apply(*_binary("scalar_mul", scalar, x))


def _true_division(fn: str, x: Any, y: Any) -> Tensor:
    """x / y; integers are first converted to float64 (float32 for 8- and 16-bit integers), as TensorFlow."""
    x, y = _binary(fn, x, y)
    if x.dtype.kind == "b":
        raise TypeError(f"{_tf(fn)}: cannot divide bool tensors")
    if x.dtype.kind in "iu":
        to = np.float32 if max(x.dtype.itemsize, y.dtype.itemsize) <= 2 else np.float64
        x, y = x.astype(to), y.astype(to)
    return ops.Div.apply(x, y)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y element-wise (Python's true division: integers give floats)."""
    return _true_division("divide", x, y)


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y element-wise; integers are converted to float64 (float32 for 8- and 16-bit) first."""
    return _true_division("truediv", x, y)


def divide_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y, and 0 where y is 0 (no gradient flows there either)."""
    x, y = _binary("divide_no_nan", _floating("divide_no_nan", x), y)
    zero = y.data == 0
    safe = ops.Where.apply(_constant(np.ones((), y.dtype)), y, cond=zero)
    return ops.Where.apply(_constant(np.zeros((), x.dtype)), ops.Div.apply(x, safe), cond=zero)


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """floor(x / y) element-wise (Python's //); its gradient is zero."""
    return arithmetic.FloorDiv.apply(*_binary("floordiv", x, y))


def floormod(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x - y floor(x / y): the remainder with the sign of y (Python's %)."""
    return arithmetic.FloorMod.apply(*_binary("floormod", x, y))


mod = floormod


def pow(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x ** y element-wise; integer tensors stay integer (a negative integer exponent is an error, as TensorFlow)."""
    if isinstance(y, (int, float, np.number)) and not isinstance(y, bool):
        x = convert_to_tensor(x)
        return ops.PowScalar.apply(x, p=_like("pow", y, x.dtype).data.item())
    return ops.Pow.apply(*_binary("pow", x, y))


def square(x: Any, name: str | None = None) -> Tensor:
    """x^2 element-wise."""
    return ops.PowScalar.apply(convert_to_tensor(x), p=2)


def squared_difference(x: Any, y: Any, name: str | None = None) -> Tensor:
    """(x - y)^2 element-wise, in one op."""
    return arithmetic.SquaredDifference.apply(*_binary("squared_difference", x, y))


def negative(x: Any, name: str | None = None) -> Tensor:
    """-x element-wise."""
    return ops.Neg.apply(convert_to_tensor(x))


def abs(x: Any, name: str | None = None) -> Tensor:
    """|x| element-wise (its gradient at 0 is 0)."""
    return ops.Abs.apply(convert_to_tensor(x))


def sign(x: Any, name: str | None = None) -> Tensor:
    """-1, 0 or 1 by the sign of x; its gradient is zero."""
    return elementwise.Sign.apply(convert_to_tensor(x))


def maximum(x: Any, y: Any, name: str | None = None) -> Tensor:
    """max(x, y) element-wise; on a tie the gradient goes to x, as TensorFlow."""
    return ops.Maximum.apply(*_binary("maximum", x, y), ties="first")


def minimum(x: Any, y: Any, name: str | None = None) -> Tensor:
    """min(x, y) element-wise; on a tie the gradient goes to x, as TensorFlow."""
    return ops.Minimum.apply(*_binary("minimum", x, y), ties="first")


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """The element-wise sum of a list of tensors of one shape and dtype, in one op."""
    ts = [convert_to_tensor(t) for t in inputs]
    if not ts:
        raise ValueError("tf.add_n: inputs must be a non-empty list of tensors")
    if any(t.shape != ts[0].shape or t.dtype != ts[0].dtype for t in ts):
        raise ValueError(f"tf.add_n: inputs must have one shape and dtype, got {[(t.shape, str(t.dtype)) for t in ts]}")
    return arithmetic.AddN.apply(*ts)


# --- element-wise functions of one tensor --------------------------------------------------------------------


def sqrt(x: Any, name: str | None = None) -> Tensor:
    """sqrt(x) element-wise."""
    return ops.Sqrt.apply(_floating("sqrt", x))


def rsqrt(x: Any, name: str | None = None) -> Tensor:
    """1 / sqrt(x) element-wise."""
    return ops.PowScalar.apply(_floating("rsqrt", x), p=-0.5)


def reciprocal(x: Any, name: str | None = None) -> Tensor:
    """1 / x element-wise."""
    return ops.PowScalar.apply(_floating("reciprocal", x), p=-1)


def exp(x: Any, name: str | None = None) -> Tensor:
    """e^x element-wise."""
    return ops.Exp.apply(_floating("exp", x))


def expm1(x: Any, name: str | None = None) -> Tensor:
    """e^x - 1 element-wise, exact for small x."""
    return elementwise.Expm1.apply(_floating("expm1", x))


def log(x: Any, name: str | None = None) -> Tensor:
    """The natural logarithm element-wise."""
    return ops.Log.apply(_floating("log", x))


def log1p(x: Any, name: str | None = None) -> Tensor:
    """ln(1 + x) element-wise, exact for small x."""
    return elementwise.Log1p.apply(_floating("log1p", x))


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    """1 / (1 + e^-x) element-wise."""
    return ops.Sigmoid.apply(_floating("sigmoid", x))


def log_sigmoid(x: Any, name: str | None = None) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), which never overflows."""
    return ops.Neg.apply(nn.Softplus.apply(ops.Neg.apply(_floating("log_sigmoid", x))))


def tanh(x: Any, name: str | None = None) -> Tensor:
    """tanh(x) element-wise."""
    return ops.Tanh.apply(_floating("tanh", x))


def softplus(features: Any, name: str | None = None) -> Tensor:
    """log(1 + e^x) element-wise, which never overflows."""
    return nn.Softplus.apply(_floating("softplus", features))


def erf(x: Any, name: str | None = None) -> Tensor:
    """The error function element-wise."""
    return elementwise.Erf.apply(_floating("erf", x))


def sin(x: Any, name: str | None = None) -> Tensor:
    """sin(x) element-wise."""
    return elementwise.Sin.apply(_floating("sin", x))


def cos(x: Any, name: str | None = None) -> Tensor:
    """cos(x) element-wise."""
    return elementwise.Cos.apply(_floating("cos", x))


def tan(x: Any, name: str | None = None) -> Tensor:
    """tan(x) element-wise."""
    return elementwise.Tan.apply(_floating("tan", x))


def floor(x: Any, name: str | None = None) -> Tensor:
    """The largest integer <= x element-wise (integers pass through); its gradient is zero."""
    x = convert_to_tensor(x)
    return x if x.dtype.kind in "iub" else elementwise.Floor.apply(x)


def ceil(x: Any, name: str | None = None) -> Tensor:
    """The smallest integer >= x element-wise (integers pass through); its gradient is zero."""
    x = convert_to_tensor(x)
    return x if x.dtype.kind in "iub" else elementwise.Ceil.apply(x)


def round(x: Any, name: str | None = None) -> Tensor:
    """x rounded to the nearest integer, halves to even (banker's rounding); its gradient is zero."""
    x = convert_to_tensor(x)
    return x if x.dtype.kind in "iub" else elementwise.Round.apply(x)


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """t clipped to [clip_value_min, clip_value_max] (scalars or tensors that broadcast to t's shape); the
    gradient passes where t is inside the bounds, bounds included."""
    t = convert_to_tensor(t)
    lo, hi = (_like("clip_by_value", v.data if isinstance(v, Tensor) else v, t.dtype).data
              for v in (clip_value_min, clip_value_max))
    if np.broadcast_shapes(t.shape, lo.shape, hi.shape) != t.shape:
        raise ValueError(f"tf.clip_by_value: the bounds of shapes {lo.shape} and {hi.shape} must broadcast to "
                         f"t's shape {t.shape}")
    return ops.Clip.apply(t, lo=lo, hi=hi)


# --- comparisons and logic (boolean results, no gradient) ----------------------------------------------------


def _compare(fn: str, x: Any, y: Any, op: str) -> Tensor:
    """The NumPy comparison `op` of the two operands, as a bool tensor."""
    x, y = _binary(fn, x, y)
    return _constant(getattr(get_array_module(x.data), op)(x.data, y.data))


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x == y element-wise, as a bool tensor."""
    return _compare("equal", x, y, "equal")


def not_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x != y element-wise, as a bool tensor."""
    return _compare("not_equal", x, y, "not_equal")


def less(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x < y element-wise, as a bool tensor."""
    return _compare("less", x, y, "less")


def less_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x <= y element-wise, as a bool tensor."""
    return _compare("less_equal", x, y, "less_equal")


def greater(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x > y element-wise, as a bool tensor."""
    return _compare("greater", x, y, "greater")


def greater_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x >= y element-wise, as a bool tensor."""
    return _compare("greater_equal", x, y, "greater_equal")


def _logical(fn: str, x: Any, y: Any, op: str) -> Tensor:
    """The NumPy logical `op` of two bool operands."""
    x, y = _binary(fn, x, y)
    if x.dtype.kind != "b":
        raise TypeError(f"{_tf(fn)}: expected bool tensors, got dtype {x.dtype}")
    return _constant(getattr(get_array_module(x.data), op)(x.data, y.data))


def logical_and(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x and y element-wise, for bool tensors."""
    return _logical("logical_and", x, y, "logical_and")


def logical_or(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x or y element-wise, for bool tensors."""
    return _logical("logical_or", x, y, "logical_or")


def logical_xor(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x xor y element-wise, for bool tensors."""
    return _logical("logical_xor", x, y, "logical_xor")


def logical_not(x: Any, name: str | None = None) -> Tensor:
    """not x element-wise, for a bool tensor."""
    x = convert_to_tensor(x)
    if x.dtype.kind != "b":
        raise TypeError(f"tf.logical_not: expected a bool tensor, got dtype {x.dtype}")
    return _constant(~x.data)


def is_nan(x: Any, name: str | None = None) -> Tensor:
    """Where x is NaN, as a bool tensor."""
    x = _floating("is_nan", x)
    return _constant(get_array_module(x.data).isnan(x.data))


def is_inf(x: Any, name: str | None = None) -> Tensor:
    """Where x is +inf or -inf, as a bool tensor."""
    x = _floating("is_inf", x)
    return _constant(get_array_module(x.data).isinf(x.data))


def is_finite(x: Any, name: str | None = None) -> Tensor:
    """Where x is neither infinite nor NaN, as a bool tensor."""
    x = _floating("is_finite", x)
    return _constant(get_array_module(x.data).isfinite(x.data))


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """x where condition holds, else y, all three broadcast (the gradient goes to the chosen side); with
    condition alone, the indices of its true (non-zero) elements as an int64 tensor of shape (count, rank)."""
    cond = condition.data if isinstance(condition, Tensor) else default_array(condition)
    if x is None and y is None:
        return _constant(get_array_module(cond).argwhere(cond).astype(np.int64))
    if x is None or y is None:
        raise ValueError("tf.where: give both x and y, or neither (then the indices of the true elements come back)")
    if cond.dtype.kind != "b":
        raise TypeError(f"tf.where: condition must be a bool tensor, got dtype {cond.dtype}")
    x, y = _binary("where", x, y)
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(f"tf.where: condition, x and y of shapes {list(cond.shape)}, {list(x.shape)} and "
                         f"{list(y.shape)} do not broadcast") from None
    return ops.Where.apply(x, y, cond=cond)


# --- reductions ----------------------------------------------------------------------------------------------


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The sum over axis (all axes when None); integer sums keep the input's dtype."""
    x = convert_to_tensor(input_tensor)
    y = ops.Sum.apply(x, axis=_axes("reduce_sum", axis, x.ndim), keepdims=bool(keepdims))
    return _same_dtype(y, x.dtype) if x.dtype.kind in "iu" else y


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The mean over axis; of integers, the integer mean (the sum divided by the count, truncated toward zero),
    as TensorFlow: tf.reduce_mean([1, 2]) is 1."""
    x = convert_to_tensor(input_tensor)
    axes = _axes("reduce_mean", axis, x.ndim)
    if x.dtype.kind == "b":
        raise TypeError("tf.reduce_mean: cannot average a bool tensor; cast it first, e.g. tf.cast(x, tf.float32)")
    if x.dtype.kind in "iu":
        total = x.data.sum(axis=axes, keepdims=bool(keepdims))
        count = max(int(np.prod([x.shape[a] for a in axes])), 1)
        xp = get_array_module(total)
        return _constant((xp.sign(total) * (xp.abs(total) // count)).astype(x.dtype))
    return ops.Mean.apply(x, axis=axes, keepdims=bool(keepdims))


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The maximum over axis; the gradient is split evenly between tied maxima, as TensorFlow."""
    x = convert_to_tensor(input_tensor)
    return ops.Max.apply(x, axis=_axes("reduce_max", axis, x.ndim), keepdims=bool(keepdims))


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The minimum over axis; the gradient is split evenly between tied minima, as TensorFlow."""
    x = convert_to_tensor(input_tensor)
    return ops.Min.apply(x, axis=_axes("reduce_min", axis, x.ndim), keepdims=bool(keepdims))


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The product over axis (its gradient is exact where a factor is zero)."""
    x = convert_to_tensor(input_tensor)
    y = reduce.Prod.apply(x, axis=_axes("reduce_prod", axis, x.ndim), keepdims=bool(keepdims))
    return _same_dtype(y, x.dtype) if x.dtype.kind in "iu" else y


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The variance over axis, mean((x - mean x)^2) (no Bessel correction, as TensorFlow)."""
    x = _floating("reduce_variance", input_tensor)
    return ops.Var.apply(x, axis=_axes("reduce_variance", axis, x.ndim), keepdims=bool(keepdims))


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The standard deviation over axis, sqrt of `reduce_variance`."""
    x = _floating("reduce_std", input_tensor)
    return ops.Sqrt.apply(ops.Var.apply(x, axis=_axes("reduce_std", axis, x.ndim), keepdims=bool(keepdims)))


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """log(sum(e^x)) over axis, shifted by the maximum so that it never overflows; its gradient is the softmax."""
    x = _floating("reduce_logsumexp", input_tensor)
    return reduce.LogSumExp.apply(x, axis=_axes("reduce_logsumexp", axis, x.ndim), keepdims=bool(keepdims))


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """Whether any element over axis is true, as a bool tensor."""
    x = convert_to_tensor(input_tensor)
    return _constant(x.data.any(axis=_axes("reduce_any", axis, x.ndim), keepdims=bool(keepdims)))


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """Whether every element over axis is true, as a bool tensor."""
    x = convert_to_tensor(input_tensor)
    return _constant(x.data.all(axis=_axes("reduce_all", axis, x.ndim), keepdims=bool(keepdims)))


def count_nonzero(input: Any, axis: Any = None, keepdims: bool | None = None, dtype: Any = np.int64,
                  name: str | None = None) -> Tensor:
    """The number of non-zero elements over axis (int64 unless dtype says otherwise)."""
    x = convert_to_tensor(input)
    axes = _axes("count_nonzero", axis, x.ndim)
    return _constant((x.data != 0).sum(axis=axes, keepdims=bool(keepdims)).astype(as_dtype(dtype)))


def _arg(fn: str, input: Any, axis: Any, output_type: Any, pick: str) -> Tensor:
    """The index of the extreme value (`pick`: argmax or argmin) along one axis."""
    x = convert_to_tensor(input)
    a = _axis(fn, 0 if axis is None else axis, x.ndim)
    return _constant(getattr(x.data, pick)(axis=a).astype(as_dtype(output_type)))


def argmax(input: Any, axis: Any = None, output_type: Any = np.int64, name: str | None = None) -> Tensor:
    """The index of the largest value along axis (0 when None, as TensorFlow), int64 unless output_type says."""
    return _arg("argmax", input, axis, output_type, "argmax")


def argmin(input: Any, axis: Any = None, output_type: Any = np.int64, name: str | None = None) -> Tensor:
    """The index of the smallest value along axis (0 when None, as TensorFlow), int64 unless output_type says."""
    return _arg("argmin", input, axis, output_type, "argmin")


# --- scans ---------------------------------------------------------------------------------------------------


def cumsum(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """The running sum along axis: exclusive leaves each element out of its own sum, reverse sums from the end."""
    x = convert_to_tensor(x)
    y = reduce.Cumsum.apply(x, axis=_axis("cumsum", axis, x.ndim), exclusive=bool(exclusive), reverse=bool(reverse))
    return _same_dtype(y, x.dtype) if x.dtype.kind in "iu" else y


def cumprod(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None) -> Tensor:
    """The running product along axis (exclusive and reverse as in `cumsum`); as in TensorFlow, its gradient is
    divided by x, so a zero in x gives inf or nan there."""
    x = convert_to_tensor(x)
    y = reduce.Cumprod.apply(x, axis=_axis("cumprod", axis, x.ndim), exclusive=bool(exclusive), reverse=bool(reverse))
    return _same_dtype(y, x.dtype) if x.dtype.kind in "iu" else y


# --- norms and clipping --------------------------------------------------------------------------------------


def _squared_norm(x: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """sum(x^2) over axes (all when None), keeping the reduced axes."""
    return ops.Sum.apply(ops.Mul.apply(x, x), axis=axes, keepdims=True)


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """t scaled to L2 norm clip_norm where its norm (over axes, all when None) is larger:
    t * clip_norm / max(norm(t), clip_norm). A zero t stays zero with a finite gradient."""
    x = _floating("clip_by_norm", t)
    sq = _squared_norm(x, _axes("clip_by_norm", axes, x.ndim))
    positive = sq.data > 0
    one = _constant(np.ones((), x.dtype))
    norm = ops.Where.apply(ops.Sqrt.apply(ops.Where.apply(sq, one, cond=positive)), sq, cond=positive)
    x, c = _binary("clip_by_norm", x, clip_norm)
    return ops.Div.apply(ops.Mul.apply(x, c), ops.Maximum.apply(norm, c, ties="first"))


def _global_norm(t_list: Sequence[Any]) -> Tensor:
    """sqrt(sum of the squares of every element of every tensor in t_list); None entries are skipped."""
    ts = [_floating("clip_by_global_norm", t) for t in t_list if t is not None]
    if not ts:
        raise ValueError("tf.clip_by_global_norm: t_list holds no tensor")
    return ops.Sqrt.apply(arithmetic.AddN.apply(*[_squared_norm(t).reshape(()) for t in ts]))


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list[Tensor | None], Tensor]:
    """(the tensors scaled by clip_norm / max(global_norm, clip_norm), global_norm), as TensorFlow: the ratio
    of each tensor's share of the global norm is kept; None entries stay None. An infinite global norm makes
    every entry NaN, to signal the error."""
    if isinstance(t_list, (Tensor, np.ndarray)) or not isinstance(t_list, Sequence):
        raise TypeError("tf.clip_by_global_norm: t_list must be a list or tuple of tensors, got "
                        f"{type(t_list).__name__}")
    norm = _global_norm(t_list) if use_norm is None else _floating("clip_by_global_norm", use_norm)
    norm, c = _binary("clip_by_global_norm", norm, clip_norm)
    scale = ops.Div.apply(c, ops.Maximum.apply(norm, c, ties="first"))
    if not np.isfinite(norm.data).all():
        scale = ops.Add.apply(scale, _constant(np.full((), np.nan, scale.dtype)))
    clipped = [None if t is None else ops.Mul.apply(_floating("clip_by_global_norm", t), scale) for t in t_list]
    return clipped, norm


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x^2), epsilon)) over axis (all axes when None); `dim` is TensorFlow's old name of axis."""
    x = _floating("l2_normalize", x)
    sq = _squared_norm(x, _axes("l2_normalize", axis if dim is None else dim, x.ndim))
    eps = _constant(np.asarray(epsilon, dtype=x.dtype))
    return ops.Mul.apply(x, ops.PowScalar.apply(ops.Maximum.apply(sq, eps, ties="first"), p=-0.5))


# --- top_k, segments, confusion matrix -----------------------------------------------------------------------


class TopKV2(NamedTuple):
    """What `top_k` returns: the k largest values and their indices along the last axis."""

    values: Tensor
    indices: Tensor


def top_k(input: Any, k: int = 1, sorted: bool = True, index_type: Any = np.int32, name: str | None = None) -> TopKV2:
    """The k largest entries of the last axis, largest first (equal values: the lower index first), and their
    indices; the gradient flows to the chosen entries."""
    x = convert_to_tensor(input)
    k = int(k.item() if isinstance(k, Tensor) else k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"tf.math.top_k: need 0 <= k <= the last dimension of a tensor of rank >= 1; got k={k} "
                         f"for shape {list(x.shape)}")
    xp = get_array_module(x.data)
    n = x.shape[-1]
    ascending_of_reversed = xp.argsort(xp.flip(x.data, -1), axis=-1, kind="stable")
    order = (n - 1 - xp.flip(ascending_of_reversed, -1))[..., :k]
    rows = tuple(xp.arange(d).reshape([-1 if i == j else 1 for j in range(x.ndim)]) for i, d in enumerate(x.shape[:-1]))
    values = ops.GetItem.apply(x, index=(*rows, order))
    return TopKV2(values, _constant(order.astype(as_dtype(index_type))))


def _segment_ids(fn: str, data: Tensor, segment_ids: Any) -> Any:
    """segment_ids as an integer array whose shape starts data's shape."""
    ids = default_array(segment_ids)
    if ids.dtype.kind not in "iu" or ids.shape != data.shape[: ids.ndim]:
        raise ValueError(f"{_tf(fn)}: segment_ids must be integers of a shape that starts data's shape "
                         f"{list(data.shape)}, got dtype {ids.dtype} and shape {list(ids.shape)}")
    return ids


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """out[k] = the sum of the rows of data whose segment id is k, for sorted non-negative 1-D ids; out has
    max(id) + 1 rows (a missing id gives a row of zeros)."""
    x = convert_to_tensor(data)
    ids = _segment_ids("segment_sum", x, segment_ids)
    if ids.ndim != 1 or (ids.size and (ids[0] < 0 or (ids[1:] < ids[:-1]).any())):
        raise ValueError("tf.math.segment_sum: segment_ids must be a sorted 1-D tensor of non-negative ids")
    return reduce.SegmentSum.apply(x, ids=ids, n=int(ids[-1]) + 1 if ids.size else 0)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    """out[k] = the sum of the rows of data whose id is k, for k < num_segments, the ids in any order; rows with a
    negative id are dropped. The ids may cover several leading axes of data."""
    x = convert_to_tensor(data)
    ids = _segment_ids("unsorted_segment_sum", x, segment_ids)
    n = int(num_segments.item() if isinstance(num_segments, Tensor) else num_segments)
    if ids.size and ids.max() >= n:
        raise ValueError(f"tf.math.unsorted_segment_sum: segment id {int(ids.max())} is not < num_segments={n}")
    return reduce.SegmentSum.apply(x, ids=ids, n=n)


def confusion_matrix(labels: Any, predictions: Any, num_classes: Any = None, weights: Any = None,
                     dtype: Any = np.int32, name: str | None = None) -> Tensor:
    """The (num_classes, num_classes) matrix whose [i, j] counts (or sums the weights of) the samples of label i
    predicted as j; num_classes defaults to the largest label or prediction + 1."""
    lab, pred = (default_array(v).reshape(-1) for v in (labels, predictions))
    if lab.shape != pred.shape or lab.dtype.kind not in "iu" or pred.dtype.kind not in "iu":
        raise ValueError(f"tf.math.confusion_matrix: labels and predictions must be integer vectors of one length, "
                         f"got {lab.dtype} {list(lab.shape)} and {pred.dtype} {list(pred.shape)}")
    n = int(max(lab.max(initial=-1), pred.max(initial=-1)) + 1 if num_classes is None else num_classes)
    if lab.size and (min(lab.min(), pred.min()) < 0 or max(lab.max(), pred.max()) >= n):
        raise ValueError(f"tf.math.confusion_matrix: labels and predictions must lie in [0, {n}), got values from "
                         f"{min(lab.min(), pred.min())} to {max(lab.max(), pred.max())}")
    dtype = as_dtype(dtype)
    w = np.ones(lab.shape, dtype) if weights is None else default_array(weights).reshape(-1).astype(dtype)
    matrix = np.zeros((n, n), dtype)
    np.add.at(matrix, (lab, pred), w)
    return _constant(matrix)


__all__ = [
    "abs", "add", "add_n", "argmax", "argmin", "clip_by_global_norm", "clip_by_norm", "clip_by_value", "cos",
    "cumsum", "divide", "equal", "exp", "floor", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_not", "logical_or", "maximum", "minimum", "multiply", "negative", "not_equal", "pow", "reduce_all",
    "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum",
    "round", "scalar_mul", "sigmoid", "sign", "sin", "sqrt", "square", "subtract", "tan", "tanh", "truediv", "where",
]

dispatch_symbolic(globals(), "math.")  # tf.* on KerasTensors builds a TFOpLambda layer
