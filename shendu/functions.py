"""Module-level tensor functions in NumPy spelling: concatenate, stack, where, maximum, minimum, pad."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shendu import ops
from shendu.tensor import Tensor, _operand, _raw


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return ops.Concatenate.apply(*[_tensor(t) for t in tensors], axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    return ops.Stack.apply(*[_tensor(t) for t in tensors], axis=axis)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of x where condition holds, else of y (the condition carries no gradient)."""
    like = x if isinstance(x, Tensor) else _tensor(y)
    return ops.Where.apply(_operand(x, like), _operand(y, like), cond=_raw(condition))


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum, broadcasting."""
    like = a if isinstance(a, Tensor) else _tensor(b)
    return ops.Maximum.apply(_operand(a, like), _operand(b, like))


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum, broadcasting."""
    like = a if isinstance(a, Tensor) else _tensor(b)
    return ops.Minimum.apply(_operand(a, like), _operand(b, like))


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """Pad with a constant, NumPy's `pad_width` spelling: ((before, after), ...) or one pair for all axes."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is differentiable here; got mode={mode!r}")
    return ops.Pad.apply(_tensor(x), pad_width=pad_width, constant_values=constant_values)
