"""The callbacks a tuner adds to each fit: the best epoch's weights to the trial's checkpoint, the tuner's
epoch hooks, and (Hyperband) the per-epoch report to optuna that stops a trial the pruner gives up on."""

from __future__ import annotations

import math
import os
from typing import Any

from shendu.callbacks import Callback
from shendu.tuner.json_files import save_json
from shendu.tuner.objective import Objective

BUILD_CONFIG = "build_config.json"  # the input shape, to build a model whose first layer has none before loading


class TunerCallback(Callback):
    """Forwards the epoch and batch hooks to the tuner's `on_epoch_end(trial, model, epoch, logs)` & co."""

    def __init__(self, tuner: Any, trial: Any) -> None:
        super().__init__()
        self.tuner = tuner
        self.trial = trial

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.tuner.on_batch_begin(self.trial, self.model, batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.tuner.on_batch_end(self.trial, self.model, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)


class SaveBestEpoch(Callback):
    """Keeps the weights of the epoch where the objective beat its best so far, across all the executions of a
    trial (without the objective in the logs: the last epoch's), and writes them to the trial's checkpoint
    (shendu's safetensors file) when the fit ends: one write per execution instead of one per better epoch."""

    def __init__(self, objective: Objective, filepath: str) -> None:
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = -math.inf if objective.direction == "max" else math.inf
        self._best: tuple[Any, list] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.objective.has_value(logs):
            value = float(self.objective.get_value(logs))
            if not self.objective.better_than(value, self.best_value):
                return
            self.best_value = value
        self._best = (self.model, [w.copy() for w in self.model.get_weights()])

    def on_train_end(self, logs: dict | None = None) -> None:
        self.flush()

    def flush(self) -> None:
        """Write the best weights kept since the last write (the tuner calls it after each execution's fit, for
        training loops of a HyperModel.fit that do not call on_train_end)."""
        from shendu.saving import save_weights

        if self._best is None:
            return
        model, weights = self._best
        self._best = None
        model.set_weights(weights)
        save_weights(model, self.filepath)
        save_json(os.path.join(os.path.dirname(self.filepath), BUILD_CONFIG),
                  {"input_shape": getattr(model, "_build_input_shape", None)})


class PruningCallback(Callback):
    """Reports the objective after each epoch to the oracle (optuna's `trial.report`, step = epochs done) and,
    when the pruner says so, marks the trial pruned and ends the fit cleanly (`model.stop_training`)."""

    def __init__(self, oracle: Any, trial: Any) -> None:
        super().__init__()
        self.oracle = oracle
        self.trial = trial

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if not self.oracle.objective.has_value(logs):
            return
        value = float(self.oracle.objective.get_value(logs))
        if self.oracle.report_intermediate(self.trial.trial_id, value, epoch + 1):
            self.trial.pruned = True
            self.model.stop_training = True
