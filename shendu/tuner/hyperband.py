"""Hyperband through optuna's HyperbandPruner: each trial trains for up to `max_epochs` epochs and reports its
objective after every epoch; the pruner (successive halving in brackets of different aggressiveness, with
`reduction_factor=factor`, `min_resource=1`, `max_resource=max_epochs`) stops the trials that fall behind.

The number of trials is KerasTuner's: per iteration, the sum over the brackets b of ceil(B / (b + 1) * factor^b)
configurations, with B = ceil(1 + log_factor(max_epochs)), times `hyperband_iterations`. Unlike KerasTuner, a
promoted trial is not stopped and restarted from a checkpoint: it simply trains on (optuna's asynchronous form).
The values are drawn at random (KerasTuner's Hyperband) unless `sampler` gives an optuna sampler.
"""

from __future__ import annotations

import math
from typing import Any

from shendu.tuner.optuna_oracle import OptunaOracle
from shendu.tuner.tuner import Tuner
from shendu.tuner.tuner_callbacks import PruningCallback


def hyperband_trials(max_epochs: int, factor: int) -> int:
    """The configurations one Hyperband iteration tries (KerasTuner's bracket sizes summed)."""
    brackets, epochs = 0, float(max_epochs)
    while epochs >= 1:
        epochs /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    return sum(math.ceil(end_size / (b + 1) * factor**b) for b in range(brackets))


class HyperbandOracle(OptunaOracle):
    """Random (or `sampler`) values, pruned by optuna's HyperbandPruner on the per-epoch objective."""

    def __init__(self, objective: Any = None, max_epochs: int = 100, factor: int = 3, hyperband_iterations: int = 1,
                 seed: int | None = None, hyperparameters: Any = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, sampler: Any = None, storage: Any = None,
                 study_name: str | None = None) -> None:
        if isinstance(factor, bool) or int(factor) != factor or factor < 2:
            raise ValueError(f"Hyperband: factor must be an int of at least 2, got {factor!r}")
        if isinstance(max_epochs, bool) or int(max_epochs) != max_epochs or max_epochs < 1:
            raise ValueError(f"Hyperband: max_epochs must be a positive int, got {max_epochs!r}")
        if not hyperband_iterations or hyperband_iterations < 1:
            raise ValueError(f"Hyperband: hyperband_iterations must be a positive int, got {hyperband_iterations!r}")
        super().__init__(objective=objective, max_trials=hyperband_iterations * hyperband_trials(max_epochs, factor),
                         seed=seed, hyperparameters=hyperparameters, allow_new_entries=allow_new_entries,
                         tune_new_entries=tune_new_entries, max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials, storage=storage,
                         study_name=study_name)
        self.max_epochs = int(max_epochs)
        self.factor = int(factor)
        self.hyperband_iterations = int(hyperband_iterations)
        self.sampler = sampler

    def _make_sampler(self, optuna: Any) -> Any:
        return self.sampler if self.sampler is not None else optuna.samplers.RandomSampler(seed=self.seed)

    def _make_pruner(self, optuna: Any) -> Any:
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=self.max_epochs,
                                              reduction_factor=self.factor)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "max_epochs": self.max_epochs, "factor": self.factor,
                "hyperband_iterations": self.hyperband_iterations}


class Hyperband(Tuner):
    """KerasTuner's Hyperband on optuna: `search(..., epochs=...)` trains each trial for up to `max_epochs`."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None, hyperparameters: Any = None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, sampler: Any = None, storage: Any = None,
                 study_name: str | None = None, **kwargs: Any) -> None:
        oracle = HyperbandOracle(
            objective, max_epochs=max_epochs, factor=factor, hyperband_iterations=hyperband_iterations, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries, allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial, max_consecutive_failed_trials=max_consecutive_failed_trials,
            sampler=sampler, storage=storage, study_name=study_name)
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        return super()._build_and_fit_model(trial, *args, **{**kwargs, "epochs": self.oracle.max_epochs})

    def _trial_callbacks(self, trial: Any, execution: int) -> list:
        return [PruningCallback(self.oracle, trial)] if execution == 0 else []
