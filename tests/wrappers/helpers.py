"""Tiny data and networks for the wrapper tests."""

import numpy as np

from shendu import keras


def blobs(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four features; three classes set by the signs of the first two (learnable in a few epochs)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype("float32")
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)


def regression(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype("float32")
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def mlp(units: int = 8, meta: dict | None = None) -> keras.Model:
    """A build function: hidden ReLU layer, one softmax unit per class seen by fit (from `meta`)."""
    return keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(units, activation="relu"),
                             keras.layers.Dense(meta["n_classes_"], activation="softmax")])


def linear(meta: dict | None = None) -> keras.Model:
    return keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(1)])
