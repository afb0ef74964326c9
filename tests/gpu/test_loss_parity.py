"""Every Keras loss on every backend: the value and the gradient with respect to the prediction agree with the
NumPy run's within 1e-4, and both stay on the device (the fake device refuses a host round trip)."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import losses

rng = np.random.default_rng(5)
LABELS = np.arange(6) % 3
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS]
POSITIVE = (np.abs(rng.standard_normal((6, 3))) + 0.1).astype(np.float32)
SIGNS = np.sign(rng.standard_normal((6, 3))).astype(np.float32)
LOGITS = rng.standard_normal((6, 3)).astype(np.float32)
PROBS = (np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)).astype(np.float32)

# loss name: (y_true, y_pred)
CASES = {
    "mean_squared_error": (POSITIVE, LOGITS), "mean_absolute_error": (POSITIVE, LOGITS),
    "mean_absolute_percentage_error": (POSITIVE, LOGITS), "mean_squared_logarithmic_error": (POSITIVE, POSITIVE[::-1]),
    "huber": (POSITIVE, LOGITS), "log_cosh": (POSITIVE, LOGITS), "poisson": (POSITIVE, POSITIVE[::-1]),
    "kl_divergence": (ONE_HOT, PROBS), "cosine_similarity": (POSITIVE, LOGITS), "hinge": (SIGNS, LOGITS),
    "squared_hinge": ((SIGNS > 0).astype(np.float32), LOGITS), "categorical_hinge": (ONE_HOT, LOGITS),
    "binary_crossentropy": ((SIGNS > 0).astype(np.float32), PROBS),
    "categorical_crossentropy": (ONE_HOT, PROBS), "sparse_categorical_crossentropy": (LABELS, PROBS),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_and_its_gradient_match_numpy(device, name):
    y_true, y_pred = CASES[name]
    loss = losses.get(name)

    def run(put):
        pred = sd.Variable(put(y_pred))
        with sd.GradientTape() as tape:
            value = loss(put(y_true), pred)
        return value, tape.gradient(value, pred)

    ref_value, ref_grad = run(np.asarray)
    value, grad = run(device.put)
    np.testing.assert_allclose(device.get(value), ref_value.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(device.get(grad), ref_grad.numpy(), rtol=1e-4, atol=1e-5)
