"""Variable: a named, trainable tensor that layers own and optimizers update in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor


class Variable(Tensor):
    """A weight: a leaf tensor with a name, updated in place (`assign`) so every reference sees it.

    `trainable=False` variables (e.g. BatchNorm's moving statistics) take no gradient.
    """

    __slots__ = ("constraint", "name", "trainable")

    def __init__(self, value: Any, name: str = "variable", trainable: bool = True, dtype: Any = None) -> None:
        super().__init__(value, requires_grad=trainable, dtype=dtype or _float_dtype(value))
        self.name = name
        self.trainable = trainable
        self.constraint: Any = None

    def assign(self, value: Any) -> None:
        """Overwrite the values in place; the shape must match."""
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        if arr.shape != self.data.shape:
            raise ValueError(
                f"Variable '{self.name}': cannot assign a value of shape {arr.shape} to shape {self.shape}"
            )
        self.data[...] = arr

    def assign_add(self, delta: Any) -> None:
        self.data += delta.data if isinstance(delta, Tensor) else delta

    def assign_sub(self, delta: Any) -> None:
        self.data -= delta.data if isinstance(delta, Tensor) else delta

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype} trainable={self.trainable}>"


def _float_dtype(value: Any) -> Any:
    dt = getattr(value, "dtype", None)
    return dt if dt is not None and np.dtype(dt).kind == "f" else backend.floatx()
