"""Regularization layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, ActivityRegularization.

The noise layers act only when called with training=True and pass their input through otherwise; their
randomness comes from their own `seed`, else from `shendu.random`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu import random as sd_random
from shendu import regularizers
from shendu.layers.base import Layer
from shendu.ops import nn
from shendu.tensor import Tensor


def _rate(rate: Any, layer: Layer) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': rate must be a number in [0, 1], got {rate!r}")
    return float(rate)


class _Noise(Layer):
    """A layer that draws noise while training, from its own seeded generator or from `shendu.random`."""

    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def _generator(self) -> np.random.Generator:
        return self._rng if self._rng is not None else sd_random.generator()

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


class _SpatialDropout(_Noise):
    """Dropout of whole feature maps: one keep/drop draw per sample and channel, shared over the other axes,
    kept maps scaled by 1 / (1 - rate) (inverted dropout, as Keras's SpatialDropout)."""

    rank = 1

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, self)
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': data_format must be 'channels_last' or 'channels_first', "
                f"got {data_format!r}"
            )

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if inputs.ndim != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of rank {self.rank + 2} "
                f"(batch, {'spatial axes, ' * bool(self.rank)}channels), got shape {tuple(inputs.shape)}"
            )
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        n, c = inputs.shape[0], inputs.shape[1 if self.data_format == "channels_first" else -1]
        ones = (1,) * self.rank
        noise_shape = (n, c, *ones) if self.data_format == "channels_first" else (n, *ones, c)
        return nn.Dropout.apply(inputs, rate=self.rate, rng=self._generator(), noise_shape=noise_shape)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "rate": self.rate}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of (batch, steps, channels) inputs while training."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops entire feature maps of (batch, rows, cols, channels) inputs (channels_last) while training."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops entire feature volumes of (batch, d1, d2, d3, channels) inputs (channels_last) while training."""

    rank = 3


class GaussianNoise(_Noise):
    """y = x + n, n ~ N(0, stddev^2) per element, while training (a regularizer and a data augmentation)."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise '{self.name}': stddev must be a non-negative float, got {stddev!r}")
        self.stddev = float(stddev)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if not training or self.stddev == 0:
            return inputs
        noise = self._generator().standard_normal(inputs.shape, dtype=_float(inputs))
        noise *= self.stddev
        return inputs + Tensor(noise)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_Noise):
    """y = x * n, n ~ N(1, rate / (1 - rate)) per element, while training (multiplicative noise with the
    variance of dropout at this rate, and the same expected value as x)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, self)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if not training or not 0 < self.rate < 1:
            return inputs
        noise = self._generator().standard_normal(inputs.shape, dtype=_float(inputs))
        noise *= math.sqrt(self.rate / (1 - self.rate))
        noise += 1
        return inputs * Tensor(noise)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate}


class ActivityRegularization(Layer):
    """Passes its input through and adds l1 * sum(|x|) + l2 * sum(x^2) to the model's loss (Keras 3: no
    division by the batch size)."""

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._penalty = regularizers.L1L2(l1=l1, l2=l2)
        self.l1, self.l2 = self._penalty.l1, self._penalty.l2

    def call(self, inputs: Tensor) -> Tensor:
        if self.l1 or self.l2:
            self.add_loss(self._penalty(inputs))
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


def _float(x: Tensor) -> np.dtype:
    """The noise dtype: the input's float dtype (float32 or float64; other floats draw in float32)."""
    dt = np.dtype(x.dtype)
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float32)
