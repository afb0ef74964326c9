"""Weight regularizers (Keras's): called on a weight, each returns a scalar Tensor penalty in the graph."""

from __future__ import annotations

import math
from typing import Any

from shendu.saving import serialization
from shendu.tensor import Tensor


def _factor(value: Any, name: str, owner: str) -> float:
    if not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative float, got {value!r}")
    return float(value)


class Regularizer:
    """Base class: `__call__(weight) -> scalar Tensor` added to the loss; `get_config()` its factors."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """penalty = l1 * sum(|x|)."""

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(l1, "l1", "L1")

    def __call__(self, x: Tensor) -> Tensor:
        return abs(x).sum() * self.l1

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2 * sum(x^2) (no 1/2 factor, as Keras)."""

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(l2, "l2", "L2")

    def __call__(self, x: Tensor) -> Tensor:
        return (x * x).sum() * self.l2

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """penalty = l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "l1", "L1L2")
        self.l2 = _factor(l2, "l2", "L1L2")

    def __call__(self, x: Tensor) -> Tensor:
        penalty = abs(x).sum() * self.l1 if self.l1 else None
        if self.l2:
            sq = (x * x).sum() * self.l2
            penalty = sq if penalty is None else penalty + sq
        return penalty if penalty is not None else (x * 0.0).sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


l1, l2 = L1, L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An L1L2 regularizer with both factors 0.01 unless given (tf.keras's function form)."""
    return L1L2(l1=l1, l2=l2)


_BY_NAME: dict[str, Any] = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": l1_l2}


def get(identifier: Any) -> Any:
    """A regularizer from a name, a config dict, a class, an instance or a callable; None stays None."""
    return serialization.get_object(identifier, _BY_NAME, "regularizer")


def serialize(regularizer: Any) -> Any:
    """{'class_name': ..., 'config': ...} as Keras writes it (None stays None; plain functions give their name)."""
    return serialization.serialize_object(regularizer)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of `serialize`; a bare name works as in `get`."""
    return serialization.deserialize_object(config, _BY_NAME, custom_objects, "regularizer")

__all__ = [
    "L1", "L1L2", "L2", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2", "serialize"
]
