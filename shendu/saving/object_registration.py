"""The registry of custom objects: `register_keras_serializable`, name lookups and `custom_object_scope`.

A saved config names each class or function; these resolve the name back to the object in Keras's order:
`custom_objects`, then an active `custom_object_scope`, then the registry, then the caller's built-ins.
This module imports nothing of shendu, so that every floor (activations, initializers, layers) can use it.
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
