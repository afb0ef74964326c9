"""ModelCheckpoint: save the model (or its weights) every epoch or every n batches, or only when it improves."""

from __future__ import annotations

import os
import warnings
from typing import Any

from shendu.callbacks._monitor import finite_or_warn, monitor_op
from shendu.callbacks._save_freq import BatchCount
from shendu.callbacks.callback import Callback


class ModelCheckpoint(Callback):
    """Save to `filepath`, which may hold `{epoch:02d}` and log entries such as `{val_loss:.2f}`.

    save_best_only keeps a file only when `monitor` improves (mode 'auto'/'min'/'max'); save_weights_only
    calls `model.save_weights` instead of `model.save`; save_freq is 'epoch' or a number of batches.
    Files are written atomically by the saving module, so an interrupted run never leaves a broken one.
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = mode
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive integer, got {save_freq!r}")
        self.save_freq = save_freq
        self.best: float | None = initial_value_threshold
        self.monitor_op: Any = monitor_op(mode, monitor, who="ModelCheckpoint")
        self._current_epoch = 0
        self._batches = BatchCount(save_freq)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.monitor_op = monitor_op(self.mode, self.monitor, self.model, "ModelCheckpoint")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq != "epoch" and self._batches.due(batch):
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = dict(logs or {})
        path = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=3)
                return
            if not finite_or_warn("ModelCheckpoint", self.monitor, current, epoch):
                return
            if self.best is not None and not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                before = "inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {before} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as err:
            raise KeyError(
                f'ModelCheckpoint: failed to format filepath "{self.filepath}": {err} is not among the logged '
                f"values {sorted(logs)} (or 'epoch'/'batch')"
            ) from None
