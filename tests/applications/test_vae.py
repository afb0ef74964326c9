"""VAE: the Sampling layer's KL term against its closed form, the reparameterisation, and add_loss in training."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.applications.autoencoder import Sampling
from shendu.layers import Input
from shendu.models import Model, load_model


def closed_form_kl(mean: np.ndarray, log_var: np.ndarray) -> float:
    """KL(N(mean, exp(log_var)) || N(0, 1)) summed over dimensions, averaged over rows."""
    var = np.exp(log_var)
    return float(np.mean(np.sum(0.5 * (var + mean**2 - 1 - log_var), axis=-1)))


def gaussians(batch: int = 5, dim: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (batch, dim)), rng.normal(0, 0.7, (batch, dim))


def test_kl_term_matches_the_closed_form_and_a_numerical_integral() -> None:
    mean, log_var = gaussians()
    layer = Sampling(dtype="float64")
    layer([mean, log_var])
    (kl,) = layer.losses
    assert float(kl.data) == pytest.approx(closed_form_kl(mean, log_var), rel=1e-12)
    grid = np.linspace(-12, 12, 200001)
    log_p = -0.5 * grid**2 - 0.5 * np.log(2 * np.pi)
    total = 0.0
    for m, lv in zip(mean.ravel(), log_var.ravel()):  # KL = ∫ q log(q / p), one dimension at a time
        log_q = -0.5 * (grid - m) ** 2 / np.exp(lv) - 0.5 * np.log(2 * np.pi) - 0.5 * lv
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), grid)
    assert float(kl.data) == pytest.approx(total / len(mean), rel=1e-6)


def test_kl_term_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    mean, log_var = gaussians(7, 4, seed=1)
    layer = Sampling(kl_weight=0.3, dtype="float64")
    layer([mean, log_var])
    q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(torch.zeros(7, 4, dtype=torch.float64), torch.ones(7, 4, dtype=torch.float64))
    expected = 0.3 * torch.distributions.kl_divergence(q, p).sum(-1).mean().item()
    assert float(layer.losses[0].data) == pytest.approx(expected, rel=1e-12)


def test_kl_gradients_and_reparameterisation() -> None:
    mean, log_var = gaussians()
    m = sd.Tensor(mean, requires_grad=True)
    lv = sd.Tensor(log_var, requires_grad=True)
    layer = Sampling(seed=4, dtype="float64")
    rng = copy.deepcopy(layer._rng)
    z = layer([m, lv])
    eps = rng.standard_normal(mean.shape)
    np.testing.assert_allclose(z.numpy(), mean + np.exp(0.5 * log_var) * eps, rtol=1e-12)
    (z.sum() + layer.losses[0]).backward()
    n = len(mean)
    np.testing.assert_allclose(m.grad.numpy(), 1 + mean / n, rtol=1e-12)  # dz/dmean = 1, dKL/dmean = mean / n
    np.testing.assert_allclose(lv.grad.numpy(), 0.5 * np.exp(0.5 * log_var) * eps + 0.5 * (np.exp(log_var) - 1) / n,
                               rtol=1e-10)


def test_samples_have_the_encoded_mean_and_spread() -> None:
    layer = Sampling(seed=0)
    mean = np.full((20000, 2), [1.5, -2.0], np.float32)
    log_var = np.full((20000, 2), [np.log(0.25), 0.0], np.float32)
    z = layer([mean, log_var]).numpy()
    np.testing.assert_allclose(z.mean(0), [1.5, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(0), [0.5, 1.0], atol=0.03)


def small_vae(kl_weight: float = 1.0, seed: int = 0) -> tuple[Model, Sampling, Model]:
    sd.random.seed(seed)
    x = Input(shape=(6,))
    h = layers.Dense(8, activation="relu")(x)
    z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
    sampling = Sampling(kl_weight=kl_weight, seed=seed)
    z = sampling([z_mean, z_log_var])
    out = layers.Dense(6, activation="sigmoid")(layers.Dense(8, activation="relu")(z))
    return Model(x, out), sampling, Model(x, [z_mean, z_log_var])


def test_add_loss_terms_reach_the_training_loss() -> None:
    model, sampling, _ = small_vae(kl_weight=0.5)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((16, 6)).astype("float32")
    saved = copy.deepcopy(sampling._rng)
    loss = model.test_on_batch(x, x)
    sampling._rng = saved
    pred = model(x, training=False)
    (kl,) = model.losses
    bce = -np.mean(x * np.log(pred.numpy()) + (1 - x) * np.log(1 - pred.numpy()))
    assert float(kl.data) > 0.0
    assert loss == pytest.approx(bce + float(kl.data), rel=1e-5)


def test_training_on_the_kl_term_alone_pulls_the_posterior_to_the_prior() -> None:
    model, _, encoder = small_vae()
    model.compile(optimizer=sd.optimizers.Adam(0.02), loss=None)
    x = np.random.default_rng(1).random((64, 6)).astype("float32")
    history = model.fit(x, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    z_mean, z_log_var = encoder.predict(x, verbose=0)
    assert np.abs(z_mean).max() < 0.2 and np.abs(z_log_var).max() < 0.2


def test_vae_saves_and_loads(tmp_path) -> None:
    model, _, _ = small_vae(kl_weight=0.25)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save(tmp_path / "vae.shendu")
    again = load_model(tmp_path / "vae.shendu")
    sampling = next(layer for layer in again.layers if isinstance(layer, Sampling))
    assert sampling.kl_weight == 0.25
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert again.predict(x, verbose=0).shape == (4, 6)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"\[z_mean, z_log_var\]"):
        Sampling()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        Sampling()([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="kl_weight"):
        Sampling(kl_weight=-1)
