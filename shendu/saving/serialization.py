"""Objects <-> Keras's {"class_name", "config"} dicts: layers and models, and the initializers, regularizers,
constraints and activations they hold.

`serialize(layer)` / `deserialize(config, custom_objects)` for layers (and models); `serialize_object`,
`deserialize_object` and `get_object` for the smaller objects, each kind passing its own built-ins. Names
resolve through `object_registration` (custom_objects, the active scopes, the registry, the built-ins).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from shendu.saving.object_registration import custom_object_scope, get_registered_name, get_registered_object

_LAYER_MODULES = ("shendu.layers", "shendu.models")


def serialize(layer: Any) -> dict[str, Any]:
    """{"class_name": ..., "config": layer.get_config()}, the form `deserialize` reads back."""
    return {"class_name": get_registered_name(type(layer)), "config": layer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuild a layer (or model) from `serialize`'s dict, looking its class up by name."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = get_registered_object(name, custom_objects, _builtin_layers())
    if cls is None and config.get("registered_name"):
        cls = get_registered_object(config["registered_name"], custom_objects)
    if cls is None:
        raise ValueError(_unknown("layer", name))
    if cls.__name__ == "Layer" and cls.__module__ == "shendu.layers.base":
        raise ValueError("deserialize: class_name 'Layer' names the abstract base class, which cannot compute "
                         "anything; a config must name a concrete layer")
    return _from_config(cls, config.get("config", {}), custom_objects)


def deserialize_object(config: Any, builtins: dict[str, Any], custom_objects: dict[str, Any] | None,
                       kind: str) -> Any:
    """Rebuild an initializer, regularizer, constraint, ... from a name or a {"class_name", "config"} dict.

    `builtins` maps names to classes or factories, called without arguments when given a bare name.
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects)
        if obj is None:
            factory = builtins.get(config)
            if factory is None:
                raise ValueError(_unknown(kind, config))
            return factory()
        return obj() if inspect.isclass(obj) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {kind} config: {config!r}")
    name = config["class_name"]
    cls = get_registered_object(name, custom_objects, builtins)
    if cls is None and config.get("registered_name"):
        cls = get_registered_object(config["registered_name"], custom_objects)
    if cls is None:
        raise ValueError(_unknown(kind, name))
    return _from_config(cls, config.get("config") or {}, custom_objects)


def get_object(identifier: Any, builtins: dict[str, Any], kind: str) -> Any:
    """Resolve a `get(identifier)` argument: None, a name, a config dict, a class (instantiated) or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize_object(identifier, builtins, None, kind)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize_object(obj: Any) -> Any:
    """{"class_name", "config"} for an object with get_config, its (registered) name for a function, None for None."""
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        return get_registered_name(obj)
    return {"class_name": get_registered_name(type(obj)), "config": obj.get_config()}


def _from_config(cls: Any, config: dict[str, Any], custom_objects: dict[str, Any] | None) -> Any:
    with custom_object_scope(custom_objects):
        from_config = getattr(cls, "from_config", None)
        if from_config is None:
            return cls(**config)
        if "custom_objects" in inspect.signature(from_config).parameters:
            return from_config(config, custom_objects=custom_objects)
        return from_config(config)


def _unknown(kind: str, name: str) -> str:
    return (
        f"Unknown {kind}: '{name}'. If it is a custom {kind}, register it with "
        f"@shendu.saving.register_keras_serializable() or pass custom_objects={{'{name}': {name.split('>')[-1]}}}"
    )


def _builtin_layers() -> dict[str, Any]:
    """Classes a config may name without registration: everything exported by shendu.layers and shendu.models.

    Looked up by module name when a config is read, not imported here: those floors sit above this one (and
    `import shendu` has already loaded them, so this is a dictionary lookup in `sys.modules`).
    """
    out: dict[str, Any] = {}
    for module_name in _LAYER_MODULES:
        for key, value in vars(importlib.import_module(module_name)).items():
            if inspect.isclass(value) and hasattr(value, "from_config"):
                out.setdefault(key, value)
    return out
