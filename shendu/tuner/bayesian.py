"""Bayesian optimization through optuna: its TPE sampler by default (a Tree-structured Parzen Estimator: a
density of the good trials over a density of the others, maximized), or its Gaussian-process sampler
(`sampler="gp"`, which needs torch and scipy), in place of KerasTuner's own Gaussian process with UCB.

KerasTuner's arguments map as follows: `num_initial_points` -> the sampler's `n_startup_trials` (random trials
before the model is used; default 3 per hyperparameter, at least 3, as KerasTuner), `seed` -> the sampler's
seed; `alpha` (the GP's noise) and `beta` (UCB's exploration weight) have no counterpart in TPE nor in
optuna's GP (which maximizes log expected improvement): they are kept and reported, and do not act.
"""

from __future__ import annotations

from typing import Any

from shendu.tuner.optuna_oracle import OptunaOracle
from shendu.tuner.tuner import Tuner


class BayesianOptimizationOracle(OptunaOracle):
    """Model-based search in an optuna study; `sampler` is "tpe", "gp" or an optuna sampler object."""

    def __init__(self, objective: Any = None, max_trials: int = 10, num_initial_points: int | None = None,
                 alpha: float = 1e-4, beta: float = 2.6, seed: int | None = None, hyperparameters: Any = None,
                 allow_new_entries: bool = True, tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, sampler: Any = "tpe", storage: Any = None,
                 study_name: str | None = None) -> None:
        super().__init__(objective=objective, max_trials=max_trials, seed=seed, hyperparameters=hyperparameters,
                         allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries,
                         max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials, storage=storage,
                         study_name=study_name)
        if isinstance(sampler, str) and sampler not in ("tpe", "gp"):
            raise ValueError(f"BayesianOptimization: sampler must be 'tpe', 'gp' or an optuna sampler, got {sampler!r}")
        self.num_initial_points = num_initial_points
        self.alpha = alpha
        self.beta = beta
        self.sampler = sampler

    def _make_sampler(self, optuna: Any) -> Any:
        if not isinstance(self.sampler, str):
            return self.sampler
        startup = self.num_initial_points or max(3 * len(self.hyperparameters.space), 3)
        if self.sampler == "gp":
            return optuna.samplers.GPSampler(n_startup_trials=startup, seed=self.seed)
        return optuna.samplers.TPESampler(n_startup_trials=startup, seed=self.seed)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "num_initial_points": self.num_initial_points, "alpha": self.alpha,
                "beta": self.beta, "sampler": self.sampler if isinstance(self.sampler, str) else repr(self.sampler)}


class BayesianOptimization(Tuner):
    """KerasTuner's BayesianOptimization on optuna (see the module's docstring for what maps to what);
    `storage` (a journal file path or a database URL) lets several processes share the search."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4, beta: float = 2.6,
                 seed: int | None = None, hyperparameters: Any = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, sampler: Any = "tpe", storage: Any = None,
                 study_name: str | None = None, **kwargs: Any) -> None:
        self.seed = seed
        oracle = BayesianOptimizationOracle(
            objective=objective, max_trials=max_trials, num_initial_points=num_initial_points, alpha=alpha,
            beta=beta, seed=seed, hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials, sampler=sampler, storage=storage,
            study_name=study_name)
        super().__init__(oracle, hypermodel, **kwargs)
