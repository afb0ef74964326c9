"""Keras-style serialization: objects <-> {"class_name", "config"} dicts, and the registry of custom objects.

`serialize(layer)` / `deserialize(config, custom_objects)` for layers (and models); custom classes and
functions are found through `register_keras_serializable` or `custom_objects`. Names resolve in Keras's
order: `custom_objects`, then an active `custom_object_scope`, then the registry, then the built-ins.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

_REGISTERED: dict[str, Any] = {}  # "Package>Name" -> object
_REGISTERED_NAMES: dict[Any, str] = {}  # object -> "Package>Name"
_SCOPES: list[dict[str, Any]] = []  # active custom_object_scope dicts, innermost last


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: make a class or function findable by `deserialize` under the name 'package>name'."""

    def decorator(obj: Any) -> Any:
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: {obj.__name__} has no get_config() method to serialize it")
        _REGISTERED[registered] = obj
        _REGISTERED_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name an object serializes under: 'package>name' if registered, else its own name."""
    return _REGISTERED_NAMES.get(obj) or getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None,
                          module_objects: dict[str, Any] | None = None) -> Any:
    """The object for a name from custom_objects, the active scopes, the registry or module_objects; else None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if name in _REGISTERED:
        return _REGISTERED[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


@contextlib.contextmanager
def custom_object_scope(*scopes: dict[str, Any] | None) -> Iterator[None]:
    """Within this block, names in these dicts resolve to their objects (as `keras.utils.custom_object_scope`)."""
    merged: dict[str, Any] = {}
    for scope in scopes:
        merged.update(scope or {})
    _SCOPES.append(merged)
    try:
        yield
    finally:
        _SCOPES.pop()


CustomObjectScope = custom_object_scope


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
    """Classes a config may name without registration: everything exported by shendu.layers and shendu.models."""
    import importlib

    out: dict[str, Any] = {}
    for module_name in ("shendu.layers", "shendu.models"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for key, value in vars(module).items():
            if inspect.isclass(value) and hasattr(value, "from_config"):
                out.setdefault(key, value)
    return out
