"""Grid search: every combination of the hyperparameters' values, in order, like an odometer whose last
hyperparameter turns fastest; each starts at its default. A Float without a step contributes 10 evenly spaced
values and an Int with log sampling and no step 10 values (KerasTuner's rule); give a `step` for another grid.
"""

from __future__ import annotations

from typing import Any

from shendu.tuner.oracle import Oracle
from shendu.tuner.trial import TrialStatus
from shendu.tuner.tuner import Tuner


class GridSearchOracle(Oracle):
    """Hands out the grid's combinations one after the other (only the active hyperparameters count)."""

    def __init__(self, objective: Any = None, max_trials: int | None = None, seed: int | None = None,
                 hyperparameters: Any = None, allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3) -> None:
        super().__init__(objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries, seed=seed,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials)

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if not self.start_order:
            space = self.get_space()
            values = {hp.name: hp.default for hp in space.space if space.is_active(hp)}
        else:
            values = self.trials[self.start_order[-1]].hyperparameters.values
            while values is not None:
                values = self._get_next_combination(values)
                if values is not None and not self._duplicate(values):
                    break
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    def _get_next_combination(self, values: dict[str, Any]) -> dict[str, Any] | None:
        """The combination after `values`: turn the last active hyperparameter that is not at its last value,
        and reset those after it to their defaults; None after the last combination."""
        hps = self.get_space()
        grid = {}
        for hp in hps.space:
            rest = [v for v in hp.values if v != hp.default]
            grid[hp.name] = [hp.default, *rest]
        hps.values = dict(values)
        for hp in reversed(hps.space):
            if hps.is_active(hp):
                current = hps.values[hp.name]
                options = grid[hp.name]
                if current in options and current != options[-1]:
                    hps.values[hp.name] = options[options.index(current) + 1]
                    hps.ensure_active_values()
                    return hps.values
            hps.values[hp.name] = hp.default
        return None


class GridSearch(Tuner):
    """Tries every combination of the space's values (KerasTuner's GridSearch); `max_trials` caps the number."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int | None = None,
                 seed: int | None = None, hyperparameters: Any = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs: Any) -> None:
        self.seed = seed
        oracle = GridSearchOracle(objective=objective, max_trials=max_trials, seed=seed,
                                  hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
                                  allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
                                  max_consecutive_failed_trials=max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
