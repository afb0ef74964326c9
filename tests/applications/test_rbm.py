"""RBM: CD-k and PCD updates against a direct NumPy computation, free energy, training, sampling, files, errors."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

from shendu import saving
from shendu.applications.rbm import RBM

PROTOTYPES = np.array([[1] * 6 + [0] * 6, [0] * 6 + [1] * 6, [1, 0] * 6], dtype=np.float32)


def patterns(n: int = 400, seed: int = 0) -> np.ndarray:
    """Binary rows drawn from three prototypes of 12 pixels, each pixel flipped with probability 0.05."""
    rng = np.random.default_rng(seed)
    x = PROTOTYPES[rng.integers(0, 3, n)]
    flip = rng.random(x.shape) < 0.05
    return np.where(flip, 1 - x, x).astype(np.float32)


def random_rbm(n_visible: int = 12, n_hidden: int = 5, **kwargs) -> RBM:
    rbm = RBM(n_hidden, seed=3, **kwargs)
    rbm.build(n_visible)
    rng = np.random.default_rng(9)
    rbm.set_weights([rng.normal(0, 0.5, (n_visible, n_hidden)), rng.normal(0, 0.5, n_hidden),
                     rng.normal(0, 0.5, n_visible)])
    return rbm


def sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def reference_update(weights, v0, rng, k, lr, chain=None):
    """CD-k / PCD-k written out: positive phase on the data, k Gibbs steps, negative phase on the last sample."""
    w, c, b = (np.asarray(a, np.float64) for a in weights)
    ph0 = sig(v0 @ w + c)
    h0 = (rng.random(ph0.shape, dtype=np.float32) < ph0).astype(np.float64)
    h = h0 if chain is None else chain
    for step in range(k):
        pv = sig(h @ w.T + b)
        v = (rng.random(pv.shape, dtype=np.float32) < pv).astype(np.float64)
        ph = sig(v @ w + c)
        if chain is not None or step < k - 1:
            h = (rng.random(ph.shape, dtype=np.float32) < ph).astype(np.float64)
    positive, negative = v0.T @ ph0 / len(v0), v.T @ ph / len(v)
    new = [w + lr * (positive - negative), c + lr * (ph0.mean(0) - ph.mean(0)), b + lr * (v0.mean(0) - v.mean(0))]
    return new, h, h0


def test_cd1_update_matches_the_positive_and_negative_phases() -> None:
    rbm = random_rbm(learning_rate=0.3)
    v0 = patterns(8)
    weights, rng = rbm.get_weights(), copy.deepcopy(rbm._rng)
    rbm.partial_fit(v0)
    expected, _, _ = reference_update(weights, v0.astype(np.float64), rng, k=1, lr=0.3)
    for ours, ref in zip(rbm.get_weights(), expected):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    assert not np.allclose(rbm.W, weights[0])


def test_cd3_and_persistent_chains_match_the_reference_over_two_batches() -> None:
    for persistent in (False, True):
        rbm = random_rbm(learning_rate=0.2, k=3, persistent=persistent)
        weights, rng = rbm.get_weights(), copy.deepcopy(rbm._rng)
        chain = None
        for batch in (patterns(8, seed=1), patterns(8, seed=2)):
            rbm.partial_fit(batch)
            v0 = batch.astype(np.float64)
            if persistent:
                ph0 = sig(v0 @ weights[0] + weights[1])
                probe = copy.deepcopy(rng)
                h0 = (probe.random(ph0.shape, dtype=np.float32) < ph0).astype(np.float64)
                chain = h0 if chain is None else chain
            weights, last_h, _ = reference_update(weights, v0, rng, k=3, lr=0.2, chain=chain)
            if persistent:
                chain = last_h
                np.testing.assert_array_equal(rbm._chain, chain)
        for ours, ref in zip(rbm.get_weights(), weights):
            np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


def test_free_energy_matches_the_sum_over_hidden_states() -> None:
    rbm = random_rbm(n_visible=4, n_hidden=3)
    v = patterns(5)[:, :4]
    w, c, b = (a.astype(np.float64) for a in rbm.get_weights())
    hs = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    energies = -(v @ w @ hs.T) - (v @ b)[:, None] - (hs @ c)[None, :]  # E(v, h) for every h
    expected = -np.log(np.exp(-energies).sum(1))
    np.testing.assert_allclose(rbm.free_energy(v), expected, rtol=1e-5)


def test_transform_and_reconstruct_are_the_conditionals() -> None:
    rbm = random_rbm()
    x = patterns(6)
    w, c, b = rbm.get_weights()
    np.testing.assert_allclose(rbm.transform(x), sig(x @ w + c), rtol=1e-5)
    np.testing.assert_allclose(rbm.reconstruct(x), sig(sig(x @ w + c) @ w.T + b), rtol=1e-5)


def test_training_lowers_the_free_energy_and_reconstruction_error() -> None:
    x = patterns(400)
    rbm = RBM(8, learning_rate=0.1, batch_size=20, seed=0)
    rbm.build(12)
    before = rbm.free_energy(x).mean()
    noise = (np.random.default_rng(5).random(x.shape) < 0.5).astype(np.float32)
    rbm.fit(x, epochs=20, verbose=0)
    errors = rbm.history["reconstruction_error"]
    assert len(errors) == 20 and errors[-1] < 0.5 * errors[0]
    assert rbm.free_energy(x).mean() < before - 2.0
    assert rbm.free_energy(x).mean() < rbm.free_energy(noise).mean() - 2.0  # data is more probable than noise
    assert rbm.history["pseudo_likelihood"][-1] > rbm.history["pseudo_likelihood"][0]


def test_persistent_cd_learns_too() -> None:
    x = patterns(400)
    rbm = RBM(8, learning_rate=0.05, persistent=True, batch_size=20, seed=0).fit(x, epochs=20, verbose=0)
    assert rbm.history["reconstruction_error"][-1] < 0.6 * rbm.history["reconstruction_error"][0]


def test_gibbs_samples_look_like_the_training_patterns() -> None:
    x = patterns(400)
    rbm = RBM(8, learning_rate=0.1, batch_size=20, seed=0).fit(x, epochs=30, verbose=0)
    samples = rbm.sample(50, steps=200, seed=1)
    assert samples.shape == (50, 12) and samples.min() >= 0 and samples.max() <= 1
    distance = np.abs((samples > 0.5)[:, None, :] - PROTOTYPES[None]).sum(-1).min(1)
    assert np.mean(distance <= 1) > 0.8
    nearest = np.abs((samples > 0.5)[:, None, :] - PROTOTYPES[None]).sum(-1).argmin(1)
    assert len(set(nearest.tolist())) == 3  # all three modes are visited
    np.testing.assert_array_equal(rbm.sample(3, steps=5, seed=2), rbm.sample(3, steps=5, seed=2))
    assert rbm.gibbs(x[:4]).shape == (4, 12)


def test_fit_shows_progress(capsys: pytest.CaptureFixture) -> None:
    RBM(4, batch_size=50, seed=0).fit(patterns(100), epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "reconstruction_error" in out and "pseudo_likelihood" in out


def test_save_and_load(tmp_path) -> None:
    rbm = RBM(5, learning_rate=0.05, k=2, persistent=True, seed=4).fit(patterns(60), epochs=1, verbose=0)
    rbm.save(tmp_path / "rbm.safetensors")
    again = RBM.load(tmp_path / "rbm.safetensors")
    assert again.get_config() == rbm.get_config()
    for a, b in zip(again.get_weights(), rbm.get_weights()):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "bad").write_bytes(b"not a file")
    with pytest.raises(saving.ModelFileError):
        RBM.load(tmp_path / "bad")
    with pytest.raises(FileNotFoundError):
        RBM.load(tmp_path / "missing")


def test_bad_input_is_named() -> None:
    rbm = RBM(4, seed=0)
    with pytest.raises(ValueError, match="needs weights"):
        rbm.transform(patterns(3))
    with pytest.raises(ValueError, match="2-D"):
        rbm.fit(np.zeros((3, 4, 4)), verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.fit(np.full((3, 4), 255.0), verbose=0)
    rbm.fit(patterns(10), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="expected 12 features per row, got 5"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="n_hidden"):
        RBM(0)
    with pytest.raises(ValueError, match="k"):
        RBM(3, k=0)
