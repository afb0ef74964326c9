"""Keras's ImageDataGenerator: random image augmentation (rotation, shifts, shear, zoom, flips, channel and
brightness shifts) and normalization (rescale, sample- and feature-wise centring and scaling, ZCA whitening), fed to
model.fit through flow(x, y) or flow_from_directory(directory).

One deliberate difference: Keras draws the row shift from width_shift_range and the column shift from
height_shift_range (keras-team/keras#17398); here width_shift_range moves images sideways and height_shift_range up
and down, as both are documented.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu import random as sd_random
from shendu.utils.image_iterators import DirectoryIterator, NumpyArrayIterator
from shendu.utils.image_transform import (
    FILL_MODES,
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
)
from shendu.utils.image_utils import check_data_format


def _pair(name: str, value: Any) -> list[float]:
    """zoom_range as [low, high]: a number z gives [1 - z, 1 + z]."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return [value[0], value[1]]
    raise ValueError(f"ImageDataGenerator: {name} should be a float or a tuple or list of two floats; got {value!r}")


class ImageDataGenerator:
    """Generates batches of augmented, normalized images (keras.preprocessing.image.ImageDataGenerator).

    Per sample: a random affine warp (rotation_range degrees, shifts as fractions of the size (< 1) or pixels,
    shear_range degrees, zoom_range), then channel shift, flips and brightness; then standardize():
    preprocessing_function, rescale, samplewise then featurewise centring and scaling, ZCA whitening.
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False, samplewise_std_normalization: bool = False,
                 zca_whitening: bool = False, zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0, brightness_range: Any = None,
                 shear_range: float = 0.0, zoom_range: Any = 0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: float | None = None,
                 preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
                 data_format: str | None = None, validation_split: float = 0.0, interpolation_order: int = 1,
                 dtype: Any = None) -> None:
        self.featurewise_center = featurewise_center or zca_whitening or featurewise_std_normalization
        self.featurewise_std_normalization = featurewise_std_normalization and not zca_whitening
        self.samplewise_center = samplewise_center or samplewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range, self.channel_shift_range = shear_range, channel_shift_range
        self.zoom_range = _pair("zoom_range", zoom_range)
        if brightness_range is not None and (not isinstance(brightness_range, (list, tuple))
                                             or len(brightness_range) != 2):
            raise ValueError(f"ImageDataGenerator: brightness_range should be a tuple or list of two floats; got "
                             f"{brightness_range!r}")
        self.brightness_range = brightness_range
        if fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: fill_mode must be one of {FILL_MODES}; got {fill_mode!r}")
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.data_format = check_data_format("ImageDataGenerator", data_format)
        last = self.data_format == "channels_last"
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if last else (1, 2, 3)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"ImageDataGenerator: validation_split must be strictly between 0 and 1; got "
                             f"{validation_split}")
        self._validation_split = validation_split
        self.interpolation_order = interpolation_order
        self.dtype = np.dtype(dtype or backend.floatx())
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None

    def flow(self, x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True, sample_weight: Any = None,
             seed: int | None = None, ignore_class_split: bool = False,
             subset: str | None = None) -> NumpyArrayIterator:
        """An iterator of augmented batches (x, y[, sample_weight]) from a rank-4 array, usable in model.fit."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, subset=subset,
                                  ignore_class_split=ignore_class_split, dtype=self.dtype)

    def flow_from_directory(self, directory: str | os.PathLike, target_size: tuple[int, int] = (256, 256),
                            color_mode: str = "rgb", classes: list[str] | None = None,
                            class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
                            seed: int | None = None, follow_links: bool = False, subset: str | None = None,
                            interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> DirectoryIterator:
        """An iterator of augmented batches read from directory/<class name>/<image files> (Pillow needed)."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 data_format=self.data_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """x (a sample or a batch) normalized, in place where it can be: the steps of Keras in Keras's order."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        for flag, stat, step in ((self.featurewise_center, self.mean, "featurewise_center"),
                                 (self.featurewise_std_normalization, self.std, "featurewise_std_normalization"),
                                 (self.zca_whitening, self.zca_whitening_matrix, "zca_whitening")):
            if flag and stat is None:
                warnings.warn(f"This ImageDataGenerator specifies `{step}`, but it has not been fit on any training "
                              "data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
            x = (flat @ self.zca_whitening_matrix).reshape(x.shape)
        return x

    def get_random_transform(self, img_shape: tuple[int, ...], seed: int | None = None, *,
                             rng: np.random.Generator | None = None) -> dict[str, Any]:
        """Random parameters of one transform (theta, tx, ty, shear, zx, zy, flips, channel shift, brightness);
        tx / ty are column / row shifts in pixels. rng (shendu's extension) is the generator to draw from."""
        if rng is None:
            rng = np.random.default_rng(seed) if seed is not None else sd_random.generator()
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = _shift(rng, self.width_shift_range, cols)
        ty = _shift(rng, self.height_shift_range, rows)
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(rng.random() < 0.5) and self.horizontal_flip
        flip_vertical = bool(rng.random() < 0.5) and self.vertical_flip
        channel_shift = (rng.uniform(-self.channel_shift_range, self.channel_shift_range)
                         if self.channel_shift_range else None)
        brightness = rng.uniform(*self.brightness_range) if self.brightness_range is not None else None
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """One 3-D image transformed as the parameters say (a missing key: no change), in Keras's order."""
        p = transform_parameters
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), row_axis=row, col_axis=col, channel_axis=channel,
                                   fill_mode=self.fill_mode, cval=self.cval, order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, col)
        if p.get("flip_vertical", False):
            x = flip_axis(x, row)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return np.ascontiguousarray(x)

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """x (one 3-D image) under a random transform of this generator."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the featurewise mean, std and ZCA matrix from sample images x (rank 4), after rescale and, with
        augment, over `rounds` randomly transformed copies."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.fit: input to .fit() should have rank 4; got an array of shape "
                             f"{x.shape}")
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = np.random.default_rng(seed) if seed is not None else sd_random.generator()
            x = np.stack([self.apply_transform(s, self.get_random_transform(s.shape, rng=rng))
                          for _ in range(rounds) for s in x])
        axes = (0, self.row_axis, self.col_axis)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = x.reshape(len(x), -1)
            sigma = flat.T @ flat / len(x)
            u, s, _ = np.linalg.svd(sigma)
            self.zca_whitening_matrix = (u * (1.0 / np.sqrt(s[None] + self.zca_epsilon))) @ u.T


def _shift(rng: np.random.Generator, shift_range: Any, size: int) -> float:
    """A shift in pixels: from (-r, r) times size for a fraction r < 1, a whole number of pixels below r for an int r,
    a value of the list times a random sign for a list (Keras's three forms)."""
    if not np.any(shift_range):
        return 0
    if isinstance(shift_range, (list, tuple, np.ndarray, int, np.integer)):
        pool = np.arange(shift_range) if np.ndim(shift_range) == 0 else np.asarray(shift_range)
        value = float(rng.choice(pool)) * rng.choice([-1, 1])
    else:
        value = rng.uniform(-shift_range, shift_range)
    return value * size if np.max(shift_range) < 1 else value
