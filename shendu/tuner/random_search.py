"""Random search: each trial draws every active hyperparameter at random (seeded), never repeating a set of
values; the search stops after `max_trials` trials or when 20 draws in a row were all repeats."""

from __future__ import annotations

from typing import Any

from shendu.tuner.oracle import Oracle
from shendu.tuner.trial import TrialStatus
from shendu.tuner.tuner import Tuner


class RandomSearchOracle(Oracle):
    """Draws values with `hp.random_sample(seed)`, the seed advancing by one per draw: a seed repeats a search."""

    def __init__(self, objective: Any = None, max_trials: int = 10, seed: int | None = None,
                 hyperparameters: Any = None, allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3) -> None:
        super().__init__(objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}


class RandomSearch(Tuner):
    """Random search over the hypermodel's space (KerasTuner's RandomSearch); `**kwargs` go to Tuner
    (directory, project_name, overwrite, executions_per_trial, ...)."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10, seed: int | None = None,
                 hyperparameters: Any = None, tune_new_entries: bool = True, allow_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3, **kwargs: Any) -> None:
        self.seed = seed
        oracle = RandomSearchOracle(objective=objective, max_trials=max_trials, seed=seed,
                                    hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
                                    allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
                                    max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
