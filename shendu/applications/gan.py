"""GAN: a generator and a discriminator trained against each other inside `Model.fit` (Goodfellow et al. 2014).

One `train_step` is a discriminator step then a generator step, each with its own optimizer:
  d_loss = ½ [L(1 - s, D(x)) + L(0, D(G(z)))]      (L the loss, 1 - s the one-sided smoothed label of real data)
  g_loss = L(1, D(G(z')))  = -mean log D(G(z'))    (the non-saturating generator loss, fresh noise z')
Both calls of the discriminator run in training mode (BatchNorm on batch statistics, Dropout active); the
generator step takes no gradient of the discriminator's weights, so only the generator moves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu import backend, grad_mode, losses, optimizers
from shendu import random as sd_random
from shendu.layers.base import Layer, to_tensor
from shendu.models.compile_utils import LossTracker
from shendu.models.model import Model
from shendu.tensor import Tensor


class GAN(Model):
    """GAN(generator, discriminator, latent_dim): `compile(d_optimizer, g_optimizer, loss_fn)`, then
    `fit(real_data, epochs=..., batch_size=...)` with the usual progress bar, callbacks and History
    ('d_loss', 'g_loss'), and `generate(n, seed)` for samples. Noise is z ~ N(0, I), or with latent_components=K a
    mixture of K Gaussians: z = mu_k + latent_spread * eps, k uniform, eps ~ N(0, I), the means mu_k ~ N(0, I) drawn
    once from latent_seed (Ben-Yosef & Weinshall 2018); any other prior by overriding `sample_latent`.

    The discriminator outputs the probability that its input is real (sigmoid; or logits with
    `loss_fn=BinaryCrossentropy(from_logits=True)`). Calling the GAN on noise runs the generator.
    """

    def __init__(self, generator: Layer, discriminator: Layer, latent_dim: int, seed: int | None = None,
                 latent_components: int = 0, latent_spread: float = 0.5, latent_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for role, part in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(part, Layer):
                raise TypeError(f"GAN '{self.name}': the {role} must be a Model or Layer, got {type(part).__name__}")
        if not isinstance(latent_dim, (int, np.integer)) or isinstance(latent_dim, bool) or latent_dim < 1:
            raise ValueError(f"GAN '{self.name}': latent_dim must be a positive integer, got {latent_dim!r}")
        if not isinstance(latent_components, (int, np.integer)) or isinstance(latent_components, bool) \
                or latent_components < 0:
            raise ValueError(f"GAN '{self.name}': latent_components must be an integer >= 0 (0: z ~ N(0, I)), got "
                             f"{latent_components!r}")
        if not latent_spread > 0:
            raise ValueError(f"GAN '{self.name}': latent_spread must be positive, got {latent_spread!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.latent_components, self.latent_spread, self.latent_seed = int(latent_components), float(latent_spread), \
            int(latent_seed)
        self.latent_means = np.random.default_rng(self.latent_seed).standard_normal(
            (self.latent_components, self.latent_dim)).astype(backend.floatx())
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.d_optimizer: Any = None
        self.g_optimizer: Any = None
        self.loss_fn: Any = None
        self.label_smoothing = 0.0
        self.d_loss_tracker = LossTracker("d_loss")
        self.g_loss_tracker = LossTracker("g_loss")
        self.built = bool(generator.built and discriminator.built)

    # --- compile -----------------------------------------------------------------------------------
    def compile(self, d_optimizer: Any = "adam", g_optimizer: Any = "adam", loss_fn: Any = None,
                label_smoothing: float = 0.0, **kwargs: Any) -> None:
        """Set one optimizer per side and the loss (default binary cross-entropy on probabilities).

        label_smoothing s: real images are labelled 1 - s in the discriminator step (one-sided, Salimans et al.
        2016); fakes keep 0 and the generator's target stays 1. Shapes known now are checked now.
        """
        if kwargs:
            raise TypeError(f"GAN '{self.name}': compile() takes d_optimizer, g_optimizer, loss_fn and "
                            f"label_smoothing; got {sorted(kwargs)}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"GAN '{self.name}': label_smoothing must be in [0, 1), got {label_smoothing}")
        self.d_optimizer = optimizers.get(d_optimizer)
        self.g_optimizer = optimizers.get(g_optimizer)
        if self.d_optimizer is None or self.g_optimizer is None:
            raise ValueError(f"GAN '{self.name}': compile() needs both d_optimizer and g_optimizer")
        if self.d_optimizer is self.g_optimizer:
            raise ValueError(f"GAN '{self.name}': give the discriminator and the generator separate optimizers "
                             "(one optimizer object would share its step count and state between them)")
        self.loss_fn = losses.get(loss_fn if loss_fn is not None else "binary_crossentropy")
        self.label_smoothing = float(label_smoothing)
        self.d_loss_tracker = LossTracker("d_loss")
        self.g_loss_tracker = LossTracker("g_loss")
        self.compiled = True
        self._check_static_shapes()

    @property
    def metrics(self) -> list[Any]:
        return [self.d_loss_tracker, self.g_loss_tracker] if self.compiled else []

    def get_metrics_result(self) -> dict[str, float]:
        return {m.name: m.result() for m in self.metrics}

    def get_compile_config(self) -> dict[str, Any] | None:
        if not self.compiled:
            return None
        return {"d_optimizer": optimizers.serialize(self.d_optimizer),
                "g_optimizer": optimizers.serialize(self.g_optimizer),
                "loss_fn": losses.serialize(self.loss_fn), "label_smoothing": self.label_smoothing}

    def compile_from_config(self, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> None:
        self.compile(optimizers.deserialize(config["d_optimizer"], custom_objects=custom_objects),
                     optimizers.deserialize(config["g_optimizer"], custom_objects=custom_objects),
                     losses.deserialize(config["loss_fn"], custom_objects), config.get("label_smoothing", 0.0))

    # --- one training step -------------------------------------------------------------------------
    def sample_latent(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """n latent vectors of size latent_dim from the prior: N(0, I), or the mixture mu_k + latent_spread * eps
        (from rng, else the GAN's seed, else shendu.random)."""
        rng = rng or self._rng or sd_random.generator()
        eps = rng.standard_normal((int(n), self.latent_dim))
        if not self.latent_components:
            return eps.astype(backend.floatx())
        k = rng.integers(0, self.latent_components, int(n))
        return (self.latent_means[k] + self.latent_spread * eps).astype(backend.floatx())

    def train_step(self, data: Any) -> dict[str, float]:
        """A discriminator step on this batch of real data, then a generator step on as many fresh samples."""
        real = data[0] if isinstance(data, tuple) else data
        real = to_tensor(real, getattr(self.discriminator, "dtype", None))
        n = real.shape[0]
        d_loss = self.discriminator_step(real)
        g_loss = self.generator_step(n) if math.isfinite(d_loss) else d_loss
        self.built = True
        for tracker, value in ((self.d_loss_tracker, d_loss), (self.g_loss_tracker, g_loss)):
            tracker.update_state(value, n)
            if not math.isfinite(value):
                self._nonfinite = value
        return self.get_metrics_result()

    def discriminator_step(self, real: Any) -> float:
        """Update the discriminator on real data and as many fakes (made without recording); returns d_loss."""
        real = to_tensor(real, getattr(self.discriminator, "dtype", None))
        n = real.shape[0]
        with grad_mode.no_grad():
            fake = self.generator(self.sample_latent(n), training=True)
        self._check_fake(fake, real)
        d_vars = self.discriminator.trainable_weights
        for v in d_vars:
            v.grad = None
        real_pred = self.discriminator(real, training=True)
        fake_pred = self.discriminator(fake, training=True)
        loss = (self.loss_fn(_full(real_pred, 1.0 - self.label_smoothing), real_pred)
                + self.loss_fn(_full(fake_pred, 0.0), fake_pred)) * 0.5
        loss = _plus_losses(loss, self.discriminator)
        return self._apply(loss, d_vars, self.d_optimizer)

    def generator_step(self, n: int) -> float:
        """Update the generator to make D(G(z)) say 'real' (target 1); the discriminator's weights take no
        gradient and stay as they are. Returns g_loss."""
        self._assert_compiled("generator_step")
        g_vars = self.generator.trainable_weights
        frozen = [v for v in self.discriminator.weights if v.requires_grad]
        for v in frozen:
            v.requires_grad = False
            v.grad = None
        try:
            for v in g_vars:
                v.grad = None
            fake = self.generator(self.sample_latent(n), training=True)
            pred = self.discriminator(fake, training=True)
            loss = _plus_losses(self.loss_fn(_full(pred, 1.0), pred), self.generator)
            return self._apply(loss, g_vars, self.g_optimizer)
        finally:
            for v in frozen:
                v.requires_grad = True

    def _apply(self, loss: Tensor, variables: list[Any], optimizer: Any) -> float:
        value = float(loss.data)
        if math.isfinite(value) and loss.requires_grad:
            loss.backward()
            grads = [(v.grad.data, v) for v in variables if v.grad is not None]
            if grads:
                optimizer.apply_gradients(grads)
        return value

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"GAN '{self.name}': call compile(d_optimizer, g_optimizer, loss_fn) before {method}()")

    # --- shapes ------------------------------------------------------------------------------------
    def _check_static_shapes(self) -> None:
        """Compare what the models declare: the generator's input with latent_dim, its output with D's input."""
        g_in = _declared(self.generator, "input_shape")
        if isinstance(g_in, tuple) and g_in and g_in[-1] is not None and g_in[-1] != self.latent_dim:
            raise ValueError(f"GAN '{self.name}': the generator takes inputs of shape {g_in} but latent_dim is "
                             f"{self.latent_dim}")
        g_out = _declared(self.generator, "output_shape")
        d_in = _declared(self.discriminator, "input_shape")
        if isinstance(g_out, tuple) and isinstance(d_in, tuple) and not _compatible(g_out[1:], d_in[1:]):
            raise ValueError(f"GAN '{self.name}': the generator's output shape {g_out} does not match the "
                             f"discriminator's input shape {d_in}")

    def _check_fake(self, fake: Any, real: Tensor) -> None:
        if not isinstance(fake, Tensor):
            raise ValueError(f"GAN '{self.name}': the generator must return one tensor, got {type(fake).__name__}")
        if fake.shape[1:] != real.shape[1:]:
            d_in = _declared(self.discriminator, "input_shape")
            expected = f" (the discriminator's input shape is {d_in})" if d_in is not None else ""
            raise ValueError(f"GAN '{self.name}': the generator's output shape {(None, *fake.shape[1:])} does not "
                             f"match the real data's shape {(None, *real.shape[1:])}{expected}")

    # --- using the generator -----------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The generator's output for latent vectors."""
        return self.generator(inputs, training=training)

    def generate(self, n: int, seed: int | None = None, batch_size: int = 256) -> np.ndarray:
        """n samples from the generator (inference mode) as a NumPy array; a seed makes them repeatable."""
        rng = np.random.default_rng(seed) if seed is not None else None
        z = self.sample_latent(n, rng)
        with grad_mode.no_grad():
            out = [np.asarray(self.generator(z[i:i + batch_size], training=False)) for i in range(0, n, batch_size)]
        return np.concatenate(out)

    # --- config ------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from shendu.layers import serialize

        return {**Layer.get_config(self), "generator": serialize(self.generator),
                "discriminator": serialize(self.discriminator), "latent_dim": self.latent_dim, "seed": self.seed,
                "latent_components": self.latent_components, "latent_spread": self.latent_spread,
                "latent_seed": self.latent_seed}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> GAN:
        from shendu.layers import deserialize

        missing = [key for key in ("generator", "discriminator", "latent_dim") if key not in config]
        if missing:
            raise ValueError(f"GAN.from_config: the config lacks {missing}; a GAN config holds its generator, "
                             f"discriminator and latent_dim (got keys {sorted(config)})")
        config = dict(config)
        generator = deserialize(config.pop("generator"), custom_objects)
        discriminator = deserialize(config.pop("discriminator"), custom_objects)
        return cls(generator, discriminator, **config)


