"""Confusion-matrix metrics at thresholds: true/false positives/negatives, Precision and Recall.

As in Keras, a prediction counts as positive when it is > threshold and a label when it is nonzero;
multi-column predictions count every column (unless `class_id` picks one), weighted by sample_weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.metrics.base import Metric, match_rank, to_numpy
from shendu.ops.losses import squeeze_or_expand

NEG_INF = -1e10  # Keras's score for predictions outside the top k


def filter_top_k(p: np.ndarray, k: int) -> np.ndarray:
    """Keep the k highest scores of each row (ties to the lower index, as tf.math.top_k); the rest become -1e10."""
    if k >= p.shape[-1]:
        return p
    idx = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    out = np.full_like(p, NEG_INF)
    np.put_along_axis(out, idx, np.take_along_axis(p, idx, axis=-1), axis=-1)
    return out


def prepare(name: str, y_true: Any, y_pred: Any, sample_weight: Any = None, top_k: int | None = None,
            class_id: int | None = None, flatten: bool = True,
            hint: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(predictions, labels as bool, weights or None), flat unless asked; predictions checked to be in [0, 1]."""
    p = to_numpy(y_pred).astype(np.float64)
    t = match_rank(to_numpy(y_true), p)
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true of shape {t.shape} does not match y_pred of shape {p.shape}")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{name}: predictions must be in [0, 1], got values in [{p.min():.4g}, {p.max():.4g}]"
                         f"{hint or '; apply a sigmoid to logits first'}")
    w = None
    if sample_weight is not None:
        w = squeeze_or_expand(np.asarray(to_numpy(sample_weight), dtype=np.float64), p.ndim)
        try:
            w = np.broadcast_to(w, p.shape)
        except ValueError:
            raise ValueError(f"{name}: sample_weight of shape {np.shape(sample_weight)} does not match y_pred "
                             f"of shape {p.shape}") from None
    if top_k is not None:
        p = filter_top_k(p, top_k)
    if class_id is not None:
        p, t = p[..., class_id], t[..., class_id]
        w = None if w is None else w[..., class_id]
    labels = t != 0
    if flatten:
        return p.reshape(-1), labels.reshape(-1), None if w is None else w.reshape(-1)
    return p, labels, w


def confusion_counts(p: np.ndarray, labels: np.ndarray, weights: np.ndarray | None,
                     thresholds: np.ndarray) -> np.ndarray:
    """Rows tp, fp, tn, fn (each one value per threshold) of flat predictions against flat boolean labels."""
    w_pos = labels.astype(np.float64) if weights is None else weights * labels
    w_neg = (~labels).astype(np.float64) if weights is None else weights * ~labels
    above = (p[:, None] > thresholds[None, :]).astype(np.float64)
    tp, fp = w_pos @ above, w_neg @ above
    return np.stack([tp, fp, w_neg.sum() - fp, w_pos.sum() - tp])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den is 0 (Keras's divide_no_nan)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


class _Confusion(Metric):
    """Accumulates tp, fp, tn, fn at each threshold; `result` is float for one threshold, an array for several."""

    def __init__(self, thresholds: float | list[float] | None = None, name: str | None = None, dtype: Any = None,
                 top_k: int | None = None, class_id: int | None = None) -> None:
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = np.atleast_1d(np.asarray(default if thresholds is None else thresholds, dtype=np.float64))
        super().__init__(name, dtype)
        _Confusion.reset_state(self)

    def reset_state(self) -> None:
        self.counts = np.zeros((4, self.thresholds.size))
        super().reset_state()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p, labels, w = prepare(self.name, y_true, y_pred, sample_weight, self.top_k, self.class_id)
        self.counts += confusion_counts(p, labels, w, self.thresholds)

    def _out(self, values: np.ndarray) -> float | np.ndarray:
        return float(values[0]) if values.size == 1 else values

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_Confusion):
    """The (weighted) number of positive labels predicted positive."""

    def __init__(self, thresholds: float | list[float] | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype)

    def result(self) -> float | np.ndarray:
        return self._out(self.counts[0])


class FalsePositives(TruePositives):
    """The (weighted) number of negative labels predicted positive."""

    def result(self) -> float | np.ndarray:
        return self._out(self.counts[1])


class TrueNegatives(TruePositives):
    """The (weighted) number of negative labels predicted negative."""

    def result(self) -> float | np.ndarray:
        return self._out(self.counts[2])


class FalseNegatives(TruePositives):
    """The (weighted) number of positive labels predicted negative."""

    def result(self) -> float | np.ndarray:
        return self._out(self.counts[3])


class Precision(_Confusion):
    """tp / (tp + fp): the fraction of positive predictions that are right (0 before any positive prediction).

    top_k: only each row's k highest scores can be positive; class_id: score only that column.
    """

    def __init__(self, thresholds: float | list[float] | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(thresholds, name, dtype, top_k, class_id)

    def result(self) -> float | np.ndarray:
        tp, fp = self.counts[0], self.counts[1]
        return self._out(_ratio(tp, tp + fp))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """tp / (tp + fn): the fraction of positive labels that are found (0 before any positive label)."""

    def result(self) -> float | np.ndarray:
        tp, fn = self.counts[0], self.counts[3]
        return self._out(_ratio(tp, tp + fn))
