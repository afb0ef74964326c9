"""ProgbarLogger: the per-epoch progress bar of fit/evaluate/predict (verbose 1: live bar, 2: one line per epoch)."""

from __future__ import annotations

from typing import Any

from shendu.callbacks.callback import Callback


class ProgbarLogger(Callback):
    """Prints 'Epoch i/n' and a `shendu.utils.Progbar` per epoch; the logged values are shown as they are
    (they are already running means over the epoch), so the bar agrees with History."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Any = None
        self._keys_known = False
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._called_in_fit = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self._called_in_fit = False

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._reset()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._reset()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, None)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finalize(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finalize(logs)

    def _reset(self) -> None:
        from shendu.utils import Progbar

        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")
        self._keys_known = False

    def _update(self, batch: int, logs: dict | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            if logs and not self._keys_known:
                self._keys_known = True
                self.progbar.stateful_metrics.update(logs)
            self.progbar.update(self.seen, list(logs.items()) if logs else None, finalize=False)

    def _finalize(self, logs: dict | None) -> None:
        if self.progbar is None:
            self._reset()
        if self.progbar.target is None:
            self.progbar.target = self.target = self.seen
        values = [(k, v) for k, v in (logs or {}).items() if isinstance(v, (int, float))]
        self.progbar.update(self.progbar.target, values, finalize=True)
