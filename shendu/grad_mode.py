"""Whether operations record the graph: `no_grad()` turns recording off for inference.

The mode is per thread, as PyTorch's is: a `no_grad` block in one thread (a data pipeline, an inference server)
does not stop another thread's training step from recording. A new thread starts with recording on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any


class _State(threading.local):
    """The calling thread's mode; `state.enabled` is what `Function.apply` reads for every op."""

    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward (in the calling thread)."""
    return state.enabled


def set_grad_enabled(mode: bool) -> bool:
    """Turn recording on or off in the calling thread; returns the previous mode (to restore it)."""
    previous = state.enabled
    state.enabled = bool(mode)
    return previous


class _GradMode(contextlib.ContextDecorator):
    """Sets recording on or off inside a `with` block or a decorated function, then restores the previous mode.

    The saved modes are kept per thread, so one decorated function may run in several threads at once.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._saved = threading.local()

    def __enter__(self) -> None:
        stack = self._saved.__dict__.setdefault("stack", [])
        stack.append(set_grad_enabled(self.mode))

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._saved.stack.pop()


def no_grad(func: Callable[..., Any] | None = None) -> Any:
    """Context manager and decorator (`@no_grad()` or `@no_grad`): nothing computed inside is recorded."""
    mode = _GradMode(False)
    return mode if func is None else mode(func)


def enable_grad(func: Callable[..., Any] | None = None) -> Any:
    """Context manager and decorator that turns recording back on, e.g. inside a `no_grad` block."""
    mode = _GradMode(True)
    return mode if func is None else mode(func)
