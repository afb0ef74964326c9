"""Accuracy metrics: the fraction of predictions that match the labels, in Keras's variants."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.metrics import loss_metrics
from shendu.metrics.base import BuiltinWrapper, Metric, match_rank, to_numpy


def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where y_pred equals y_true exactly, else 0.0 (element-wise)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    return (match_rank(y_true, y_pred) == y_pred).astype(np.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """1.0 where (y_pred > threshold) equals the 0/1 label, element-wise."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    return (match_rank(y_true, y_pred) == (y_pred > threshold)).astype(np.float32)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where argmax(y_pred) equals argmax(y_true) (one-hot targets)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float32)


def _sparse(y_true: Any, y_pred: np.ndarray) -> np.ndarray:
    """Integer labels with one axis fewer than the predictions (a trailing axis of 1 dropped)."""
    t = to_numpy(y_true)
    return t[..., 0] if t.ndim == y_pred.ndim and t.shape[-1] == 1 else t


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where argmax(y_pred) equals the integer label."""
    y_pred = to_numpy(y_pred)
    return (_sparse(y_true, y_pred) == y_pred.argmax(axis=-1)).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the label's score is among the k highest (ties at the boundary count as in, as in TF)."""
    y_pred = to_numpy(y_pred)
    labels = _sparse(y_true, y_pred).astype(np.int64).reshape(-1)
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    own = scores[np.arange(labels.size), labels]
    higher = (scores > own[:, None]).sum(axis=1)
    return (higher < k).astype(np.float32).reshape(y_pred.shape[:-1])


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the target class (argmax of one-hot y_true) is among the k highest scores."""
    return sparse_top_k_categorical_accuracy(to_numpy(y_true).argmax(axis=-1), y_pred, k)


class Accuracy(BuiltinWrapper):
    """How often y_pred equals y_true exactly."""

    fn = staticmethod(accuracy)

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class BinaryAccuracy(BuiltinWrapper):
    """How often (y_pred > threshold) matches the 0/1 labels."""

    fn, options = staticmethod(binary_accuracy), ("threshold",)

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        super().__init__(name, dtype, threshold=threshold)


class CategoricalAccuracy(BuiltinWrapper):
    """How often argmax(y_pred) matches argmax of the one-hot targets."""

    fn = staticmethod(categorical_accuracy)

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class SparseCategoricalAccuracy(BuiltinWrapper):
    """How often argmax(y_pred) matches the integer labels."""

    fn = staticmethod(sparse_categorical_accuracy)

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class TopKCategoricalAccuracy(BuiltinWrapper):
    """How often the target class is among the k highest scores (one-hot targets)."""

    fn, options = staticmethod(top_k_categorical_accuracy), ("k",)

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype, k=k)


class SparseTopKCategoricalAccuracy(BuiltinWrapper):
    """How often the integer label is among the k highest scores."""

    fn, options = staticmethod(sparse_top_k_categorical_accuracy), ("k",)

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype, k=k)


def resolve_accuracy(y_true: Any, y_pred: Any, name: str = "accuracy") -> Metric:
    """The accuracy Keras picks for 'accuracy' from the shapes: binary when y_pred has one column, sparse
    categorical when the labels have a lower rank (or one column against several), else categorical.
    """
    t, p = np.shape(y_true), np.shape(y_pred)
    if len(p) <= 1 or p[-1] == 1:
        return BinaryAccuracy(name=name)
    if len(t) < len(p) or t[-1] == 1:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def resolve_crossentropy(y_true: Any, y_pred: Any, name: str = "crossentropy") -> Metric:
    """The cross-entropy Keras picks for 'crossentropy'/'ce', by the same rule as `resolve_accuracy`."""
    t, p = np.shape(y_true), np.shape(y_pred)
    if len(p) <= 1 or p[-1] == 1:
        return loss_metrics.BinaryCrossentropy(name=name)
    if len(t) < len(p) or t[-1] == 1:
        return loss_metrics.SparseCategoricalCrossentropy(name=name)
    return loss_metrics.CategoricalCrossentropy(name=name)


class Deferred(Metric):
    """'accuracy' or 'crossentropy' asked for before any data: resolved from the shapes of the first batch."""

    def __init__(self, resolve: Any, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        self.resolve = resolve
        self.metric: Metric | None = None

    def reset_state(self) -> None:
        if self.metric is not None:
            self.metric.reset_state()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.metric is None:
            self.metric = self.resolve(y_true, y_pred, self.name)
        self.metric.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return self.metric.result() if self.metric is not None else 0.0
