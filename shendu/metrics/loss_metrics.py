"""Loss-based metrics: the mean of a loss function over all samples seen (Keras's MeanSquaredError,
BinaryCrossentropy, ... metrics), computed from probabilities without a graph; and RootMeanSquaredError,
CosineSimilarity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import grad_mode, losses
from shendu.metrics.base import BuiltinWrapper, Mean, match_rank, to_numpy


def _values(loss_fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """`loss_fn` giving a NumPy array of per-sample values, without recording a graph."""

    def fn(y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
        with grad_mode.no_grad():
            return to_numpy(loss_fn(to_numpy(y_true), to_numpy(y_pred), **kwargs))

    fn.__name__ = loss_fn.__name__
    fn.__doc__ = loss_fn.__doc__
    return fn


class MeanSquaredError(BuiltinWrapper):
    """The mean of mean((y_pred - y_true)^2) over all samples seen."""

    fn = staticmethod(_values(losses.mean_squared_error))

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class MeanAbsoluteError(BuiltinWrapper):
    """The mean of mean(|y_pred - y_true|) over all samples seen."""

    fn = staticmethod(_values(losses.mean_absolute_error))

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class MeanAbsolutePercentageError(BuiltinWrapper):
    """The mean of 100 * mean(|y_true - y_pred| / |y_true|) over all samples seen."""

    fn = staticmethod(_values(losses.mean_absolute_percentage_error))

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(BuiltinWrapper):
    """The mean of mean((log(y_pred + 1) - log(y_true + 1))^2) over all samples seen."""

    fn = staticmethod(_values(losses.mean_squared_logarithmic_error))

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class LogCoshError(BuiltinWrapper):
    """The mean of mean(log cosh(y_pred - y_true)) over all samples seen."""

    fn = staticmethod(_values(losses.log_cosh))

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class KLDivergence(BuiltinWrapper):
    """The mean of sum(y_true log(y_true / y_pred)) over all samples seen."""

    fn = staticmethod(_values(losses.kl_divergence))

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class Poisson(BuiltinWrapper):
    """The mean of mean(y_pred - y_true log y_pred) over all samples seen."""

    fn = staticmethod(_values(losses.poisson))

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class Hinge(BuiltinWrapper):
    """The mean of mean(max(1 - y_true y_pred, 0)) over all samples seen."""

    fn = staticmethod(_values(losses.hinge))

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class SquaredHinge(BuiltinWrapper):
    """The mean of mean(max(1 - y_true y_pred, 0)^2) over all samples seen."""

    fn = staticmethod(_values(losses.squared_hinge))

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class CategoricalHinge(BuiltinWrapper):
    """The mean of max(max_wrong - correct + 1, 0) over all samples seen."""

    fn = staticmethod(_values(losses.categorical_hinge))

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class BinaryCrossentropy(BuiltinWrapper):
    """The mean binary cross-entropy over all samples seen."""

    fn, options = staticmethod(_values(losses.binary_crossentropy)), ("from_logits", "label_smoothing")

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0) -> None:
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(BuiltinWrapper):
    """The mean categorical cross-entropy (one-hot targets) over all samples seen."""

    fn = staticmethod(_values(losses.categorical_crossentropy))
    options = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(BuiltinWrapper):
    """The mean sparse categorical cross-entropy (integer labels) over all samples seen."""

    fn, options = staticmethod(_values(losses.sparse_categorical_crossentropy)), ("from_logits", "axis")

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 axis: int = -1) -> None:
        super().__init__(name, dtype, from_logits=from_logits, axis=axis)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along axis: 1 when aligned, -1 when opposite."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    t, p = match_rank(y_true, y_pred).astype(np.float64), y_pred.astype(np.float64)
    t = t / np.sqrt(np.maximum((t * t).sum(axis=axis, keepdims=True), 1e-12))
    p = p / np.sqrt(np.maximum((p * p).sum(axis=axis, keepdims=True), 1e-12))
    return (t * p).sum(axis=axis)


class CosineSimilarity(BuiltinWrapper):
    """The mean cosine similarity between targets and predictions along axis."""

    fn, options = staticmethod(cosine_similarity), ("axis",)

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(name, dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt(mean((y_pred - y_true)^2)) over all values seen, weighted by sample_weight."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
        err = y_pred.astype(np.float64) - match_rank(y_true, y_pred)
        super().update_state(err * err, sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))
