"""The scores of sklearn's ClassifierMixin and RegressorMixin, in NumPy: accuracy and the coefficient of
determination R^2, both with sample weights, equal to `sklearn.metrics.accuracy_score` and `r2_score`."""

from __future__ import annotations

from typing import Any

import numpy as np


def accuracy_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """The (weighted) fraction of samples predicted exactly; for 2-D targets every column must match."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    hits = y_true == y_pred
    if hits.ndim > 1:
        hits = hits.all(axis=tuple(range(1, hits.ndim)))
    return float(np.average(hits, weights=sample_weight))


def r2_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """R^2 = 1 - sum w (y - p)^2 / sum w (y - mean_w(y))^2 per output, averaged over outputs (1 where both sums
    are 0, 0 where only the second is)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    w = np.ones((len(y_true), 1)) if sample_weight is None else np.asarray(sample_weight, np.float64).reshape(-1, 1)
    residual = (w * (y_true - y_pred) ** 2).sum(axis=0)
    total = (w * (y_true - np.average(y_true, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
    scores = np.where(total != 0, 1 - residual / np.where(total != 0, total, 1), np.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())
