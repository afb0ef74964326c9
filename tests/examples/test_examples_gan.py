"""examples/dcgan_mnist.py: the default and the tutorial's networks (shapes, parameter counts), the learning rate,
and the per-epoch grid of the generator's weight average (noise from the GAN's prior, written from the averaged
weights, training goes on with the raw ones)."""

import importlib
import os
import sys

import numpy as np
import pytest

import shendu as sd
from shendu import optimizers
from shendu.applications.gan import GAN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples"))
dcgan = importlib.import_module("dcgan_mnist")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_dcgan_tutorial_networks_are_the_tutorials():
    sd.random.seed(0)
    generator, discriminator = dcgan.tutorial_generator(100), dcgan.tutorial_discriminator()
    assert generator.count_params() == 2_330_945  # the tutorial's 2,330,944 plus the output layer's bias
    assert discriminator.count_params() == 212_865
    images = generator.predict(np.random.default_rng(0).standard_normal((3, 100)).astype("float32"), verbose=0)
    assert images.shape == (3, 28, 28, 1) and np.abs(images).max() <= 1.0
    p = discriminator.predict(images, verbose=0)
    assert p.shape == (3, 1) and ((p > 0) & (p < 1)).all()


def test_dcgan_default_networks_and_learning_rate():
    sd.random.seed(0)
    generator, discriminator = dcgan.generator(100), dcgan.discriminator()
    # Dense 100 x 6272 + BN, ConvT 4x4 128 -> 64 + BN, ConvT 4x4 64 -> 1 with bias
    assert generator.count_params() == 100 * 6272 + 4 * 6272 + 16 * 128 * 64 + 4 * 64 + 16 * 64 + 1
    # Conv 4x4 1 -> 64 with bias, Conv 4x4 64 -> 128 + BN, Conv 3x3 128 -> 256 + BN, Dense 4096 -> 1
    assert discriminator.count_params() == 16 * 64 + 64 + 16 * 64 * 128 + 4 * 128 + 9 * 128 * 256 + 4 * 256 + 4096 + 1
    images = generator.predict(np.random.default_rng(0).standard_normal((3, 100)).astype("float32"), verbose=0)
    assert images.shape == (3, 28, 28, 1) and np.abs(images).max() <= 1.0
    assert discriminator.predict(images, verbose=0).shape == (3, 1)
    schedule = dcgan.learning_rate(2e-4, 100)
    assert schedule(0) == pytest.approx(2e-4) and schedule(49) == pytest.approx(2e-4)
    assert schedule(75) == pytest.approx(1e-4) and schedule(100) == pytest.approx(0.0, abs=1e-12)


def test_sample_grid_shows_the_weight_average_and_training_keeps_the_raw_weights(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(dcgan, "save_image_grid", lambda images, path, **kwargs: drawn.append((images, path)))
    sd.random.seed(0)
    gan = GAN(dcgan.generator(8, width=8), dcgan.discriminator(width=4), latent_dim=8, seed=0, latent_components=3)
    g_optimizer = optimizers.Adam(1e-2, beta_1=0.5, use_ema=True, ema_momentum=0.5)
    gan.compile(optimizers.Adam(1e-3, beta_1=0.5), g_optimizer, label_smoothing=0.1)
    real = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    grid = dcgan.SampleGrid(str(tmp_path), "t", n=4)
    gan.fit(real, epochs=2, batch_size=2, verbose=0, callbacks=[grid])  # 4 generator steps
    assert [os.path.basename(path) for _, path in drawn] == ["t_epoch_01.png", "t_epoch_02.png"]
    np.testing.assert_array_equal(grid.z, gan.sample_latent(4, np.random.default_rng(1234)))  # the mixture's z
    raw = gan.generator.get_weights()
    raw_images = gan.generator.predict(grid.z, verbose=0)
    g_optimizer.finalize_variable_values(gan.generator.trainable_weights)
    moved = [not np.allclose(a, b) for a, b in zip(raw, gan.generator.get_weights())]
    assert any(moved) and not all(moved)  # trainable weights averaged; BatchNorm's moving statistics as they were
    averaged_images = gan.generator.predict(grid.z, verbose=0)
    np.testing.assert_allclose(drawn[-1][0], averaged_images.reshape(-1, 28, 28), atol=1e-6)
    assert not np.allclose(drawn[-1][0], raw_images.reshape(-1, 28, 28), atol=1e-4)
