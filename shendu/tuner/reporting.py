"""What a search prints: one line per finished trial (its hyperparameters, objective and the best so far), and
the summaries of the search space and of the results in KerasTuner's layout."""

from __future__ import annotations

import time
from typing import Any

from shendu.tuner.trial import Trial, TrialStatus


def format_value(value: Any, width: int = 18) -> str:
    """A number with 5 significant digits, anything else as text cut to `width` characters."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.5g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_duration(seconds: float) -> str:
    s = round(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    head = f"{days:d}d " if days else ""
    return f"{head}{hours:02d}h {minutes:02d}m {s:02d}s"


class Display:
    """Prints one line when a trial ends (verbose >= 1): number, status, time, objective, best so far, values."""

    def __init__(self, oracle: Any, verbose: int = 1) -> None:
        self.oracle = oracle
        self.verbose = verbose
        self.search_start: float | None = None
        self.trial_start: dict[str, float] = {}

    def on_trial_begin(self, trial: Trial) -> None:
        now = time.monotonic()
        self.trial_start[trial.trial_id] = now
        if self.search_start is None:
            self.search_start = now

    def on_trial_end(self, trial: Trial) -> None:
        if not self.verbose:
            return
        print(self.trial_line(trial), flush=True)

    def trial_line(self, trial: Trial) -> str:
        """'Trial 3/10 COMPLETED [00h 00m 02s] val_loss=0.0912 | best val_loss=0.0871 | units=32, lr=0.001'."""
        now = time.monotonic()
        took = format_duration(now - self.trial_start.get(trial.trial_id, now))
        total = f"/{self.oracle.max_trials}" if self.oracle.max_trials else ""
        name = self.oracle.objective.name
        head = f"Trial {_number(trial.trial_id)}{total} {trial.status}{' (pruned)' if trial.pruned else ''} [{took}]"
        parts = [head + (f" {name}={format_value(trial.score)}" if trial.score is not None else "")]
        best = [t for t in self.oracle.get_best_trials(1) if t.status == TrialStatus.COMPLETED]
        parts.append(f"best {name}={format_value(best[0].score)}" if best else f"best {name}=?")
        values = ", ".join(f"{k}={format_value(v)}" for k, v in trial.hyperparameters.values.items())
        parts.append(values or "default configuration")
        if trial.status in (TrialStatus.FAILED, TrialStatus.INVALID) and trial.message:
            parts.append(trial.message.strip().splitlines()[-1])
        return " | ".join(parts)


def _number(trial_id: str) -> str:
    """The 1-based number of a trial whose id is its 0-based index ('03' -> '4'), else the id."""
    return str(int(trial_id) + 1) if str(trial_id).isdigit() else str(trial_id)


def search_space_summary(space: Any) -> None:
    """Print each hyperparameter of the space with its configuration (KerasTuner's layout)."""
    print("Search space summary")
    print(f"Default search space size: {len(space.space)}")
    for hp in space.space:
        config = hp.get_config()
        name = config.pop("name")
        print(f"{name} ({type(hp).__name__})")
        print(config)


def results_summary(oracle: Any, project_dir: str, num_trials: int = 10) -> None:
    """Print the best `num_trials` trials, best first (KerasTuner's layout)."""
    print("Results summary")
    print(f"Results in {project_dir}")
    print(f"Showing {num_trials} best trials")
    print(oracle.objective)
    for trial in oracle.get_best_trials(num_trials):
        print()
        trial.summary()
