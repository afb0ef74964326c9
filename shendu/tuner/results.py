"""What a trial returns and how it becomes metrics (KerasTuner's rules).

`HyperModel.fit` or `Tuner.run_trial` may return a History (the objective is its best epoch's value, so an
EarlyStopping that ran past the best epoch does not hurt the trial), a dict of metrics holding the objective,
a float (the objective, minimized when no objective is given), or a list of these (one per execution: averaged).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from shendu.tuner import errors
from shendu.tuner.objective import DefaultObjective, Objective


def _is_history(results: Any) -> bool:
    return isinstance(getattr(results, "history", None), dict)


def _is_number(results: Any) -> bool:
    return isinstance(results, (int, float, np.floating, np.integer)) and not isinstance(results, bool)


def best_epoch(history: dict[str, list], objective: Objective) -> tuple[dict[str, float], int]:
    """The logs of the epoch where the objective was best, and that epoch (0-based)."""
    if objective.name not in history:
        raise errors.FatalValueError(f"shendu.tuner: the objective '{objective.name}' is not among the metrics "
                                     f"fit logged ({sorted(history)}); compile the model with that metric, give "
                                     "validation data for a 'val_' objective, or change the objective")
    values = [float(v) for v in history[objective.name]]
    if not values:
        raise errors.FatalValueError("shendu.tuner: fit returned a History without any epoch")
    finite = [i for i, v in enumerate(values) if not np.isnan(v)]
    best = 0
    for i in finite:
        if best not in finite or objective.better_than(values[i], values[best]):
            best = i
    return {name: float(vals[best]) for name, vals in history.items() if len(vals) > best}, best


def validate_trial_results(results: Any, objective: Objective, func_name: str) -> None:
    """FatalTypeError/FatalValueError when `results` is none of the forms above or lacks the objective."""
    if isinstance(results, list):
        for item in results:
            validate_trial_results(item, objective, func_name)
        return
    if _is_number(results) or _is_history(results):
        return
    if results is None:
        raise errors.FatalTypeError(f"shendu.tuner: {func_name} returned None; did you forget to return the "
                                    "History, the metrics or the objective value?")
    if isinstance(results, dict):
        if objective.name not in results:
            hint = " (no objective was given: return one float, or pass objective=...)" \
                if isinstance(objective, DefaultObjective) else ""
            raise errors.FatalValueError(f"shendu.tuner: the dict {func_name} returned lacks the objective "
                                         f"'{objective.name}'{hint}; it has {sorted(results)}")
        return
    raise errors.FatalTypeError(f"shendu.tuner: {func_name} must return a History, a dict of metrics, a float or "
                                f"a list of these; got {type(results).__name__}")


def convert_to_metrics_dict(results: Any, objective: Objective) -> dict[str, float]:
    """The metrics of the trial: the best epoch's logs, the dict, {objective: float}, or their mean over a list."""
    if isinstance(results, list):
        dicts = [convert_to_metrics_dict(item, objective) for item in results]
        names = {name for d in dicts for name in d}
        return {name: float(np.mean([d[name] for d in dicts if name in d])) for name in names}
    if _is_number(results):
        return {objective.name: float(results)}
    if isinstance(results, dict):
        return {name: float(value) for name, value in results.items()}
    return best_epoch(results.history, objective)[0]


def get_best_step(results: Any, objective: Objective) -> int:
    """The best epoch of a History (the mean over a list of executions); 0 otherwise."""
    if isinstance(results, list):
        return int(statistics.mean(get_best_step(item, objective) for item in results)) if results else 0
    if _is_history(results):
        return best_epoch(results.history, objective)[1]
    return 0


def histories(results: Any) -> list[dict[str, list[float]]]:
    """The per-epoch logs of each History among the results (for trial.json and the plots)."""
    items = results if isinstance(results, list) else [results]
    return [{name: [float(v) for v in values] for name, values in item.history.items()}
            for item in items if _is_history(item)]
