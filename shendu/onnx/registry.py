"""The table of layer converters: `@converts(Dense)` registers a function (graph, call) -> output name(s)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CONVERTERS: dict[type, Callable[..., Any]] = {}


def converts(*classes: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the converter of exactly these classes (a subclass, which may
    change `call`, needs its own)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return register


class ExportError(ValueError):
    """A model or layer that the ONNX export cannot express."""
