"""Whether operations record the graph: `no_grad()` turns recording off for inference."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets recording on or off inside a `with` block or a decorated function, then restores it."""

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self.saved: list[bool] = []

    def __enter__(self) -> None:
        global enabled
        self.saved.append(enabled)
        enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global enabled
        enabled = self.saved.pop()


def no_grad(func: Callable[..., Any] | None = None) -> Any:
    """Context manager and decorator (`@no_grad()` or `@no_grad`): nothing computed inside is recorded."""
    mode = _GradMode(False)
    return mode if func is None else mode(func)


def enable_grad(func: Callable[..., Any] | None = None) -> Any:
    """Context manager and decorator that turns recording back on, e.g. inside a `no_grad` block."""
    mode = _GradMode(True)
    return mode if func is None else mode(func)
