"""Which direction of a monitored quantity is better, as Keras decides it for mode='auto', and which values count."""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from typing import Any

_UP = ("acc", "auc", "precision", "recall", "f1", "iou", "fmeasure", "r2", "top_k")


def monitor_op(mode: str, monitor: str, model: Any = None, who: str = "callback") -> Callable[[float, float], bool]:
    """operator.gt when larger is better (mode 'max', or 'auto' for accuracy-like names), else operator.lt."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "min":
        return operator.lt
    if mode == "max":
        return operator.gt
    name = monitor.removeprefix("val_")
    for m in getattr(model, "metrics", None) or []:
        direction = getattr(m, "_direction", None)
        if getattr(m, "name", None) == name and direction in ("up", "down"):
            return operator.gt if direction == "up" else operator.lt
    return operator.gt if any(key in name for key in _UP) else operator.lt


def finite_or_warn(who: str, monitor: str, value: float, epoch: int) -> bool:
    """True for a finite value; a NaN or infinite one warns (naming the epoch) and never counts as an improvement."""
    if math.isfinite(float(value)):
        return True
    warnings.warn(f"{who}: {monitor} is {float(value)} at epoch {epoch + 1} (not finite); it does not count as an "
                  "improvement", stacklevel=3)
    return False
