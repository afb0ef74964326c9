"""Small models shared by the explain tests."""

import numpy as np

import shendu as sd
from shendu.keras import Model, Sequential, layers


def small_cnn(seed: int = 0) -> Sequential:
    sd.random.seed(seed)
    return Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(4, (3, 3), activation="relu", name="conv_a"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(6, (2, 2), activation="relu", name="conv_b"),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])


def linear(seed: int = 0, features: int = 6, classes: int = 2) -> Sequential:
    sd.random.seed(seed)
    return Sequential([layers.Input((features,)), layers.Dense(classes)])


def two_inputs(seed: int = 0) -> Model:
    sd.random.seed(seed)
    a, b = layers.Input((3,)), layers.Input((2,))
    return Model([a, b], layers.Dense(2, activation="softmax")(layers.Concatenate()([a, layers.Dense(3)(b)])))


def images(n: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 8, 8, 1), dtype=np.float32)
