"""The objective of a search: a metric name and whether to minimize or maximize it (KerasTuner's Objective).

A string objective gets its direction from its name: losses and errors ("val_loss", "mae") are minimized,
accuracies, AUC, precision and recall maximized; anything else needs `Objective(name, direction)`.
"""

from __future__ import annotations

from typing import Any

_MAX = {"acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision", "recall",
        "true_positives", "true_negatives", "f1_score", "fbeta_score", "r2_score", "iou", "mean_iou",
        "sensitivity_at_specificity", "specificity_at_sensitivity", "precision_at_recall", "recall_at_precision"}
_MIN = {"loss", "ce", "crossentropy", "mse", "mae", "mape", "msle", "mean_squared_error", "mean_absolute_error",
        "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "root_mean_squared_error",
        "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge",
        "squared_hinge", "categorical_hinge", "kl_divergence", "kld", "kullback_leibler_divergence", "poisson",
        "logcosh", "log_cosh", "huber", "cosine_similarity", "false_positives", "false_negatives"}


def infer_metric_direction(name: str) -> str | None:
    """'min', 'max', or None when the name is not a known loss or metric (Keras's names, 'val_' removed)."""
    base = name[4:] if name.startswith("val_") else name
    base = base[9:] if base.startswith("weighted_") else base
    if base in _MAX:
        return "max"
    if base in _MIN or base.endswith("_loss") or base.endswith("_error"):
        return "min"
    return None


class Objective:
    """The metric `name` to optimize and its `direction`, "min" or "max"."""

    def __init__(self, name: str, direction: str) -> None:
        if direction not in ("min", "max"):
            raise ValueError(f"Objective('{name}'): direction must be 'min' or 'max', got {direction!r}")
        self.name = name
        self.direction = direction

    def has_value(self, logs: dict[str, Any]) -> bool:
        return self.name in logs

    def get_value(self, logs: dict[str, Any]) -> Any:
        return logs[self.name]

    def better_than(self, a: float, b: float) -> bool:
        """Whether a is better than b in this direction."""
        return a > b if self.direction == "max" else a < b

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objective) and (other.name, other.direction) == (self.name, self.direction)

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __str__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    __repr__ = __str__


class DefaultObjective(Objective):
    """The objective when none is given: the float that `HyperModel.fit` or `run_trial` returns, minimized."""

    def __init__(self) -> None:
        super().__init__("default_objective", "min")


def create_objective(objective: Any) -> Objective:
    """An Objective from None, a metric name or an Objective."""
    if objective is None:
        return DefaultObjective()
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(f"objective: expected a metric name or a shendu.tuner.Objective, got {objective!r}")
    direction = infer_metric_direction(objective)
    if direction is None:
        raise ValueError(f'objective: cannot tell whether to minimize or maximize "{objective}"; pass '
                         f'shendu.tuner.Objective("{objective}", direction="min") or direction="max"')
    return Objective(objective, direction)
