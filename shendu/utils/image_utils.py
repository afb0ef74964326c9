"""Keras's image file helpers: load_img, img_to_array, array_to_img, save_img (Pillow, the `images` extra)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from shendu import backend
from shendu.utils.image_dataset import pillow

INTERPOLATIONS = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "hamming": "HAMMING",
                  "box": "BOX", "lanczos": "LANCZOS"}
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def check_data_format(where: str, data_format: str | None) -> str:
    """data_format, 'channels_last' when None; ValueError for anything else than the two Keras spellings."""
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{where}: data_format must be 'channels_last' or 'channels_first'; got {data_format!r}")
    return data_format


def load_img(path: str | os.PathLike, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """A PIL image read from path in color_mode ('grayscale', 'rgb', 'rgba'), resized to target_size (height, width)
    with Pillow's interpolation filter; keep_aspect_ratio crops the centre to the target's aspect ratio first."""
    image = pillow("load_img")
    if color_mode not in COLOR_MODES:
        raise ValueError(f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba'; got {color_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"load_img: interpolation must be one of {sorted(INTERPOLATIONS)}; got {interpolation!r}")
    with open(path, "rb") as f:
        img = image.open(f)
        img.load()
    keep_depth = color_mode == "grayscale" and img.mode in ("I;16", "I")  # 16/32-bit grayscale stays as it is
    if img.mode != COLOR_MODES[color_mode] and not keep_depth:
        img = img.convert(COLOR_MODES[color_mode])
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            if keep_aspect_ratio:
                crop_w = min(img.width, round(img.height * width / height))
                crop_h = min(img.height, round(img.width * height / width))
                left, top = (img.width - crop_w) // 2, (img.height - crop_h) // 2
                img = img.crop((left, top, left + crop_w, top + crop_h))
            img = img.resize((width, height), getattr(image.Resampling, INTERPOLATIONS[interpolation]))
    return img


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A 3-D array (height, width, channels), or channels first, of the image's pixel values (floatx by default)."""
    data_format = check_data_format("img_to_array", data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected (height, width[, channels])")
    return np.ascontiguousarray(x.transpose(2, 0, 1)) if data_format == "channels_first" else x


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None) -> Any:
    """A PIL image of a 3-D array with 1, 3 or 4 channels; scale maps its min..max to 0..255 first (as Keras)."""
    image = pillow("array_to_img")
    data_format = check_data_format("array_to_img", data_format)
    x = np.array(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (single image); got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype(np.uint8), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype(np.uint8), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype(np.int32), "I")
        return image.fromarray(x[:, :, 0].astype(np.uint8), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels}; expected 1, 3 or 4")


def save_img(path: str | os.PathLike, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Write an image array to path (format from file_format or the extension); RGBA is made RGB for JPEG."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    fmt = (file_format or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    if img.mode == "RGBA" and fmt in ("jpg", "jpeg"):
        warnings.warn("save_img: JPEG does not support an alpha channel; the image is saved as RGB", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
