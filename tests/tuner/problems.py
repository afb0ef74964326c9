"""Small synthetic problems for the tuner tests: hypermodels whose objective is a known function of the
hyperparameters (fast, no training) and a tiny linear model whose best learning rate is clear."""

import numpy as np

import shendu.tuner as kt
from shendu import keras


def tiny_model():
    """A built one-weight model: what `build` must return even when `fit` computes the objective itself."""
    return keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])


class Quadratic(kt.HyperModel):
    """Objective (x - 0.3)^2 + (0 if units == 16 else 0.5), minimized at x = 0.3, units = 16; records the calls."""

    def __init__(self, crash_on_call=None):
        super().__init__()
        self.calls = []
        self.crash_on_call = crash_on_call

    def build(self, hp):
        hp.Float("x", 0.0, 1.0)
        hp.Choice("units", [4, 16, 64])
        return tiny_model()

    def fit(self, hp, model, *args, **kwargs):
        self.calls.append(dict(hp.values))
        if self.crash_on_call == len(self.calls):
            raise KeyboardInterrupt("simulated crash")
        return (hp["x"] - 0.3) ** 2 + (0.0 if hp["units"] == 16 else 0.5)


class Grid(kt.HyperModel):
    """A small discrete space (12 combinations) with the objective a + b / 10 (as a dict with another metric)."""

    def __init__(self, crash_on_call=None):
        super().__init__()
        self.calls = []
        self.crash_on_call = crash_on_call

    def build(self, hp):
        hp.Int("a", 1, 3)
        hp.Choice("b", [10, 20, 30, 40])
        return tiny_model()

    def fit(self, hp, model, *args, **kwargs):
        self.calls.append((hp["a"], hp["b"]))
        if self.crash_on_call == len(self.calls):
            raise KeyboardInterrupt("simulated crash")
        return {"score": hp["a"] + hp["b"] / 10, "other": 1.0}


def linear_data(n=64, seed=0):
    """y = 2 x - 1 with a little noise, split 48 / 16 into training and validation."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 1)).astype("float32")
    y = (2 * x - 1 + 0.01 * rng.normal(size=(n, 1))).astype("float32")
    return (x[:48], y[:48]), (x[48:], y[48:])


def build_linear(hp):
    """A linear model trained by SGD at the learning rate `lr`."""
    model = keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(hp.Choice("lr", [1e-4, 1e-3, 0.3])), loss="mse")
    return model