def _full(like: Tensor, value: float) -> np.ndarray:
    return np.full(like.shape, value, dtype=like.dtype)


def _plus_losses(loss: Tensor, model: Layer) -> Tensor:
    """The loss plus the model's regularization and add_loss terms of its last call."""
    for extra in model.losses:
        loss = loss + extra
    return loss


def _declared(model: Layer, attr: str) -> Any:
    """A model's input_shape/output_shape when it declares one, else None (subclassed or not built yet)."""
    try:
        shape = getattr(model, attr)
    except (AttributeError, ValueError, NotImplementedError):
        return None
    return tuple(shape) if isinstance(shape, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in shape) else None


def _compatible(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


# --- measuring a generator -------------------------------------------------------------------------------
def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance of Gaussians fitted to two feature sets (FID when the features are Inception's):
    |mu_a - mu_b|² + tr(S_a + S_b - 2 (S_a S_b)^½), with tr (S_a S_b)^½ = Σ sqrt(eig(S_a^½ S_b S_a^½)).
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance: expected two (n, d) feature arrays with the same d; got {a.shape} "
                         f"and {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("frechet_distance: each feature set needs at least 2 samples")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def class_quality(probabilities: np.ndarray, threshold: float = 0.9) -> dict[str, Any]:
    """How a classifier sees generated samples: the share it labels with confidence > threshold, the
    share of each predicted class, and the number of classes predicted at all (coverage)."""
    p = np.asarray(probabilities)
    if p.ndim != 2:
        raise ValueError(f"class_quality: expected (n, classes) probabilities, got shape {p.shape}")
    shares = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return {"confident": float((p.max(1) > threshold).mean()), "class_shares": shares,
            "coverage": int((shares > 0).sum()), "min_share": float(shares.min())}
