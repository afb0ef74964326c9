"""Autoencoders: dense, convolutional and denoising ones train with fit; stacked autoencoder pre-training."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.applications.autoencoder import StackedAutoencoder
from shendu.layers.convolutional import Conv2D
from shendu.layers.pooling import MaxPooling2D
from shendu.layers.reshaping_image import UpSampling2D
from shendu.models import Sequential


def low_rank(n: int = 512, dim: int = 16, rank: int = 3, seed: int = 0) -> np.ndarray:
    """Points in [0, 1]^dim that lie near a rank-3 subspace: an autoencoder with a 3-unit code can reproduce them."""
    rng = np.random.default_rng(seed)
    return (1 / (1 + np.exp(-rng.normal(size=(n, rank)) @ rng.normal(size=(rank, dim))))).astype("float32")


def test_dense_autoencoder_reconstructs_through_a_bottleneck() -> None:
    sd.random.seed(0)
    x = low_rank()
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(16,)), layers.Dense(3),
                        layers.Dense(8, activation="relu"), layers.Dense(16, activation="sigmoid")])
    model.compile(optimizer=sd.optimizers.Adam(0.01), loss="mse")
    baseline = float(np.mean((x - x.mean(0)) ** 2))  # the error of always answering the mean
    history = model.fit(x, x, epochs=60, batch_size=64, verbose=0)
    error = float(np.mean((model.predict(x, verbose=0) - x) ** 2))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert error < 0.2 * baseline


def test_convolutional_autoencoder_keeps_the_image_shape_and_learns() -> None:
    sd.random.seed(0)
    rng = np.random.default_rng(0)
    x = np.zeros((64, 8, 8, 1), np.float32)
    for img, (r, c) in zip(x, rng.integers(0, 6, (64, 2))):
        img[r:r + 3, c:c + 3] = 1.0  # one bright square per image
    model = Sequential([Conv2D(8, 3, activation="relu", padding="same", input_shape=(8, 8, 1)), MaxPooling2D(2),
                        Conv2D(8, 3, activation="relu", padding="same"), UpSampling2D(2),
                        Conv2D(1, 3, activation="sigmoid", padding="same")])
    assert model.output_shape == (None, 8, 8, 1)
    model.compile(optimizer=sd.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(x, x, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_denoising_autoencoder_removes_noise() -> None:
    sd.random.seed(0)
    x = low_rank(1024)
    model = Sequential([layers.GaussianNoise(0.2, input_shape=(16,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3), layers.Dense(8, activation="relu"), layers.Dense(16, activation="sigmoid")])
    model.compile(optimizer=sd.optimizers.Adam(0.01), loss="mse")
    model.fit(x, x, epochs=40, batch_size=64, verbose=0)
    noisy = x + np.random.default_rng(1).normal(0, 0.2, x.shape).astype("float32")
    cleaned = model.predict(noisy, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))  # no noise at inference
    assert np.mean((cleaned - x) ** 2) < 0.5 * np.mean((noisy - x) ** 2)


def test_stacked_autoencoder_pretrains_layer_by_layer_and_fine_tunes() -> None:
    sd.random.seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    centers = rng.random((3, 16))
    x = np.clip(centers[y] + rng.normal(0, 0.1, (600, 16)), 0, 1).astype("float32")
    sae = StackedAutoencoder([16, 8, 4], optimizer=sd.optimizers.Adam(0.01), noise_stddev=0.05)
    sae.pretrain(x, epochs=[15, 10], batch_size=32, verbose=0)
    assert len(sae.encoders) == 2 and len(sae.histories) == 2
    for history in sae.histories:
        assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    features = sae.to_model()
    np.testing.assert_allclose(features.predict(x, verbose=0), sae.transform(x), rtol=1e-5, atol=1e-6)
    model = sae.to_model(num_classes=3)
    for dense, encoder in zip(model.layers, sae.encoders):
        for a, b in zip(dense.get_weights(), encoder.get_weights()):
            np.testing.assert_array_equal(a, b)
    model.compile(optimizer=sd.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_stacked_autoencoder_errors() -> None:
    with pytest.raises(ValueError, match="at least two positive integers"):
        StackedAutoencoder([16])
    sae = StackedAutoencoder([16, 4])
    with pytest.raises(ValueError, match="pretrain"):
        sae.to_model()
    with pytest.raises(ValueError, match=r"rows of 16 features.*\(3, 5\)"):
        sae.pretrain(np.zeros((3, 5)), verbose=0)
    with pytest.raises(ValueError, match="one per layer"):
        sae.pretrain(np.zeros((3, 16)), epochs=[1, 2], verbose=0)
