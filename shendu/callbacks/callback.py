"""Callback: hooks that fit/evaluate/predict call at the start and end of training, epochs and batches."""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class of callbacks (Keras's): override the hooks you need; `self.model` and `self.params` are set.

    params holds {'verbose', 'epochs', 'steps'}; every hook receives a `logs` dict, as in Keras 3: the current loss
    and metric values at the end of a batch, an epoch, a training or an evaluation, `{'outputs': ...}` at the end
    of a predict batch, and an empty dict at the beginnings and at the end of predict.
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """A backwards-compatible alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """A backwards-compatible alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of an epoch (0-based) during fit."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of an epoch with the epoch's logs ('loss', metrics and 'val_*' ones)."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each batch of evaluate (and of validation inside fit)."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each batch of evaluate (and of validation inside fit)."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each batch of predict."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each batch of predict; logs hold {'outputs': ...}."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once at the start of fit."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once at the end of fit with the last epoch's logs."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of evaluate (and of validation inside fit)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of evaluate with its logs."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of predict."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of predict."""


_BATCH_HOOKS = {
    "on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end",
    "on_test_batch_begin": None, "on_test_batch_end": None,
    "on_predict_batch_begin": None, "on_predict_batch_end": None,
}


def _overrides(cb: Callback, hook: str, alias: str | None) -> bool:
    cls = type(cb)
    if getattr(cls, hook, None) is not getattr(Callback, hook):
        return True
    if alias is not None and getattr(cls, alias, None) is not getattr(Callback, alias):
        return True
    return hook in vars(cb) or (alias is not None and alias in vars(cb))


def is_chief(model: Any) -> bool:
    """Whether this process prints and writes files: always, except on ranks other than 0 of a data-parallel job
    (a model compiled in a shendu.distribute strategy's scope)."""
    distribution = getattr(model, "_distribution", None)
    return distribution is None or distribution.is_chief


def _writes(cb: Callback) -> bool:
    """The callbacks that print or write files (BackupAndRestore reads on every rank and writes on the chief)."""
    from shendu.callbacks.csv_logger import CSVLogger
    from shendu.callbacks.model_checkpoint import ModelCheckpoint
    from shendu.callbacks.progbar_logger import ProgbarLogger
    from shendu.callbacks.tensorboard import TensorBoard

    return isinstance(cb, (CSVLogger, ModelCheckpoint, ProgbarLogger, TensorBoard))


def _dict(logs: dict | None) -> dict:
    """The logs a hook passes on: an empty dict for none, as Keras 3's CallbackList does."""
    return {} if logs is None else logs


class CallbackList:
    """Calls each hook on every callback in order; adds History and ProgbarLogger when asked, as fit does.

    Batch hooks go only to the callbacks that override them, so an empty hook costs nothing per step.
    """

    def __init__(self, callbacks: Any = None, add_history: bool = False, add_progbar: bool = False,
                 model: Any = None, **params: Any) -> None:
        from shendu.callbacks.history import History
        from shendu.callbacks.progbar_logger import ProgbarLogger

        self.callbacks: list[Callback] = list(callbacks.callbacks if isinstance(callbacks, CallbackList)
                                              else callbacks or [])
        for cb in self.callbacks:
            if not hasattr(cb, "on_epoch_end"):
                raise TypeError(f"callbacks must be Callback instances; got {type(cb).__name__}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if not is_chief(model):  # data-parallel training: only rank 0 prints and writes files
            self.callbacks = [cb for cb in self.callbacks if not _writes(cb)]
        self.model = None
        self.params: dict[str, Any] = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._refresh()

    def _refresh(self) -> None:
        self._batch = {hook: [cb for cb in self.callbacks if _overrides(cb, hook, alias)]
                       for hook, alias in _BATCH_HOOKS.items()}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._refresh()

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model: Any) -> None:
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def _all(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._all("on_train_begin", _dict(logs))

    def on_train_end(self, logs: dict | None = None) -> None:
        self._all("on_train_end", _dict(logs))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._all("on_epoch_begin", epoch, _dict(logs))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._all("on_epoch_end", epoch, _dict(logs))

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._all("on_test_begin", _dict(logs))

    def on_test_end(self, logs: dict | None = None) -> None:
        self._all("on_test_end", _dict(logs))

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._all("on_predict_begin", _dict(logs))

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._all("on_predict_end", _dict(logs))

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_end(batch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_train_batch_begin"]:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_train_batch_end"]:
            cb.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_test_batch_begin"]:
            cb.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_test_batch_end"]:
            cb.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_predict_batch_begin"]:
            cb.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = _dict(logs)
        for cb in self._batch["on_predict_batch_end"]:
            cb.on_predict_batch_end(batch, logs)

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides this batch hook (lets the loop skip building per-batch logs)."""
        return bool(self._batch[hook])
