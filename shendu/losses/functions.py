"""The loss functions: one loss per sample (regression losses average the last axis, as Keras's).

The cross-entropies, mse and mae also come as `fused_*` forms that weight, mask and reduce in the same op;
the Loss classes call those.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend, ops
from shendu.losses.inputs import as_pred, as_true, logits_or_probs, sparse_labels, to_last
from shendu.ops import losses as loss_ops
from shendu.tensor import Tensor

EPSILON = loss_ops.EPSILON

# --- fused: the loss, its weights and its reduction in one op ------------------------------------------


def fused_binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1, sample_weight: Any = None, reduction: str = "none",
                              mask: Any = None) -> Tensor:
    """`binary_crossentropy`, weighted and reduced in the same op (from the logits behind a Sigmoid output)."""
    name = "binary_crossentropy"
    x, from_logits = logits_or_probs(name, as_pred(y_pred), ops.Sigmoid, from_logits)
    xp = backend.get_array_module(x.data)
    t = xp.broadcast_to(as_true(name, y_true, x), x.data.shape)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    x, t = to_last(x, axis), xp.moveaxis(t, axis, -1)
    op = loss_ops.SigmoidCrossEntropy if from_logits else loss_ops.BinaryCrossEntropy
    return op.apply(x, targets=t, sample_weight=sample_weight, reduction=reduction, mask=mask)


def fused_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1, sample_weight: Any = None,
                                   reduction: str = "none", mask: Any = None) -> Tensor:
    """`categorical_crossentropy`, weighted and reduced in the same op (from the logits behind a Softmax output)."""
    name = "categorical_crossentropy"
    x, from_logits = logits_or_probs(name, as_pred(y_pred), ops.Softmax, from_logits, axis)
    t = as_true(name, y_true, x, exact=True)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / x.shape[axis]
    x, t = to_last(x, axis), backend.get_array_module(t).moveaxis(t, axis, -1)
    op = loss_ops.SoftmaxCrossEntropy if from_logits else loss_ops.CategoricalCrossEntropy
    return op.apply(x, targets=t, sample_weight=sample_weight, reduction=reduction, mask=mask)


def fused_sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                          ignore_class: int | None = None, axis: int = -1, sample_weight: Any = None,
                                          reduction: str = "none", mask: Any = None) -> Tensor:
    """`sparse_categorical_crossentropy`, weighted and reduced in the same op (from the logits behind a Softmax)."""
    name = "sparse_categorical_crossentropy"
    x, from_logits = logits_or_probs(name, as_pred(y_pred), ops.Softmax, from_logits, axis)
    x = to_last(x, axis)
    labels, kept = sparse_labels(name, y_true, x.data.shape, ignore_class)
    if kept is not None:
        mask = kept if mask is None else np.logical_and(kept, loss_ops.squeeze_or_expand(np.asarray(mask), kept.ndim))
    op = loss_ops.SparseSoftmaxCrossEntropy if from_logits else loss_ops.SparseCategoricalCrossEntropy
    return op.apply(x, labels=labels, mask=mask, sample_weight=sample_weight, reduction=reduction)


def fused_mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None, reduction: str = "none",
                             mask: Any = None) -> Tensor:
    """`mean_squared_error`, weighted and reduced in the same op."""
    y_pred = as_pred(y_pred)
    t = as_true("mean_squared_error", y_true, y_pred)
    return loss_ops.SquaredError.apply(y_pred, targets=t, sample_weight=sample_weight, reduction=reduction, mask=mask)


def fused_mean_absolute_error(y_true: Any, y_pred: Any, sample_weight: Any = None, reduction: str = "none",
                              mask: Any = None) -> Tensor:
    """`mean_absolute_error`, weighted and reduced in the same op."""
    y_pred = as_pred(y_pred)
    t = as_true("mean_absolute_error", y_true, y_pred)
    return loss_ops.AbsoluteError.apply(y_pred, targets=t, sample_weight=sample_weight, reduction=reduction, mask=mask)


# --- one loss per sample --------------------------------------------------------------------------


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """mean(-(t log p + (1 - t) log(1 - p))) over the last axis, p clipped to [1e-7, 1 - 1e-7];
    label smoothing: t -> t (1 - s) + s / 2.
    """
    return fused_binary_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """-sum(t log p) over the class axis for one-hot (or soft) targets; label smoothing: t -> t (1 - s) + s / C."""
    return fused_categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """-log p[label] for integer labels; labels equal to `ignore_class` give 0 and drop out of the mean."""
    return fused_sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((y_pred - y_true)^2) over the last axis."""
    return fused_mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean(|y_pred - y_true|) over the last axis."""
    return fused_mean_absolute_error(y_true, y_pred)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_pred = as_pred(y_pred)
    t = as_true("mean_absolute_percentage_error", y_true, y_pred)
    xp = backend.get_array_module(t)
    return ((y_pred - t).abs() * (100.0 / xp.maximum(xp.abs(t), EPSILON))).mean(axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2) over the last axis."""
    y_pred = as_pred(y_pred)
    t = as_true("mean_squared_logarithmic_error", y_true, y_pred)
    xp = backend.get_array_module(t)
    d = (y_pred.clip(EPSILON, None) + 1.0).log() - xp.log(xp.maximum(t, EPSILON) + 1)
    return (d * d).mean(axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """mean(0.5 q^2 + delta (|e| - q)) over the last axis, e = y_pred - y_true, q = min(|e|, delta)."""
    y_pred = as_pred(y_pred)
    err = (y_pred - as_true("huber", y_true, y_pred)).abs()
    quad = err.clip(None, delta)
    return (quad * quad * 0.5 + (err - quad) * delta).mean(axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """mean(log cosh(y_pred - y_true)) over the last axis, as |x| + log(1 + e^(-2|x|)) - log 2 (no overflow)."""
    y_pred = as_pred(y_pred)
    x = (y_pred - as_true("log_cosh", y_true, y_pred)).abs()
    return (x + ((x * -2.0).exp() + 1.0).log() - math.log(2.0)).mean(axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """sum(t log(t / p)) over the last axis, t and p clipped to [1e-7, 1]."""
    y_pred = as_pred(y_pred)
    t = as_true("kl_divergence", y_true, y_pred)
    xp = backend.get_array_module(t)
    t = xp.clip(t, EPSILON, 1)
    return (y_pred.clip(EPSILON, 1.0).log() * -t + t * xp.log(t)).sum(axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """mean(y_pred - y_true log(y_pred + 1e-7)) over the last axis."""
    y_pred = as_pred(y_pred)
    t = as_true("poisson", y_true, y_pred)
    return (y_pred - (y_pred + EPSILON).log() * t).mean(axis=-1)


def _hinge_labels(name: str, y_true: Any, y_pred: Tensor) -> Any:
    """Labels in {-1, 1}; 0/1 labels are converted (t -> 2t - 1) as Keras does."""
    t = as_true(name, y_true, y_pred)
    return 2 * t - 1 if bool(((t == 0) | (t == 1)).all()) else t


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t y_pred, 0)) over the last axis, t in {-1, 1} (0/1 labels converted)."""
    y_pred = as_pred(y_pred)
    return (y_pred * -_hinge_labels("hinge", y_true, y_pred) + 1.0).relu().mean(axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t y_pred, 0)^2) over the last axis, t in {-1, 1} (0/1 labels converted)."""
    y_pred = as_pred(y_pred)
    h = (y_pred * -_hinge_labels("squared_hinge", y_true, y_pred) + 1.0).relu()
    return (h * h).mean(axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """max(max((1 - t) y_pred) - sum(t y_pred) + 1, 0) over the last axis, t one-hot."""
    y_pred = as_pred(y_pred)
    t = as_true("categorical_hinge", y_true, y_pred)
    return ((y_pred * (1 - t)).max(axis=-1) - (y_pred * t).sum(axis=-1) + 1.0).relu()


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over axis (-1 when aligned, as a loss to minimize)."""
    y_pred = as_pred(y_pred)
    t = as_true("cosine_similarity", y_true, y_pred)
    xp = backend.get_array_module(t)
    t = t / xp.sqrt(xp.maximum((t * t).sum(axis=axis, keepdims=True), 1e-12))
    norm = (y_pred * y_pred).sum(axis=axis, keepdims=True).clip(1e-12, None).sqrt()
    return -((y_pred / norm) * t).sum(axis=axis)


FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    **dict.fromkeys(("mean_squared_error", "mse", "MSE"), mean_squared_error),
    **dict.fromkeys(("mean_absolute_error", "mae", "MAE"), mean_absolute_error),
    **dict.fromkeys(("mean_absolute_percentage_error", "mape", "MAPE"), mean_absolute_percentage_error),
    **dict.fromkeys(("mean_squared_logarithmic_error", "msle", "MSLE"), mean_squared_logarithmic_error),
    **dict.fromkeys(("huber", "huber_loss"), huber),
    **dict.fromkeys(("log_cosh", "logcosh"), log_cosh),
    **dict.fromkeys(("kl_divergence", "kld", "KLD", "kullback_leibler_divergence"), kl_divergence),
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "poisson": poisson,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "cosine_similarity": cosine_similarity,
}
