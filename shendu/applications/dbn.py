"""DBN: a deep belief network, RBMs stacked and pre-trained greedily layer by layer (Hinton, Osindero & Teh 2006),
then handed to a Keras `Sequential` of Dense(sigmoid) layers for supervised fine-tuning."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import saving
from shendu.applications.rbm import RBM, read_arrays, write_arrays


class DBN:
    """DBN(layer_sizes), e.g. DBN([784, 256, 128]): one RBM per pair of consecutive sizes. `pretrain(x)` trains
    RBM 1 on x, RBM 2 on RBM 1's hidden probabilities, and so on; `to_model(num_classes)` gives the network to
    fine-tune. The RBM arguments (learning_rate, k, persistent, batch_size) apply to every layer; layer i gets
    seed + i.
    """

    def __init__(self, layer_sizes: Sequence[int], learning_rate: float = 0.1, k: int = 1, persistent: bool = False,
                 batch_size: int = 32, seed: int | None = None, name: str = "dbn") -> None:
        sizes = list(layer_sizes)
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"DBN '{name}': layer_sizes must list at least two positive integers (the input size, "
                             f"then each hidden layer's), got {layer_sizes!r}")
        self.layer_sizes = [int(s) for s in sizes]
        self.learning_rate, self.k, self.persistent, self.batch_size = learning_rate, k, persistent, batch_size
        self.seed, self.name = seed, name
        self.rbms = [RBM(n, learning_rate, k, persistent, batch_size, None if seed is None else seed + i,
                         name=f"{name}_rbm_{i}") for i, n in enumerate(self.layer_sizes[1:])]
        for rbm, n_visible in zip(self.rbms, self.layer_sizes):
            rbm.build(n_visible)

    def pretrain(self, x: Any, epochs: int | Sequence[int] = 10, batch_size: int | None = None,
                 verbose: int = 1) -> DBN:
        """Greedy layer-wise pre-training: each RBM is fit (CD-k) on the hidden probabilities of the one below.
        `epochs` may be one number or one per layer."""
        x = self._check(x, "pretrain")
        per_layer = [epochs] * len(self.rbms) if isinstance(epochs, (int, np.integer)) else list(epochs)
        if len(per_layer) != len(self.rbms):
            raise ValueError(f"DBN '{self.name}': epochs must be one number or {len(self.rbms)} numbers (one per "
                             f"RBM), got {epochs!r}")
        for i, (rbm, n) in enumerate(zip(self.rbms, per_layer)):
            if verbose:
                print(f"RBM {i + 1}/{len(self.rbms)}: {rbm.n_visible} -> {rbm.n_hidden}", flush=True)
            rbm.fit(x, epochs=n, batch_size=batch_size, verbose=verbose)
            x = rbm.transform(x)
        return self

    def transform(self, x: Any) -> np.ndarray:
        """The top layer's hidden probabilities, each layer fed the probabilities of the one below."""
        x = self._check(x, "transform")
        for rbm in self.rbms:
            x = rbm.transform(x)
        return x

    def sample(self, n: int, steps: int = 1000, seed: int | None = None) -> np.ndarray:
        """Generate as a DBN does: Gibbs sampling in the top RBM, then one top-down pass of p(v | h) per layer."""
        h = self.rbms[-1].sample(n, steps=steps, seed=seed)
        for rbm in reversed(self.rbms[:-1]):
            h = rbm.visible_probabilities(h)
        return h

    def to_model(self, num_classes: int | None = None, output_activation: str = "softmax") -> Any:
        """A `Sequential` of Dense(size, sigmoid) layers holding the RBMs' weights and hidden biases, then (if
        num_classes) a freshly initialised Dense(num_classes, output_activation): compile and `fit` to fine-tune."""
        from shendu import layers
        from shendu.models.sequential import Sequential

        stack = [layers.Dense(self.layer_sizes[1], activation="sigmoid", input_shape=(self.layer_sizes[0],))]
        stack += [layers.Dense(n, activation="sigmoid") for n in self.layer_sizes[2:]]
        if num_classes is not None:
            stack.append(layers.Dense(num_classes, activation=output_activation))
        model = Sequential(stack, name=self.name)
        for dense, rbm in zip(stack, self.rbms):
            dense.set_weights(rbm.get_weights()[:2])
        return model

    def get_config(self) -> dict[str, Any]:
        return {"layer_sizes": self.layer_sizes, "learning_rate": self.learning_rate, "k": self.k,
                "persistent": self.persistent, "batch_size": self.batch_size, "seed": self.seed, "name": self.name}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Every RBM's weights ('rbm_<i>/W', '/hidden_bias', '/visible_bias') and the config in one safetensors file."""
        arrays = {f"rbm_{i}/{key}": value for i, rbm in enumerate(self.rbms)
                  for key, value in zip(("W", "hidden_bias", "visible_bias"), rbm.get_weights())}
        write_arrays(path, arrays, {"class_name": "DBN", "config": self.get_config()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DBN:
        """A DBN saved by `save`; every weight is checked by name and shape."""
        arrays, config = read_arrays(path, "DBN")
        dbn = cls(**config["config"])
        for i, rbm in enumerate(dbn.rbms):
            keys = [f"rbm_{i}/{key}" for key in ("W", "hidden_bias", "visible_bias")]
            missing = [key for key in keys if key not in arrays]
            if missing:
                raise saving.ModelFileError(f"{os.fspath(path)}: DBN weights {missing} are missing")
            rbm.set_weights([arrays[key] for key in keys])
            if rbm.n_visible != dbn.layer_sizes[i]:
                raise saving.ModelFileError(f"{os.fspath(path)}: RBM {i} has {rbm.n_visible} visible units but the "
                                            f"config says {dbn.layer_sizes[i]}")
        return dbn

    def _check(self, x: Any, method: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim > 2:
            x = x.reshape(len(x), -1)
        if x.ndim != 2 or x.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"DBN '{self.name}'.{method}: expected rows of {self.layer_sizes[0]} features, got an "
                             f"array of shape {x.shape}")
        return x
