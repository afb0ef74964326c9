"""Autoencoder pieces: the VAE's `Sampling` layer (reparameterisation, KL term through `add_loss`) and
`StackedAutoencoder`, greedy layer-wise pre-training of a deep network one autoencoder at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import backend
from shendu import random as sd_random
from shendu.layers.base import Layer
from shendu.saving import register_keras_serializable
from shendu.tensor import Tensor


@register_keras_serializable(package="shendu")
class Sampling(Layer):
    """Sampling()([z_mean, z_log_var]) -> z = z_mean + exp(½ z_log_var) · ε, ε ~ N(0, I) (the reparameterisation
    trick: z stays differentiable in both inputs), and adds the KL divergence to the standard normal prior,
    kl_weight · mean over the batch of ½ Σ_j (exp(z_log_var) + z_mean² - 1 - z_log_var), with `add_loss`.

    kl_weight balances the KL term against the reconstruction loss: with a per-pixel mean loss such as
    'binary_crossentropy' on d pixels, kl_weight = 1 / d keeps the ratio of the evidence lower bound.
    """

    def __init__(self, kl_weight: float = 1.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not kl_weight >= 0:
            raise ValueError(f"Sampling '{self.name}': kl_weight must be >= 0, got {kl_weight!r}")
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, inputs: Any, training: bool | None = None) -> Tensor:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Sampling '{self.name}': expected [z_mean, z_log_var], got {type(inputs).__name__}")
        mean, log_var = inputs
        if mean.shape != log_var.shape:
            raise ValueError(f"Sampling '{self.name}': z_mean {mean.shape} and z_log_var {log_var.shape} must have "
                             "the same shape")
        rng = self._rng if self._rng is not None else sd_random.generator()
        eps = Tensor(rng.standard_normal(mean.shape).astype(mean.dtype))
        kl = ((log_var.exp() + mean * mean - 1.0 - log_var).sum(axis=-1) * 0.5).mean()
        self.add_loss(kl * self.kl_weight)
        return mean + (log_var * 0.5).exp() * eps

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kl_weight": self.kl_weight, "seed": self.seed}


class StackedAutoencoder:
    """Greedy layer-wise pre-training with autoencoders (Bengio et al. 2007; denoising with noise_stddev > 0,
    Vincent et al. 2010): for each size n after the first, an autoencoder Dense(n) -> Dense(previous size), both
    with `activation`, learns to reconstruct the codes of the layer below; `to_model(num_classes)` stacks the
    encoders into a `Sequential` for fine-tuning, as `DBN.to_model` does with RBMs.
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str = "sigmoid", noise_stddev: float = 0.0,
                 optimizer: Any = "adam", loss: Any = "mse", name: str = "stacked_autoencoder") -> None:
        sizes = list(layer_sizes)
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"StackedAutoencoder '{name}': layer_sizes must list at least two positive integers, "
                             f"got {layer_sizes!r}")
        self.layer_sizes = [int(s) for s in sizes]
        self.activation, self.noise_stddev, self.optimizer, self.loss = activation, noise_stddev, optimizer, loss
        self.name = name
        self.encoders: list[Any] = []
        self.histories: list[Any] = []

    def pretrain(self, x: Any, epochs: int | Sequence[int] = 10, batch_size: int = 32,
                 verbose: int = 1) -> StackedAutoencoder:
        """Train one autoencoder per layer on the codes of the layers below (each `fit` returns a History,
        kept in `histories`); `epochs` may be one number or one per layer."""
        from shendu import layers, optimizers
        from shendu.models.sequential import Sequential

        x = self._check(x)
        per_layer = [epochs] * (len(self.layer_sizes) - 1) if isinstance(epochs, (int, np.integer)) else list(epochs)
        if len(per_layer) != len(self.layer_sizes) - 1:
            raise ValueError(f"StackedAutoencoder '{self.name}': epochs must be one number or "
                             f"{len(self.layer_sizes) - 1} numbers (one per layer), got {epochs!r}")
        self.encoders, self.histories = [], []
        for i, (n_in, n_out) in enumerate(zip(self.layer_sizes, self.layer_sizes[1:])):
            if verbose:
                print(f"Autoencoder {i + 1}/{len(per_layer)}: {n_in} -> {n_out} -> {n_in}", flush=True)
            encoder = layers.Dense(n_out, activation=self.activation)
            noise = [layers.GaussianNoise(self.noise_stddev)] if self.noise_stddev else []
            autoencoder = Sequential([layers.InputLayer(shape=(n_in,)), *noise, encoder,
                                      layers.Dense(n_in, activation=self.activation)])
            optimizer = self.optimizer if isinstance(self.optimizer, str) else optimizers.deserialize(
                optimizers.serialize(self.optimizer))
            autoencoder.compile(optimizer=optimizer, loss=self.loss)
            self.histories.append(autoencoder.fit(x, x, epochs=per_layer[i], batch_size=batch_size, verbose=verbose))
            self.encoders.append(encoder)
            x = np.asarray(encoder(x, training=False))
        return self

    def transform(self, x: Any) -> np.ndarray:
        """The top encoder's codes."""
        if not self.encoders:
            raise ValueError(f"StackedAutoencoder '{self.name}': call pretrain() before transform()")
        x = self._check(x)
        for encoder in self.encoders:
            x = np.asarray(encoder(x, training=False))
        return x

    def to_model(self, num_classes: int | None = None, output_activation: str = "softmax") -> Any:
        """A `Sequential` of Dense layers holding the encoders' weights, then (if num_classes) a fresh
        Dense(num_classes, output_activation) head, to compile and fine-tune."""
        from shendu import layers
        from shendu.models.sequential import Sequential

        if not self.encoders:
            raise ValueError(f"StackedAutoencoder '{self.name}': call pretrain() before to_model()")
        stack = [layers.Dense(self.layer_sizes[1], activation=self.activation, input_shape=(self.layer_sizes[0],))]
        stack += [layers.Dense(n, activation=self.activation) for n in self.layer_sizes[2:]]
        if num_classes is not None:
            stack.append(layers.Dense(num_classes, activation=output_activation))
        model = Sequential(stack, name=self.name)
        for dense, encoder in zip(stack, self.encoders):
            dense.set_weights(encoder.get_weights())
        return model

    def _check(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=backend.floatx())
        if x.ndim > 2:
            x = x.reshape(len(x), -1)
        if x.ndim != 2 or x.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"StackedAutoencoder '{self.name}': expected rows of {self.layer_sizes[0]} features, "
                             f"got an array of shape {x.shape}")
        return x
