"""Small generated problems and model builders shared by the model tests."""

from __future__ import annotations

import numpy as np

import shendu as sd
from shendu import layers
from shendu.models import Sequential


def blobs(n: int = 300, classes: int = 3, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian clusters: float32 features and int64 labels."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (classes, features))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(0, 0.5, (n, features))
    return x.astype("float32"), y.astype("int64")


def mlp(inputs: int = 4, outputs: int = 3, activation: str = "softmax", hidden: int = 16) -> Sequential:
    sd.random.seed(0)
    return Sequential([layers.Dense(hidden, activation="relu", input_shape=(inputs,)),
                       layers.Dense(outputs, activation=activation)])
