"""tf.debugging: assertions on tensor values and shapes, run at once (shendu is eager); a failed one raises
`tf.errors.InvalidArgumentError` (a ValueError) with TensorFlow's message and the values, as TensorFlow does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu.creation import as_dtype
from shendu.tensor import Tensor
from shendu.tf.errors import InvalidArgumentError


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x)


def _fail(message: str | None, text: str) -> None:
    raise InvalidArgumentError(None, None, f"{message + chr(10) if message else ''}{text}")


def _compare(test: Callable[[np.ndarray, np.ndarray], np.ndarray], what: str) -> Callable[..., None]:
    def check(x: Any, y: Any, message: str | None = None, summarize: int | None = None,
              name: str | None = None) -> None:
        a, b = _array(x), _array(y)
        try:
            ok = np.all(test(a, b))
        except ValueError as err:
            raise InvalidArgumentError(None, None, f"{message or ''} shapes {a.shape} and {b.shape} are not "
                                       f"compatible: {err}") from None
        if not ok:
            _fail(message, f"Condition x {what} y did not hold.\nx = {a}\ny = {b}")
    check.__doc__ = f"Raise InvalidArgumentError unless x {what} y for every element (broadcasting)."
    return check


assert_equal = _compare(np.equal, "==")
assert_none_equal = _compare(np.not_equal, "!=")
assert_less = _compare(np.less, "<")
assert_less_equal = _compare(np.less_equal, "<=")
assert_greater = _compare(np.greater, ">")
assert_greater_equal = _compare(np.greater_equal, ">=")


def _sign(test: Callable[[np.ndarray], np.ndarray], what: str) -> Callable[..., None]:
    def check(x: Any, message: str | None = None, summarize: int | None = None, name: str | None = None) -> None:
        a = _array(x)
        if not np.all(test(a)):
            _fail(message, f"Condition x {what} did not hold element-wise.\nx = {a}")
    check.__doc__ = f"Raise InvalidArgumentError unless x {what} for every element."
    return check


assert_positive = _sign(lambda a: a > 0, "> 0")
assert_negative = _sign(lambda a: a < 0, "< 0")
assert_non_negative = _sign(lambda a: a >= 0, ">= 0")
assert_non_positive = _sign(lambda a: a <= 0, "<= 0")


def assert_near(x: Any, y: Any, rtol: float | None = None, atol: float | None = None, message: str | None = None,
                summarize: int | None = None, name: str | None = None) -> None:
    """Raise unless |x - y| <= atol + rtol |y| everywhere (defaults 1e-6 and 1e-6 for float32, as TensorFlow's
    10 x eps)."""
    a, b = _array(x), _array(y)
    eps = np.finfo(a.dtype).eps if a.dtype.kind == "f" else np.finfo(np.float32).eps
    rtol, atol = 10 * eps if rtol is None else rtol, 10 * eps if atol is None else atol
    if not np.all(np.abs(a - b) <= atol + rtol * np.abs(b)):
        _fail(message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}\nx = {a}\ny = {b}")


def assert_rank(x: Any, rank: int, message: str | None = None, name: str | None = None) -> None:
    """Raise unless x has this rank."""
    a = _array(x)
    if a.ndim != int(rank):
        _fail(message, f"Tensor must have rank {int(rank)}. Received rank {a.ndim}, shape {a.shape}")


def assert_rank_at_least(x: Any, rank: int, message: str | None = None, name: str | None = None) -> None:
    """Raise unless x has at least this rank."""
    a = _array(x)
    if a.ndim < int(rank):
        _fail(message, f"Tensor must have rank at least {int(rank)}. Received rank {a.ndim}, shape {a.shape}")


def assert_shapes(shapes: Sequence[tuple[Any, Any]] | dict, data: Any = None, summarize: int | None = None,
                  message: str | None = None, name: str | None = None) -> None:
    """Raise unless every tensor has its shape, a shape being a list of sizes, symbols (a name that must be the same
    size wherever it appears), None or 1 (broadcastable), and '...' for any leading dimensions."""
    sizes: dict[str, int] = {}
    for x, spec in (shapes.items() if isinstance(shapes, dict) else shapes):
        shape = _array(x).shape
        spec = list(spec)
        if spec and spec[0] in ("...", Ellipsis):
            spec = spec[1:]
            shape = shape[len(shape) - len(spec):] if len(shape) >= len(spec) else None
        if shape is None or len(shape) != len(spec):
            _fail(message, f"Specified by tensor with shape {_array(x).shape}: expected rank {len(spec)}")
        for size, want in zip(shape, spec):
            if isinstance(want, str):
                if sizes.setdefault(want, size) != size:
                    _fail(message, f"Specified by tensor with shape {_array(x).shape}: dimension '{want}' must be "
                                   f"{sizes[want]}, got {size}")
            elif want is not None and int(want) != size:
                _fail(message, f"Specified by tensor with shape {_array(x).shape}: expected {spec}")


def assert_type(tensor: Any, tf_type: Any, message: str | None = None, name: str | None = None) -> None:
    """Raise TypeError unless the tensor has this dtype."""
    dt = _array(tensor).dtype
    if dt != as_dtype(tf_type):
        raise TypeError(f"{message + ': ' if message else ''}tensor has dtype {dt}, expected {as_dtype(tf_type)}")


def assert_integer(x: Any, message: str | None = None, name: str | None = None) -> None:
    """Raise TypeError unless x has an integer dtype."""
    if _array(x).dtype.kind not in "iu":
        raise TypeError(f"{message + ': ' if message else ''}expected an integer tensor, got {_array(x).dtype}")


def assert_all_finite(t: Any, message: str, name: str | None = None) -> Tensor:
    """t itself, after checking that it holds no NaN or infinity."""
    return check_numerics(t, message)


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Any:
    """tensor itself when it holds no NaN or infinity; else InvalidArgumentError with the message."""
    a = _array(tensor)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        kind = "NaN" if np.isnan(a).any() else "Inf"
        _fail(None, f"{message} : Tensor had {kind} values")
    return tensor


def is_numeric_tensor(tensor: Any) -> bool:
    """Whether the tensor has a numeric dtype."""
    return isinstance(tensor, Tensor) and tensor.dtype.kind in "biufc"
