"""The condition of a conditional hyperparameter: active only while its parent takes one of given values."""

from __future__ import annotations

from typing import Any


class Parent:
    """Active when the hyperparameter `name` is active and its value is one of `values` (KerasTuner's Parent)."""

    def __init__(self, name: str, values: Any) -> None:
        values = list(values) if isinstance(values, (list, tuple, set)) else [values]
        if not values:
            raise ValueError(f"conditional_scope('{name}', ...): expected at least one parent value, got none")
        self.name = name
        self.values = values

    def is_active(self, values: dict[str, Any]) -> bool:
        """Whether the parent has a value (it is active) and that value is one of ours."""
        return self.name in values and values[self.name] in self.values

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Parent:
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parent) and other.name == self.name and other.values == self.values

    def __repr__(self) -> str:
        return f"Parent(name={self.name!r}, values={self.values!r})"


def serialize(condition: Parent) -> dict[str, Any]:
    return {"class_name": "Parent", "config": condition.get_config()}


def deserialize(config: dict[str, Any]) -> Parent:
    if not isinstance(config, dict) or config.get("class_name") != "Parent":
        raise ValueError(f"conditions: expected {{'class_name': 'Parent', 'config': ...}}, got {config!r}")
    return Parent.from_config(config["config"])
