"""History: records each epoch's logs; `fit` returns it (`history.history['loss']`, ...)."""

from __future__ import annotations

from shendu.callbacks.callback import Callback


class History(Callback):
    """`history.history` maps each logged name ('loss', 'accuracy', 'val_loss', ...) to its values per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self
