"""NumPy helpers for labels and features: one-hot encoding and L^p normalization (Keras's utils)."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer class labels: shape (..., ) or (..., 1) -> (..., num_classes), out[..., y] = 1.

    num_classes defaults to max(y) + 1. Labels must be whole numbers in [0, num_classes).
    """
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: expected integer class labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise ValueError("to_categorical: class labels must be whole numbers; got non-integer floats")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = flat[(flat < 0) | (flat >= num_classes)][0]
        raise ValueError(
            f"to_categorical: label {bad} is out of range for num_classes={num_classes} "
            f"(labels must be in [0, {num_classes}))"
        )
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(*shape, num_classes)


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale x along `axis` to unit L^order norm: x / ||x||_order; an all-zero slice is left as zeros."""
    arr = np.asarray(x)
    norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return arr / norm
