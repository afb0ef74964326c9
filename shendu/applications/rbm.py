"""RBM: a Bernoulli restricted Boltzmann machine trained by contrastive divergence (CD-k) or persistent CD.

Energy E(v, h) = -vᵀWh - bᵀv - cᵀh over binary visible v and hidden h; the conditionals factorise:
p(h_j = 1 | v) = sigmoid(vW + c)_j and p(v_i = 1 | h) = sigmoid(hWᵀ + b)_i. Plain NumPy (float32): the update rule is
the algorithm, there is no loss to differentiate.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from shendu import saving
from shendu.ops.elementwise import sigmoid
from shendu.saving import safetensors_format
from shendu.utils.progbar import Progbar

FORMAT = "shendu.rbm/1"


class RBM:
    """Bernoulli-Bernoulli RBM, `RBM(n_hidden, learning_rate=0.1, k=1, persistent=False)` (sklearn's BernoulliRBM
    with Keras-style fit): `fit(x, epochs, batch_size, verbose)` on data in [0, 1], then `transform` (hidden
    probabilities), `reconstruct`, `sample` (Gibbs), `free_energy`, `score_samples` (pseudo-likelihood).

    One update on a batch v0 (B rows) with a negative chain of M rows (the batch for CD, a persistent set for PCD):
      W += lr (v0ᵀ p(h|v0) / B - v_kᵀ p(h|v_k) / M)
      b += lr (mean v0 - mean v_k),  c += lr (mean p(h|v0) - mean p(h|v_k))
    where v_k is the visible sample after k Gibbs steps v -> h -> v started from h0 ~ p(h|v0) (CD) or from the
    chain's last hidden sample (PCD, Tieleman 2008). Weights start at N(0, 0.01²) and biases at 0 (Hinton 2010).
    """

    def __init__(self, n_hidden: int, learning_rate: float = 0.1, k: int = 1, persistent: bool = False,
                 batch_size: int = 32, seed: int | None = None, name: str = "rbm") -> None:
        if not isinstance(n_hidden, (int, np.integer)) or n_hidden < 1:
            raise ValueError(f"RBM '{name}': n_hidden must be a positive integer, got {n_hidden!r}")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"RBM '{name}': k (Gibbs steps per update) must be a positive integer, got {k!r}")
        if not learning_rate > 0:
            raise ValueError(f"RBM '{name}': learning_rate must be positive, got {learning_rate!r}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"RBM '{name}': batch_size must be a positive integer, got {batch_size!r}")
        self.n_hidden = int(n_hidden)
        self.learning_rate = float(learning_rate)
        self.k = int(k)
        self.persistent = bool(persistent)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.name = name
        self.n_visible: int | None = None
        self.W = np.zeros((0, self.n_hidden), np.float32)
        self.visible_bias = np.zeros(0, np.float32)
        self.hidden_bias = np.zeros(self.n_hidden, np.float32)
        self.history: dict[str, list[float]] = {}
        self._rng = np.random.default_rng(seed)
        self._chain: np.ndarray | None = None  # PCD: the persistent chain's hidden sample

    @property
    def built(self) -> bool:
        return self.n_visible is not None

    def build(self, n_visible: int) -> None:
        """Create the weights for `n_visible` visible units: W ~ N(0, 0.01²), biases 0."""
        self.n_visible = int(n_visible)
        self.W = (0.01 * self._rng.standard_normal((self.n_visible, self.n_hidden))).astype(np.float32)
        self.visible_bias = np.zeros(self.n_visible, np.float32)
        self.hidden_bias = np.zeros(self.n_hidden, np.float32)
        self._chain = None

    # --- conditionals and sampling -------------------------------------------------------------------
    def _bernoulli(self, p: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """A binary sample with P(1) = p, from uniform draws `rng.random(p.shape, dtype=float32) < p`."""
        return ((rng or self._rng).random(p.shape, dtype=np.float32) < p).astype(np.float32)

    def hidden_probabilities(self, v: np.ndarray) -> np.ndarray:
        """p(h = 1 | v) = sigmoid(vW + c)."""
        z = v @ self.W + self.hidden_bias
        return sigmoid(z, out=z)

    def visible_probabilities(self, h: np.ndarray) -> np.ndarray:
        """p(v = 1 | h) = sigmoid(hWᵀ + b)."""
        z = h @ self.W.T + self.visible_bias
        return sigmoid(z, out=z)

    def gibbs(self, v: Any) -> np.ndarray:
        """One Gibbs step v -> h -> v' with binary samples at both layers; returns v'."""
        v = self._check(v, "gibbs")
        return self._bernoulli(self.visible_probabilities(self._bernoulli(self.hidden_probabilities(v))))

    # --- training ------------------------------------------------------------------------------------
    def partial_fit(self, x: Any) -> float:
        """One CD-k (or PCD-k) update on one batch; returns the batch's reconstruction error
        mean((v0 - p(v | h0))²) with h0 ~ p(h | v0).

        Random draws, in order: h0 (B x n_hidden), then per Gibbs step the visible sample and (except after the
        last step of plain CD) the hidden sample, each as `rng.random(shape, dtype=float32) < p`.
        """
        v0 = self._check(x, "partial_fit", build=True)
        ph0 = self.hidden_probabilities(v0)
        h0 = self._bernoulli(ph0)
        if self.persistent and self._chain is None:
            self._chain = h0
        h = self._chain if self.persistent else h0
        recon = None
        for step in range(self.k):
            pv = self.visible_probabilities(h)
            if recon is None and not self.persistent:
                recon = pv
            v = self._bernoulli(pv)
            ph = self.hidden_probabilities(v)
            if self.persistent or step < self.k - 1:
                h = self._bernoulli(ph)
        if self.persistent:
            self._chain = h
        if recon is None:
            recon = self.visible_probabilities(h0)
        lr, b, m = self.learning_rate, len(v0), len(v)
        self.W += (lr / b) * (v0.T @ ph0) - (lr / m) * (v.T @ ph)
        self.visible_bias += lr * (v0.mean(0) - v.mean(0))
        self.hidden_bias += lr * (ph0.mean(0) - ph.mean(0))
        return float(np.mean((v0 - recon) ** 2))

    def fit(self, x: Any, epochs: int = 10, batch_size: int | None = None, verbose: int = 1,
            shuffle: bool = True) -> RBM:
        """Train on rows of x in [0, 1] for `epochs` passes; the progress bar shows the reconstruction error and,
        at each epoch's end, the pseudo-log-likelihood of up to 1,000 rows. Per-epoch values go to `history`."""
        x = self._check(x, "fit", build=True)
        batch_size = int(batch_size or self.batch_size)
        steps = -(-len(x) // batch_size)
        self.history = {"reconstruction_error": [], "pseudo_likelihood": []}
        probe = x[:1000]
        for epoch in range(epochs):
            if verbose and epochs > 1:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            bar = Progbar(steps, verbose=verbose, stateful_metrics=["pseudo_likelihood"])
            order = self._rng.permutation(len(x)) if shuffle else np.arange(len(x))
            total = 0.0
            for i in range(steps):
                rows = order[i * batch_size:(i + 1) * batch_size]
                error = self.partial_fit(x[rows])
                total += error * len(rows)
                if i < steps - 1:
                    bar.update(i + 1, [("reconstruction_error", error)])
            pseudo = float(self.score_samples(probe).mean())
            bar.update(steps, [("reconstruction_error", error), ("pseudo_likelihood", pseudo)], finalize=True)
            self.history["reconstruction_error"].append(total / len(x))
            self.history["pseudo_likelihood"].append(pseudo)
        return self

    # --- using a trained RBM -------------------------------------------------------------------------
    def transform(self, x: Any) -> np.ndarray:
        """The hidden units' probabilities p(h = 1 | x), the RBM's features."""
        return self.hidden_probabilities(self._check(x, "transform"))

    def reconstruct(self, x: Any) -> np.ndarray:
        """Mean-field reconstruction p(v = 1 | h = p(h = 1 | x))."""
        return self.visible_probabilities(self.transform(x))

    def sample(self, n: int, steps: int = 1000, seed: int | None = None, start: Any = None) -> np.ndarray:
        """n visible samples after `steps` Gibbs steps from random binary vectors (or from `start`); returns
        the last step's probabilities p(v = 1 | h), which show the sample without salt-and-pepper noise."""
        self._require_built("sample")
        rng = np.random.default_rng(seed) if seed is not None else self._rng
        if start is None:
            v = (rng.random((n, self.n_visible)) < 0.5).astype(np.float32)
        else:
            v = self._check(start, "sample")
        pv = v
        for _ in range(steps):
            h = self._bernoulli(self.hidden_probabilities(v), rng)
            pv = self.visible_probabilities(h)
            v = self._bernoulli(pv, rng)
        return pv

    def free_energy(self, x: Any) -> np.ndarray:
        """F(v) = -bᵀv - Σ_j log(1 + exp(vW + c)_j), so that p(v) ∝ exp(-F(v)); one value per row."""
        v = self._check(x, "free_energy")
        return -(v @ self.visible_bias) - np.logaddexp(0, v @ self.W + self.hidden_bias).sum(1)

    def score_samples(self, x: Any) -> np.ndarray:
        """Pseudo-log-likelihood per row (stochastic, as sklearn's): n_visible · log sigmoid(F(ṽ) - F(v)), where ṽ is v
        with one visible unit, chosen at random per row, flipped."""
        v = self._check(x, "score_samples")
        flipped = v.copy()
        idx = (np.arange(len(v)), self._rng.integers(0, self.n_visible, len(v)))
        flipped[idx] = 1 - flipped[idx]
        delta = self.free_energy(flipped) - self.free_energy(v)
        return -self.n_visible * np.logaddexp(0, -delta)

    # --- weights, config and files -------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """[W, hidden_bias, visible_bias]: a Dense layer's [kernel, bias] first, so `Dense.set_weights(w[:2])` works."""
        return [self.W.copy(), self.hidden_bias.copy(), self.visible_bias.copy()]

    def set_weights(self, weights: list[Any]) -> None:
        if len(weights) != 3:
            raise ValueError(f"RBM '{self.name}': set_weights expects [W, hidden_bias, visible_bias], "
                             f"got {len(weights)} arrays")
        w, c, b = (np.asarray(a, np.float32) for a in weights)
        if w.ndim != 2 or w.shape[1] != self.n_hidden or c.shape != (self.n_hidden,) or b.shape != (w.shape[0],):
            raise ValueError(f"RBM '{self.name}': expected W (n_visible, {self.n_hidden}), hidden_bias "
                             f"({self.n_hidden},), visible_bias (n_visible,); got {w.shape}, {c.shape}, {b.shape}")
        self.n_visible = w.shape[0]
        self.W, self.hidden_bias, self.visible_bias = w.copy(), c.copy(), b.copy()
        self._chain = None

    def get_config(self) -> dict[str, Any]:
        return {"n_hidden": self.n_hidden, "learning_rate": self.learning_rate, "k": self.k,
                "persistent": self.persistent, "batch_size": self.batch_size, "seed": self.seed, "name": self.name}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the config and weights to a safetensors file, atomically."""
        self._require_built("save")
        write_arrays(path, {"W": self.W, "hidden_bias": self.hidden_bias, "visible_bias": self.visible_bias},
                     {"class_name": "RBM", "config": self.get_config()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RBM:
        """An RBM saved by `save`, with its weights checked by name and shape."""
        arrays, config = read_arrays(path, "RBM")
        rbm = cls(**config["config"])
        missing = {"W", "hidden_bias", "visible_bias"} - set(arrays)
        if missing:
            raise saving.ModelFileError(f"{os.fspath(path)}: RBM weights {sorted(missing)} are missing")
        rbm.set_weights([arrays["W"], arrays["hidden_bias"], arrays["visible_bias"]])
        return rbm

    # --- checks --------------------------------------------------------------------------------------
    def _require_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(f"RBM '{self.name}': {method}() needs weights; fit the RBM (or build it) first")

    def _check(self, x: Any, method: str, build: bool = False) -> np.ndarray:
        """Rows of x as float32, checked: 2-D, n_visible columns, values in [0, 1]."""
        v = np.asarray(x, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"RBM '{self.name}'.{method}: expected a 2-D array (samples, features); got shape "
                             f"{v.shape}. Flatten images first, e.g. x.reshape(len(x), -1)")
        if v.size and not (v.min() >= 0 and v.max() <= 1):
            raise ValueError(f"RBM '{self.name}'.{method}: Bernoulli visible units take values in [0, 1]; got "
                             f"values from {v.min()} to {v.max()} (scale the data, e.g. x / 255)")
        if not self.built:
            if not build:
                self._require_built(method)
            self.build(v.shape[1])
        if v.shape[1] != self.n_visible:
            raise ValueError(f"RBM '{self.name}'.{method}: expected {self.n_visible} features per row, "
                             f"got {v.shape[1]}")
        return v


def write_arrays(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], config: dict[str, Any]) -> None:
    """Arrays and a JSON config in one safetensors file (the config in its metadata), written atomically."""
    safetensors_format.save_file(arrays, path, metadata={"format": FORMAT, "config": json.dumps(config)})


def read_arrays(path: str | os.PathLike[str], expected: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and config written by `write_arrays`; the config must name the class `expected`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{expected}.load: no file at {path}")
    with open(path, "rb") as f:
        blob = f.read()
    arrays = safetensors_format.load(blob, path)
    try:
        config = json.loads(safetensors_format.load_metadata(blob, path)["config"])
    except (KeyError, ValueError) as err:
        raise saving.ModelFileError(f"{path} has no readable {expected} config ({err})") from None
    if config.get("class_name") != expected:
        raise saving.ModelFileError(f"{path} holds a {config.get('class_name')!r}, not a {expected}")
    return arrays, config
