"""The progress of a search as a figure: each trial's objective against its number, and the best so far."""

from __future__ import annotations

import os
from typing import Any

from shendu.tuner.trial import TrialStatus


def trial_scores(tuner_or_oracle: Any) -> list[tuple[int, float, bool]]:
    """(number, score, pruned) of every completed trial, in the order of their numbers (ids)."""
    oracle = getattr(tuner_or_oracle, "oracle", tuner_or_oracle)
    oracle.get_best_trials(1)  # an optuna oracle gathers the trials other workers finished
    rows = []
    for trial in oracle.trials.values():
        if trial.status == TrialStatus.COMPLETED and trial.score is not None:
            number = int(trial.trial_id) if str(trial.trial_id).isdigit() else len(rows)
            rows.append((number, float(trial.score), bool(trial.pruned)))
    return sorted(rows)


def plot_trials(tuner: Any, path: str | os.PathLike | None = None) -> Any:
    """Plot the objective of each completed trial against its number (pruned trials hollow) and the best value
    so far as a step line; writes a PNG to `path` when given; returns the matplotlib Figure."""
    from shendu.utils.plotting import _new_figure, _save

    rows = trial_scores(tuner)
    if not rows:
        raise ValueError("plot_trials: the search has no completed trial yet")
    objective = tuner.oracle.objective
    better = max if objective.direction == "max" else min
    figure = _new_figure("shendu.tuner.plot_trials", (6.4, 4.0), path)
    ax = figure.subplots()
    numbers = [n + 1 for n, _, _ in rows]
    full = [(n + 1, s) for n, s, pruned in rows if not pruned]
    cut = [(n + 1, s) for n, s, pruned in rows if pruned]
    if full:
        ax.plot(*zip(*full), "o", color="C0", label="trial")
    if cut:
        ax.plot(*zip(*cut), "o", markerfacecolor="none", color="C0", label="trial (pruned)")
    best, running = [], None
    for _, score, _ in rows:
        running = score if running is None else better(running, score)
        best.append(running)
    ax.step(numbers, best, where="post", color="C3", label=f"best so far ({objective.direction})")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.name)
    ax.set_title(f"{type(tuner).__name__}: {objective.name} per trial")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(figure, path)
    return figure
