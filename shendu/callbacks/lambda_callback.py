"""LambdaCallback: a callback made of plain functions, for one-off hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shendu.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Hooks given as functions: on_epoch_begin/end(epoch, logs), on_train_batch_begin/end(batch, logs)
    (also as on_batch_begin/end), on_train_begin/end(logs); other `on_*` hooks may be given by keyword."""

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs: Any) -> None:
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin, "on_train_batch_end": on_train_batch_end}
        for name, fn in kwargs.items():
            if not (name.startswith("on_") and callable(getattr(Callback, name, None))):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            hooks[name] = fn
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
