"""AUC: the area under the ROC or precision-recall curve, from confusion counts at fixed thresholds, as Keras."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.metrics.base import Metric, to_numpy
from shendu.metrics.confusion import prepare

EPSILON = 1e-7
SUMMATIONS = ("interpolation", "minoring", "majoring")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def bucket_counts(p: np.ndarray, labels: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """tp, fp, tn, fn at n thresholds evenly spread over [0, 1] (per column), in one pass: p > j / (n - 1) exactly
    when ceil(p (n - 1)) - 1 >= j, so a histogram of that bucket, summed from the top, counts every threshold.
    """
    cols = p.shape[1]
    b = np.ceil(p * (n - 1)).astype(np.int64) - 1
    np.clip(b, 0, n - 1, out=b)
    b += n * np.arange(cols)
    pos, neg = w * labels, w * ~labels
    tp = np.bincount(b.ravel(), pos.ravel(), minlength=n * cols).reshape(cols, n).T[::-1].cumsum(axis=0)[::-1]
    fp = np.bincount(b.ravel(), neg.ravel(), minlength=n * cols).reshape(cols, n).T[::-1].cumsum(axis=0)[::-1]
    return np.stack([tp, fp, neg.sum(axis=0) - fp, pos.sum(axis=0) - tp])


def threshold_counts(p: np.ndarray, labels: np.ndarray, w: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """tp, fp, tn, fn (each thresholds x columns) by comparing every prediction with every threshold."""
    above = p[None, :, :] > thresholds[:, None, None]
    pos, neg = w * labels, w * ~labels
    tp, fp = (above * pos).sum(axis=1), (above * neg).sum(axis=1)
    return np.stack([tp, fp, neg.sum(axis=0) - fp, pos.sum(axis=0) - tp])


def interpolate_pr_auc(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Area under the PR curve by Davis & Goadrich's interpolation between thresholds (Keras's), per column."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _ratio(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    safe_ratio = np.where(both, _ratio(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return _ratio(slope * (dtp + intercept * np.log(safe_ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum(axis=0)


class AUC(Metric):
    """Area under the ROC curve (curve="ROC") or the precision-recall curve ("PR"), from tp/fp/tn/fn counted at
    num_thresholds thresholds evenly spread over [0, 1] (the ends at -1e-7 and 1 + 1e-7), summed as Keras does:
    "interpolation" (trapezoids; for PR, Davis & Goadrich), "minoring" or "majoring" (lower or upper sums).

    multi_label=True keeps one curve per column and averages their areas (weighted by label_weights).
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: Any = None, thresholds: list[float] | None = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        elif num_thresholds <= 1:
            raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.thresholds = np.array([-EPSILON, *inner, 1.0 + EPSILON])
        self.evenly = bool(np.allclose(np.diff([0.0, *inner, 1.0]), 1.0 / (num_thresholds - 1)))
        self.curve = str(curve).upper()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        self.summation_method = str(summation_method).lower()
        if self.summation_method not in SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be one of {SUMMATIONS}, got {summation_method!r}")
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        super().__init__(name, dtype)
        AUC.reset_state(self)

    def reset_state(self) -> None:
        self.counts: np.ndarray | None = None
        super().reset_state()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p = to_numpy(y_pred).astype(np.float64)
        if self.from_logits:
            p = 0.5 * (1.0 + np.tanh(0.5 * p))
        p, labels, w = prepare(self.name, y_true, p, sample_weight, flatten=False,
                               hint="; pass from_logits=True for logits")
        w = np.ones(p.shape) if w is None else w
        if self.label_weights is not None and not self.multi_label:
            w = w * self.label_weights  # weights the labels' counts; with multi_label they weight the areas
        cols = p.shape[-1] if self.multi_label and p.ndim > 1 else 1
        if self.multi_label and self.num_labels is not None and cols != self.num_labels:
            raise ValueError(f"AUC: expected {self.num_labels} labels (num_labels), got predictions of shape {p.shape}")
        p, labels, w = p.reshape(-1, cols), labels.reshape(-1, cols), w.reshape(-1, cols)
        if self.evenly:
            counts = bucket_counts(p, labels, w, self.num_thresholds)
        else:
            counts = threshold_counts(p, labels, w, self.thresholds)
        if self.counts is not None and self.counts.shape != counts.shape:
            raise ValueError(f"AUC: got {cols} labels after {self.counts.shape[-1]} in earlier batches")
        self.counts = counts if self.counts is None else self.counts + counts

    def result(self) -> float:
        if self.counts is None:
            return 0.0
        tp, fp, tn, fn = self.counts
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = interpolate_pr_auc(tp, fp, fn)
        else:
            recall = _ratio(tp, tp + fn)
            x, y = (_ratio(fp, fp + tn), recall) if self.curve == "ROC" else (recall, _ratio(tp, tp + fp))
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            else:
                heights = (np.minimum if self.summation_method == "minoring" else np.maximum)(y[:-1], y[1:])
            areas = ((x[:-1] - x[1:]) * heights).sum(axis=0)
        if not self.multi_label:
            return float(areas[0])
        if self.label_weights is None:
            return float(areas.mean())
        total = self.label_weights.sum()
        return float((areas * self.label_weights).sum() / total) if total else 0.0

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "thresholds": self.thresholds[1:-1].tolist(),
            "multi_label": self.multi_label, "num_labels": self.num_labels, "from_logits": self.from_logits,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
        }
