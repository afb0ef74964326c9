"""Weight constraints (Keras's): applied to a weight after each optimizer update, `constraint(w) -> w'`.

They take and return an array or a Tensor (the same kind as given) and never record a graph.
"""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.saving import serialization
from shendu.tensor import Tensor

EPSILON = 1e-7


class Constraint:
    """Base class: `__call__(w)` returns the projected weight; `get_config()` its arguments."""

    def __call__(self, w: Any) -> Any:
        arr = w.data if isinstance(w, Tensor) else w
        out = self.project(arr)
        return Tensor(out) if isinstance(w, Tensor) else out

    def project(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w: Any, axis: Any) -> Any:
    xp = get_array_module(w)
    return xp.sqrt((w * w).sum(axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescale each slice along `axis` (per output unit for axis=0) to a norm of at most max_value."""

    def __init__(self, max_value: float = 2.0, axis: Any = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def project(self, w: Any) -> Any:
        norms = _norms(w, self.axis)
        desired = get_array_module(w).clip(norms, 0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's norm toward [min_value, max_value]: norm' = rate * clip(norm) + (1 - rate) * norm."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Any = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def project(self, w: Any) -> Any:
        norms = _norms(w, self.axis)
        clipped = get_array_module(w).clip(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights set to zero."""

    def project(self, w: Any) -> Any:
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Each slice along `axis` divided by its norm."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def project(self, w: Any) -> Any:
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_BY_NAME: dict[str, Any] = {
    "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
    "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
}


def get(identifier: Any) -> Any:
    """A constraint from a name, a config dict, a class, an instance or a callable; None stays None."""
    return serialization.get_object(identifier, _BY_NAME, "constraint")


def serialize(constraint: Any) -> Any:
    """{'class_name': ..., 'config': ...} as Keras writes it (None stays None; plain functions give their name)."""
    return serialization.serialize_object(constraint)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of `serialize`; a bare name works as in `get`."""
    return serialization.deserialize_object(config, _BY_NAME, custom_objects, "constraint")

__all__ = [
    "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm", "min_max_norm",
    "non_neg", "serialize", "unit_norm"
]
