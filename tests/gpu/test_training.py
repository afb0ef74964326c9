"""A model trained on a device reaches the accuracy of the same model trained on the CPU (same weights, same
batches): the losses agree step for step within 1e-3."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import backend, layers, models, optimizers
from shendu import random as sd_random


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three separable clusters in 8 dimensions, 96 samples."""
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((3, 8)) * 3
    y = np.arange(96) % 3
    return (centers[y] + rng.standard_normal((96, 8))).astype(np.float32), y


def _model() -> models.Model:
    return models.Sequential([layers.Input((8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(3, activation="softmax")])


OPTIMIZERS = {"adam": lambda: optimizers.Adam(0.01), "sgd": lambda: optimizers.SGD(0.1, momentum=0.9)}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_on_the_device_matches_the_cpu(device, optimizer):
    sd_random.set_seed(0)  # the reference's own accuracy must not depend on what earlier tests drew
    x, y = _blobs()
    cpu = _model()
    weights = cpu.get_weights()
    cpu.compile(optimizer=OPTIMIZERS[optimizer](), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ref = cpu.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0).history
    with device.scope():
        model = _model()
        model.set_weights(weights)
        model.compile(optimizer=OPTIMIZERS[optimizer](), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0).history
    assert all(backend.is_device_array(w.data) == device.on_device for w in model.weights)
    np.testing.assert_allclose(hist["loss"], ref["loss"], rtol=1e-3, atol=1e-3)
    assert ref["accuracy"][-1] > 0.9 and hist["accuracy"][-1] >= ref["accuracy"][-1] - 0.02


def _targets(kind: str, y: np.ndarray) -> tuple[np.ndarray, int, str | None]:
    """Targets for each loss family, the output width and the output activation."""
    if kind == "categorical_crossentropy":
        return np.eye(3, dtype=np.float32)[y], 3, "softmax"
    if kind == "binary_crossentropy":
        return (y > 0).astype(np.float32)[:, None], 1, "sigmoid"
    return (y.astype(np.float32) - 1.0)[:, None], 1, None


LOSSES = {"categorical_crossentropy": ["accuracy"], "binary_crossentropy": ["accuracy", "AUC"],
          "mse": ["mae", "RootMeanSquaredError"], "huber": ["mse"]}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_fit_evaluate_predict_on_the_device_match_the_cpu(device, loss):
    x, labels = _blobs()
    y, width, activation = _targets(loss, labels)

    def run() -> tuple[dict, list, np.ndarray, models.Model]:
        model = models.Sequential([layers.Input((8,)), layers.Dense(16, activation="relu"),
                                   layers.Dense(width, activation=activation)])
        model.set_weights(weights)
        model.compile(optimizer=optimizers.Adam(0.01), loss=loss, metrics=LOSSES[loss])
        hist = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, validation_split=0.25, verbose=0).history
        return hist, model.evaluate(x, y, verbose=0), model.predict(x, verbose=0), model

    weights = models.Sequential([layers.Input((8,)), layers.Dense(16), layers.Dense(width)]).get_weights()
    ref_hist, ref_eval, ref_pred, _ = run()
    with device.scope():
        hist, evaluated, pred, model = run()
    assert all(backend.is_device_array(w.data) == device.on_device for w in model.weights)
    assert type(pred) is np.ndarray  # predict hands back host arrays, as Keras's does
    assert sorted(hist) == sorted(ref_hist)
    for key in ref_hist:
        np.testing.assert_allclose(hist[key], ref_hist[key], rtol=1e-3, atol=1e-3, err_msg=key)
    np.testing.assert_allclose(evaluated, ref_eval, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-4, atol=1e-5)
