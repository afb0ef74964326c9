"""Keras's image_dataset_from_directory: image files (decoded by Pillow, the `images` extra) as float32 batches.

Images are decoded to color_mode's channels and resized to image_size: 'bilinear' and 'nearest' by shendu's own
resize (half-pixel centres, the values of tf.image.resize), 'bicubic', 'area' and 'lanczos3' by Pillow's filters
(which also antialias when shrinking, unlike tf.image.resize).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu.data import Dataset
from shendu.layers.preprocessing import resize
from shendu.tensor import Tensor
from shendu.utils.dataset_from_directory import from_directory

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
OWN_RESIZE = ("bilinear", "nearest")
PILLOW_FILTERS = {"bicubic": "BICUBIC", "area": "BOX", "lanczos3": "LANCZOS"}


def pillow(where: str) -> Any:
    """PIL.Image, or an ImportError saying how to install it."""
    try:
        return importlib.import_module("PIL.Image")
    except ImportError:
        raise ImportError(f"{where} needs Pillow to read images: pip install shendu[images]") from None


def _crop_box(h: int, w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Keras's smart_resize crop: the largest centred box of the target's aspect ratio (top, left, height, width)."""
    ch = max(min(h, int(w * height / width)), 1)
    cw = max(min(w, int(h * width / height)), 1)
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def image_loader(image: Any, mode: str, size: tuple[int, int], interpolation: str,
                 crop_to_aspect_ratio: bool) -> Callable[[Any], np.ndarray]:
    """A function reading one image file as a float32 (height, width, channels) array of 0-255 values."""
    height, width = size

    def load(path: Any) -> np.ndarray:
        with image.open(path) as img:
            img = img.convert(mode)
            if interpolation in PILLOW_FILTERS:
                if crop_to_aspect_ratio:
                    top, left, ch, cw = _crop_box(img.height, img.width, height, width)
                    img = img.crop((left, top, left + cw, top + ch))
                img = img.resize((width, height), getattr(image.Resampling, PILLOW_FILTERS[interpolation]))
            pixels = np.asarray(img, dtype=np.float32)
        pixels = pixels.reshape(*pixels.shape[:2], -1)
        if interpolation in PILLOW_FILTERS:
            return pixels
        out = resize(Tensor(pixels[None]), height, width, interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio)
        return np.asarray(out)[0]

    return load


def image_dataset_from_directory(directory: Any, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: list[str] | None = None, color_mode: str = "rgb",
                                 batch_size: int | None = 32, image_size: tuple[int, int] = (256, 256),
                                 shuffle: bool = True, seed: int | None = None,
                                 validation_split: float | None = None, subset: str | None = None,
                                 interpolation: str = "bilinear", follow_links: bool = False,
                                 crop_to_aspect_ratio: bool = False, verbose: bool = True) -> Dataset | list[Dataset]:
    """(images, labels) batches from `directory/<class>/*.{png,jpg,jpeg,bmp,gif}`: images float32 of shape
    (batch, *image_size, channels) with values 0-255, labels as label_mode says. subset='both' gives
    [training, validation]."""
    where = "image_dataset_from_directory"
    if color_mode not in COLOR_MODES:
        raise ValueError(f"{where}: color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in (*OWN_RESIZE, *PILLOW_FILTERS):
        raise ValueError(f"{where}: interpolation must be one of {[*OWN_RESIZE, *PILLOW_FILTERS]}, got "
                         f"{interpolation!r} (lanczos5, gaussian and mitchellcubic are not supported)")
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(d, (int, np.integer)) and d > 0 for d in size):
        raise ValueError(f"{where}: image_size must be (height, width) of positive integers, got {image_size!r}")
    load = image_loader(pillow(where), COLOR_MODES[color_mode], (int(size[0]), int(size[1])), interpolation,
                        crop_to_aspect_ratio)
    return from_directory(where, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                          validation_split, subset, follow_links, verbose, FORMATS, load, "images")
