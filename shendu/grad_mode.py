"""Whether operations record the graph: `no_grad()` turns recording off for inference."""

from __future__ import annotations

import contextlib

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


def no_grad() -> _GradMode:
    """Context manager and decorator: nothing computed inside is recorded, so no graph is kept."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Context manager and decorator that turns recording back on inside a `no_grad` block."""
    return _GradMode(True)
