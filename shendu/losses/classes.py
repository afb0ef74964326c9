"""The Keras loss classes: each reduces one of the loss functions over the batch, its options as attributes."""

from __future__ import annotations

from typing import Any

from shendu.losses.base import BuiltinLoss
from shendu.losses.functions import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    fused_binary_crossentropy,
    fused_categorical_crossentropy,
    fused_mean_absolute_error,
    fused_mean_squared_error,
    fused_sparse_categorical_crossentropy,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)

_DEFAULT = "sum_over_batch_size"


class MeanSquaredError(BuiltinLoss):
    """mean((y_pred - y_true)^2) over the last axis, reduced over the batch."""

    fn, fused = staticmethod(mean_squared_error), staticmethod(fused_mean_squared_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanAbsoluteError(BuiltinLoss):
    """mean(|y_pred - y_true|) over the last axis, reduced over the batch."""

    fn, fused = staticmethod(mean_absolute_error), staticmethod(fused_mean_absolute_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanAbsolutePercentageError(BuiltinLoss):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis, reduced over the batch."""

    fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_absolute_percentage_error",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanSquaredLogarithmicError(BuiltinLoss):
    """mean((log(y_pred + 1) - log(y_true + 1))^2) over the last axis, reduced over the batch."""

    fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_squared_logarithmic_error",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Huber(BuiltinLoss):
    """Quadratic for errors below delta, linear above (see `huber`), reduced over the batch."""

    fn, options = staticmethod(huber), ("delta",)

    def __init__(self, delta: float = 1.0, reduction: str | None = _DEFAULT, name: str = "huber_loss",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.delta = delta


class LogCosh(BuiltinLoss):
    """mean(log cosh(y_pred - y_true)) over the last axis, reduced over the batch."""

    fn = staticmethod(log_cosh)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "log_cosh", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class BinaryCrossentropy(BuiltinLoss):
    """Binary cross-entropy of probabilities (or logits with from_logits=True), reduced over the batch."""

    fn, fused = staticmethod(binary_crossentropy), staticmethod(fused_binary_crossentropy)
    options = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _DEFAULT, name: str = "binary_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(BuiltinLoss):
    """Cross-entropy of one-hot targets and class probabilities (or logits), reduced over the batch."""

    fn, fused = staticmethod(categorical_crossentropy), staticmethod(fused_categorical_crossentropy)
    options = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _DEFAULT, name: str = "categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(BuiltinLoss):
    """Cross-entropy of integer labels and class probabilities (or logits); with ignore_class, the mean is over
    the other labels only.
    """

    fn, fused = staticmethod(sparse_categorical_crossentropy), staticmethod(fused_sparse_categorical_crossentropy)
    options = ("from_logits", "ignore_class")

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, reduction: str | None = _DEFAULT,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.ignore_class = from_logits, ignore_class


class KLDivergence(BuiltinLoss):
    """sum(y_true log(y_true / y_pred)) over the last axis, reduced over the batch."""

    fn = staticmethod(kl_divergence)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Poisson(BuiltinLoss):
    """mean(y_pred - y_true log y_pred) over the last axis, reduced over the batch."""

    fn = staticmethod(poisson)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Hinge(BuiltinLoss):
    """mean(max(1 - y_true y_pred, 0)) over the last axis, reduced over the batch."""

    fn = staticmethod(hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class SquaredHinge(BuiltinLoss):
    """mean(max(1 - y_true y_pred, 0)^2) over the last axis, reduced over the batch."""

    fn = staticmethod(squared_hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class CategoricalHinge(BuiltinLoss):
    """max(max_wrong - correct + 1, 0) per sample, reduced over the batch."""

    fn = staticmethod(categorical_hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class CosineSimilarity(BuiltinLoss):
    """-cosine(y_true, y_pred) along axis, reduced over the batch (minimizing it aligns the vectors)."""

    fn, options = staticmethod(cosine_similarity), ("axis",)

    def __init__(self, axis: int = -1, reduction: str | None = _DEFAULT, name: str = "cosine_similarity",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.axis = axis


