"""A trial: one set of hyperparameter values, its status, the metrics it reported and its score."""

from __future__ import annotations

from typing import Any

from shendu.tuner.hyperparameters import HyperParameters
from shendu.tuner.json_files import load_json, save_json
from shendu.tuner.metrics_tracking import MetricsTracker


class TrialStatus:
    """What a trial is doing (KerasTuner's names)."""

    RUNNING = "RUNNING"  # may run now
    IDLE = "IDLE"  # the oracle waits for other trials before it can make this one
    INVALID = "INVALID"  # crashed; retried up to max_retries_per_trial times
    STOPPED = "STOPPED"  # no trial: the search is over
    COMPLETED = "COMPLETED"  # finished normally
    FAILED = "FAILED"  # crashed and will not be retried


class Trial:
    """The runs of one set of hyperparameter values: `hyperparameters`, `trial_id`, `status`, `metrics`, `score`
    (the objective's best value), `best_step` (the epoch it came from) and, beyond KerasTuner, `history` (the
    per-epoch logs of each execution) and `pruned` (Hyperband stopped it early)."""

    def __init__(self, hyperparameters: HyperParameters, trial_id: str | None = None,
                 status: str = TrialStatus.RUNNING, message: str | None = None) -> None:
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.metrics = MetricsTracker()
        self.score: float | None = None
        self.best_step: int | None = 0
        self.status = status
        self.message = message
        self.history: list[dict[str, list[float]]] = []
        self.pruned = False

    def summary(self) -> None:
        """Print the trial's hyperparameters and score (KerasTuner's layout)."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        self.display_hyperparameters()
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message is not None:
            print(self.message)

    def display_hyperparameters(self) -> None:
        if not self.hyperparameters.values:
            print("default configuration")
        for name, value in self.hyperparameters.values.items():
            print(f"{name}:", value)

    def get_state(self) -> dict[str, Any]:
        return {"trial_id": self.trial_id, "hyperparameters": self.hyperparameters.get_config(),
                "metrics": self.metrics.get_config(), "score": self.score, "best_step": self.best_step,
                "status": self.status, "message": self.message, "history": self.history, "pruned": self.pruned}

    def set_state(self, state: dict[str, Any]) -> None:
        self.trial_id = state["trial_id"]
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
        self.metrics = MetricsTracker.from_config(state["metrics"])
        self.score = state["score"]
        self.best_step = state["best_step"]
        self.status = state["status"]
        self.message = state.get("message")
        self.history = state.get("history", [])
        self.pruned = bool(state.get("pruned", False))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Trial:
        trial = cls(HyperParameters())
        try:
            trial.set_state(state)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"Trial.from_state: not a trial's state ({err!r})") from None
        return trial

    def save(self, path: str) -> None:
        save_json(path, self.get_state())

    @classmethod
    def load(cls, path: str) -> Trial:
        return cls.from_state(load_json(path))

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, status={self.status}, score={self.score}, " \
               f"values={self.hyperparameters.values})"
