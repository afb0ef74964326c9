"""Variable: a named, trainable tensor that layers own and optimizers update (`tf.Variable`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor
from shendu.tensor_shape import TensorShape


class Variable(Tensor):
    """A weight: a leaf tensor with a name; every holder of the variable sees its new values after an update.

    `Variable(initial_value, trainable=True, name=None, dtype=None)` as `tf.Variable`: the value (an array, a
    tensor, a number, or a callable returning one) is copied; its dtype is kept unless `dtype` is given (Python floats
    become float32, as everywhere in shendu). A trainable float variable requires a gradient; `trainable=False` ones
    (BatchNorm's moving statistics, counters) and integer ones take none. `name` is kept as given (no ":0" suffix,
    as Keras 3's variables). `assign`, `assign_add` and `assign_sub` give the variable a new array, so the ops
    already recorded keep the values they read and no gradient flows through an assignment, as in TensorFlow
    (optimizers, for speed, update the array in place after the gradients are taken).
    `shape=` (None for sizes that may change) or `validate_shape=False` let `assign` change the shape.
    """

    __slots__ = ("constraint", "name", "trainable", "_allowed_shape", "_in_layer")

    def __init__(self, initial_value: Any = None, trainable: bool | None = None, *, validate_shape: bool = True,
                 name: str | None = None, dtype: Any = None, constraint: Callable[[Any], Any] | None = None,
                 shape: Any = None) -> None:
        if initial_value is None:
            raise ValueError("Variable: initial_value must be specified.")
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if isinstance(initial_value, Tensor):
            initial_value = initial_value.data
        arr = backend.as_array(initial_value, dtype)
        fresh = arr is not initial_value and arr.base is None and getattr(arr.flags, "writeable", True)  # CuPy: no flag
        arr = arr if fresh else arr.copy()
        trainable = True if trainable is None else bool(trainable)
        super().__init__(arr, requires_grad=trainable and arr.dtype.kind in "fc")
        self.name = "Variable" if name is None else name
        self.trainable = trainable
        self.constraint = constraint
        self._in_layer = False  # a layer's weight (`add_weight`, or tracked as an attribute): no other layer takes it
        allowed = TensorShape(None) if not validate_shape else TensorShape(arr.shape if shape is None else shape)
        if not allowed.is_compatible_with(arr.shape):
            raise ValueError(f"Variable '{self.name}': the initial value has shape {self.shape}, "
                             f"which does not fit shape={allowed}")
        self._allowed_shape = allowed

    def assign(self, value: Any, use_locking: bool = False, name: str | None = None,
               read_value: bool = True) -> Variable | None:
        """Set the values (a copy of value; the shape must match); returns the variable (None if `read_value=False`).

        Values of another dtype are converted within their kind or upwards (float64 into float32, int into float);
        a float into an integer variable raises TypeError.
        """
        self._replace(value.data if isinstance(value, Tensor) else value, "assign", fresh=False)
        return self if read_value else None

    def assign_add(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable | None:
        """`v.assign(v + delta)`; returns the variable (None if `read_value=False`)."""
        self._replace(self.data + (delta.data if isinstance(delta, Tensor) else delta), "assign_add")
        return self if read_value else None

    def assign_sub(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable | None:
        """`v.assign(v - delta)`; returns the variable (None if `read_value=False`)."""
        self._replace(self.data - (delta.data if isinstance(delta, Tensor) else delta), "assign_sub")
        return self if read_value else None

    def _replace(self, value: Any, method: str, fresh: bool = True) -> None:
        """Give the variable a new array holding value (`fresh`: value is a new array nobody else holds)."""
        xp = backend.get_array_module(self.data)
        arr = xp.asarray(value)
        if arr.shape != self.data.shape and not self._allowed_shape.is_compatible_with(arr.shape):
            raise ValueError(f"Variable '{self.name}'.{method}: cannot assign a value of shape {arr.shape} to "
                             f"shape {self.shape}")
        if not xp.can_cast(arr.dtype, self.data.dtype, "same_kind"):
            raise TypeError(f"Variable '{self.name}'.{method}: cannot convert a value of dtype {arr.dtype} to the "
                            f"variable's dtype {self.dtype}")
        self.data = arr.astype(self.data.dtype, copy=not fresh)

    def read_value(self) -> Tensor:
        """The current value as a new tensor: later assignments do not change it; the gradient flows to the variable."""
        return self.astype(self.dtype)

    value = read_value

    def numpy(self) -> Any:
        """A copy of the values (a variable changes in place, so a shared array would change with it)."""
        value = super().numpy()
        return value.copy() if isinstance(value, np.ndarray) else value

    def __repr__(self) -> str:
        return (f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype} trainable={self.trainable}, "
                f"numpy={self.numpy()!r}>")
