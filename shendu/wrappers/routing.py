"""SciKeras's parameter routing: `model__units=64` goes to the build function, `optimizer__learning_rate=1e-2` to
the optimizer's constructor, `fit__epochs` to `Model.fit`, `callbacks__0__patience` to the first callback class.

A prefix routes a parameter to one destination; a class given as a value (`optimizer=SGD`) is instantiated with
the parameters routed to it, recursively (`optimizer__learning_rate=ExponentialDecay`,
`optimizer__learning_rate__decay_steps=10`); list items are addressed by index and dict items by key.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any


def route_params(params: dict[str, Any], destination: str, pass_filter: Iterable[str] | None,
                 strict: bool = False) -> dict[str, Any]:
    """The parameters for `destination`: the unrouted ones named in pass_filter (all with None), then those
    prefixed `destination__` with the prefix removed (with strict, not those routed further on)."""
    allowed = None if pass_filter is None else set(pass_filter)
    out = {k: v for k, v in params.items() if "__" not in k and (allowed is None or k in allowed)}
    prefix = destination + "__"
    for key, value in params.items():
        if key.startswith(prefix):
            rest = key[len(prefix):]
            if not (strict and "__" in rest):
                out[rest] = value
    return out


def unflatten_params(items: Any, params: dict[str, Any], base_params: dict[str, Any] | None = None) -> Any:
    """Classes in `items` (alone, in a list by index, in a dict by key) instantiated with the parameters routed to
    them; an object that is not a class takes no parameters."""
    own = {k: v for k, v in params.items() if "__" not in k}
    if inspect.isclass(items):
        kwargs = {**(base_params or {}), **own}
        kwargs = {k: unflatten_params(v, route_params(params, k, set())) for k, v in kwargs.items()}
        args = [kwargs.pop(k) for k in sorted((k for k in kwargs if k.isdigit()), key=int)]
        return items(*args, **kwargs)
    if isinstance(items, (list, tuple)):
        return type(items)(unflatten_params(item, route_params(params, str(i), set()), own)
                           for i, item in enumerate(items))
    if isinstance(items, dict):
        return {key: unflatten_params(item, route_params(params, str(key), set()), own) for key, item in items.items()}
    kwargs = {**(base_params or {}), **own}
    if kwargs:
        raise TypeError(f"{items!r} (a {type(items).__name__}) takes no routed parameters because it is not a class; "
                        f"got {sorted(kwargs)}. Pass the class instead to have it built with them")
    return items


def classes_for_names(items: Any, getter: Callable[[str], Any]) -> Any:
    """Names ('adam', 'mse') replaced by the class `getter` resolves them to, in lists and dicts too."""
    if isinstance(items, str):
        found = getter(items)
        return found if inspect.isclass(found) else type(found)
    if isinstance(items, (list, tuple)):
        return type(items)(classes_for_names(item, getter) for item in items)
    if isinstance(items, dict):
        return {k: classes_for_names(v, getter) for k, v in items.items()}
    return items


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether fn takes a keyword `name` (or **kwargs)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind == p.VAR_KEYWORD or (p.name == name and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
               for p in parameters)
