"""A model trained on a device reaches the accuracy of the same model trained on the CPU (same weights, same
batches): the losses agree step for step within 1e-3."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import backend, layers, models, optimizers

# what keeps `fit` off a device today (docs/gpu.md lists the edits; the owners' files)
PENDING = "optimizers/optimizer.py _build/_create_slots call np.zeros_like/np.empty_like on the weights (H17)"


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
def test_training_on_the_device_matches_the_cpu(device, optimizer, request):
    if device.on_device:
        request.applymarker(pytest.mark.xfail(device.name == "fake-device", strict=True, reason=PENDING))
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
