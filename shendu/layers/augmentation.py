"""Image augmentation layers (Keras 3's): RandomFlip, RandomTranslation, RandomRotation, RandomZoom, RandomContrast.

They change the images only when called with training=True (as `fit` does) and return them unchanged, cast to
the layer's float dtype, otherwise. Each image of a batch draws its own transform, from the layer's `seed` or
else from `shendu.random`, and the whole batch is transformed in one vectorized pass. Inputs are
(batch, height, width, channels), or one unbatched image; data_format='channels_first' is accepted too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import functions
from shendu import random as sd_random
from shendu.layers import image_transform
from shendu.layers.base import Layer
from shendu.ops import Transpose
from shendu.tensor import Tensor


def factor_range(factor: Any, name: str, layer: Layer,
                 bounds: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float]:
    """A Keras factor as (lower, upper): a number f means (-|f|, |f|), a pair is sorted; both within bounds."""
    if isinstance(factor, (list, tuple)) and len(factor) == 2 and all(_is_number(f) for f in factor):
        lower, upper = sorted(float(f) for f in factor)
    elif _is_number(factor):
        lower, upper = -abs(float(factor)), abs(float(factor))
    else:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {name} must be a number or a pair of numbers, "
                         f"got {factor!r}")
    if lower < bounds[0] or upper > bounds[1]:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {name} must lie in [{bounds[0]}, {bounds[1]}], "
                         f"got {factor!r}")
    return lower, upper


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


class ImageLayer(Layer):
    """Base of the image layers: casts to the float dtype, handles unbatched and channels_first inputs, and
    calls `transform_images(images, training)` on a (batch, height, width, channels) Tensor."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__} '{self.name}': data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if inputs.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__} '{self.name}': expected images of rank 4 (batch, height, width, "
                             f"channels) or 3 (one image), got shape {tuple(inputs.shape)}")
        if inputs.dtype != self.dtype:
            inputs = inputs.astype(self.dtype)
        if not self._acts(training):
            return inputs
        x = inputs if inputs.ndim == 4 else inputs.expand_dims(0)
        if self.data_format == "channels_first":
            x = Transpose.apply(x, axes=(0, 2, 3, 1))
        y = self.transform_images(x, bool(training))
        if self.data_format == "channels_first":
            y = Transpose.apply(y, axes=(0, 3, 1, 2))
        return y if inputs.ndim == 4 else y.squeeze(0)

    def _acts(self, training: bool | None) -> bool:
        """Whether this call transforms the images: augmentation only while training."""
        return bool(training)

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class RandomLayer(ImageLayer):
    """An image layer that draws random numbers: from its own generator when given a seed."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def generator(self) -> np.random.Generator:
        return self._rng if self._rng is not None else sd_random.generator()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(RandomLayer):
    """Flips each image left-right ('horizontal'), upside down ('vertical') or both, each with probability 1/2."""

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip '{self.name}': mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        rng, n = self.generator(), images.shape[0]
        if self.mode != "vertical":
            flip = (rng.random(n) < 0.5)[:, None, None, None]
            images = functions.where(flip, images[:, :, ::-1], images)
        if self.mode != "horizontal":
            flip = (rng.random(n) < 0.5)[:, None, None, None]
            images = functions.where(flip, images[:, ::-1], images)
        return images

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


class _AffineLayer(RandomLayer):
    """A random geometric transform per image, sampled with `interpolation` and `fill_mode` (Keras's)."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in image_transform.FILL_MODES:
            raise ValueError(f"{type(self).__name__} '{self.name}': fill_mode must be one of "
                             f"{image_transform.FILL_MODES}, got {fill_mode!r}")
        if interpolation not in image_transform.INTERPOLATIONS:
            raise ValueError(f"{type(self).__name__} '{self.name}': interpolation must be one of "
                             f"{image_transform.INTERPOLATIONS}, got {interpolation!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        n, h, w = images.shape[:3]
        return image_transform.transform(images, self.matrices(n, h, w), self.interpolation, self.fill_mode,
                                         self.fill_value)

    def matrices(self, n: int, height: int, width: int) -> np.ndarray:
        """One (2, 3) inverse map per image."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
    """Turns each image about its centre by an angle drawn from [lower, upper] * 2 pi, factor=(lower, upper)
    (a number f means (-f, f)); positive angles turn counter-clockwise."""

    def __init__(self, factor: float | Sequence[float], fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value, **kwargs)
        self.factor = factor
        self._range = factor_range(factor, "factor", self)

    def matrices(self, n: int, height: int, width: int) -> np.ndarray:
        angles = self.generator().uniform(self._range[0], self._range[1], n) * (2 * math.pi)
        return image_transform.rotation_matrices(angles, height, width)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": _plain(self.factor)}


class RandomTranslation(_AffineLayer):
    """Shifts each image by fractions of its height and width drawn from height_factor and width_factor
    (a number f means (-f, f)); positive values shift down and right."""

    def __init__(self, height_factor: float | Sequence[float], width_factor: float | Sequence[float],
                 fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = factor_range(height_factor, "height_factor", self)
        self._w = factor_range(width_factor, "width_factor", self)

    def matrices(self, n: int, height: int, width: int) -> np.ndarray:
        rng = self.generator()
        dy = rng.uniform(self._h[0], self._h[1], n) * height
        dx = rng.uniform(self._w[0], self._w[1], n) * width
        return image_transform.translation_matrices(dx, dy)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}


class RandomZoom(_AffineLayer):
    """Zooms each image about its centre: the sampled region is (1 + f) times the image, f drawn from
    height_factor (and width_factor; None keeps the aspect ratio). Positive f zooms out, negative zooms in."""

    def __init__(self, height_factor: float | Sequence[float], width_factor: float | Sequence[float] | None = None,
                 fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = factor_range(height_factor, "height_factor", self)
        self._w = None if width_factor is None else factor_range(width_factor, "width_factor", self)

    def matrices(self, n: int, height: int, width: int) -> np.ndarray:
        rng = self.generator()
        zy = 1 + rng.uniform(self._h[0], self._h[1], n)
        zx = zy if self._w is None else 1 + rng.uniform(self._w[0], self._w[1], n)
        return image_transform.zoom_matrices(zx, zy, height, width)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}


class RandomContrast(RandomLayer):
    """y = clip((x - mean) * c + mean, *value_range), mean per image and channel, c drawn from
    [1 - lower, 1 + upper] per image; factor=(lower, upper) in [0, 1] (a number f means (f, f))."""

    def __init__(self, factor: float | Sequence[float], value_range: Sequence[float] = (0, 255),
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        pair = tuple(factor) if isinstance(factor, (list, tuple)) else (factor, factor)
        if len(pair) != 2 or not all(_is_number(f) and 0 <= f <= 1 for f in pair):
            raise ValueError(f"RandomContrast '{self.name}': factor must be a number or a pair of numbers in "
                             f"[0, 1], got {factor!r}")
        self._range = (1 - float(pair[0]), 1 + float(pair[1]))
        if len(value_range) != 2 or value_range[0] >= value_range[1]:
            raise ValueError(f"RandomContrast '{self.name}': value_range must be (low, high) with low < high, "
                             f"got {value_range!r}")
        self.value_range = tuple(value_range)

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        c = self.generator().uniform(self._range[0], self._range[1], (images.shape[0], 1, 1, 1))
        mean = images.mean(axis=(1, 2), keepdims=True)
        y = (images - mean) * Tensor(c.astype(images.dtype)) + mean
        return y.clip(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": _plain(self.factor), "value_range": list(self.value_range)}


def _plain(factor: Any) -> Any:
    """A factor as JSON: tuples become lists."""
    return list(factor) if isinstance(factor, (list, tuple)) else factor
