"""Keras-compatible optimizers: classes, lookup by name (`get("adam")`) and (de)serialization."""

from __future__ import annotations

from typing import Any

from shendu import schedules
from shendu.optimizers.adadelta import Adadelta
from shendu.optimizers.adagrad import Adagrad
from shendu.optimizers.adam import Adam, AdamW
from shendu.optimizers.adamax import Adamax
from shendu.optimizers.nadam import Nadam
from shendu.optimizers.optimizer import Optimizer
from shendu.optimizers.rmsprop import RMSprop
from shendu.optimizers.sgd import SGD

ALL_OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam)
}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """{"class_name": ..., "config": ...}: the JSON-ready form that `deserialize` rebuilds (without state)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """Rebuild an optimizer from `serialize`'s output; built-in class names match case-insensitively."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"optimizers.deserialize: expected a dict with 'class_name' and 'config'; got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or ALL_OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"optimizers: unknown optimizer '{name}'. Known: {', '.join(sorted(ALL_OPTIMIZERS))}"
            "; pass user-defined classes in custom_objects."
        )
    return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name ("adam"), a serialized dict, or an instance (returned as is); None gives None."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"optimizers.get: could not interpret optimizer identifier {identifier!r}; expected a name "
        f"({', '.join(sorted(ALL_OPTIMIZERS))}), a config dict or an Optimizer"
    )


__all__ = [
    "ALL_OPTIMIZERS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam", "Optimizer", "RMSprop",
    "deserialize", "get", "schedules", "serialize",
]
