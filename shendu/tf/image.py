"""tf.image: resizing, flips, crops, colour conversions and the simple augmentations, over shendu.ops.

Images are (height, width, channels) or batches (batch, height, width, channels); the result has the input's
rank. Float images pass their gradient through every geometric and colour operation; the random ones draw from
`shendu.random` (a `seed=` gives the op its own repeatable stream, see `shendu.random`). Where TensorFlow returns
float32 (bilinear resizing, standardization), float64 images stay float64 here, so that gradients can be checked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu import functions
from shendu import random as sd_random
from shendu.creation import as_dtype, convert_to_tensor, shape_tuple
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops.resize import ResizeBilinear
from shendu.tensor import Tensor


class ResizeMethod:
    """The names of tf.image.resize's methods (shendu implements BILINEAR and NEAREST_NEIGHBOR)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


_RGB_WEIGHTS = (0.2989, 0.5870, 0.1140)  # TensorFlow's luma weights


def _images(image: Any, fn: str) -> tuple[Tensor, bool]:
    """image as a batch (N, H, W, C) and whether it came as one."""
    x = convert_to_tensor(image)
    if x.ndim == 3:
        return x.expand_dims(0), False
    if x.ndim == 4:
        return x, True
    raise ValueError(f"{fn}: image must be 3-D (height, width, channels) or 4-D (batch, height, width, channels), "
                     f"got shape {x.shape}")


def _unbatch(y: Tensor, batched: bool) -> Tensor:
    return y if batched else y.squeeze(0)


def _float(x: Tensor) -> Tensor:
    """x itself when float, else cast to float32 (TensorFlow's resize and standardization do the same)."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _size(size: Any, fn: str) -> tuple[int, int]:
    vals = np.asarray(size.data if isinstance(size, Tensor) else size).reshape(-1)
    if vals.size != 2 or vals.dtype.kind not in "iu" or (vals < 1).any():
        raise ValueError(f"{fn}: size must be two positive ints (new_height, new_width), got {size!r}")
    return int(vals[0]), int(vals[1])


# --- resizing ----------------------------------------------------------------------------------------------------
def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """The source pixel of each output pixel in nearest-neighbour resizing with half-pixel centres (TensorFlow 2):
    min(floor((o + 0.5) n_in / n_out), n_in - 1), computed in float32 as TensorFlow does."""
    scale = np.float32(n_in) / np.float32(n_out)
    src = np.floor((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale).astype(np.int64)
    return np.minimum(src, n_in - 1)


def resize(images: Any, size: Any, method: str = ResizeMethod.BILINEAR, preserve_aspect_ratio: bool = False,
           antialias: bool = False, name: str | None = None) -> Tensor:
    """images resized to size (height, width): 'bilinear' (half-pixel centres; float, ints become float32) or
    'nearest' (keeps the dtype); with preserve_aspect_ratio, the largest size of the same aspect ratio inside it."""
    fn = "tf.image.resize"
    x, batched = _images(images, fn)
    oh, ow = _size(size, fn)
    h, w = x.shape[1:3]
    if preserve_aspect_ratio:
        scale = min(np.float32(oh) / np.float32(h), np.float32(ow) / np.float32(w))
        oh, ow = int(np.round(scale * np.float32(h))), int(np.round(scale * np.float32(w)))
    if method == ResizeMethod.NEAREST_NEIGHBOR:
        y = x[:, nearest_indices(h, oh)][:, :, nearest_indices(w, ow)]
    elif method == ResizeMethod.BILINEAR:
        if antialias and (oh < h or ow < w):
            raise NotImplementedError(f"{fn}: antialias=True when shrinking is not supported; resize without it "
                                      "(or blur first, e.g. with tf.nn.avg_pool2d)")
        y = ResizeBilinear.apply(_float(x), out_hw=(oh, ow))
    else:
        raise NotImplementedError(f"{fn}: method {method!r} is not supported; use 'bilinear' or 'nearest'")
    return _unbatch(y, batched)


def resize_with_pad(image: Any, target_height: int, target_width: int, method: str = ResizeMethod.BILINEAR,
                    antialias: bool = False) -> Tensor:
    """image resized to fit (target_height, target_width) with its aspect ratio kept, then padded with zeros
    around it to that size (TensorFlow's sizes: floor of height / ratio, the padding's floor on top and left)."""
    fn = "tf.image.resize_with_pad"
    x, batched = _images(image, fn)
    if target_height < 1 or target_width < 1:
        raise ValueError(f"{fn}: target_height and target_width must be > 0, got {target_height}, {target_width}")
    h, w = (np.float32(n) for n in x.shape[1:3])
    th, tw = np.float32(target_height), np.float32(target_width)
    ratio = max(w / tw, h / th)
    rh, rw = h / ratio, w / ratio
    resized = resize(x, (int(np.floor(rh)), int(np.floor(rw))), method, antialias=antialias)
    top, left = max(0, int(np.floor((th - rh) / 2))), max(0, int(np.floor((tw - rw) / 2)))
    return _unbatch(pad_to_bounding_box(resized, top, left, target_height, target_width), batched)


# --- crops and pads ----------------------------------------------------------------------------------------------
def pad_to_bounding_box(image: Any, offset_height: int, offset_width: int, target_height: int,
                        target_width: int) -> Tensor:
    """image with offset_height rows of zeros on top, offset_width columns on the left, and zeros below and to the
    right up to (target_height, target_width)."""
    fn = "tf.image.pad_to_bounding_box"
    x, batched = _images(image, fn)
    h, w = x.shape[1:3]
    below, right = target_height - offset_height - h, target_width - offset_width - w
    if min(offset_height, offset_width) < 0 or below < 0 or right < 0:
        raise ValueError(f"{fn}: an image of size {(h, w)} at offset {(offset_height, offset_width)} does not fit "
                         f"in {(target_height, target_width)} (offsets must be >= 0)")
    y = functions.pad(x, ((0, 0), (offset_height, below), (offset_width, right), (0, 0)))
    return _unbatch(y, batched)


def crop_to_bounding_box(image: Any, offset_height: int, offset_width: int, target_height: int,
                         target_width: int) -> Tensor:
    """The (target_height, target_width) part of image whose top-left corner is at (offset_height, offset_width)."""
    fn = "tf.image.crop_to_bounding_box"
    x, batched = _images(image, fn)
    h, w = x.shape[1:3]
    if min(offset_height, offset_width) < 0 or min(target_height, target_width) < 1 or \
            offset_height + target_height > h or offset_width + target_width > w:
        raise ValueError(f"{fn}: the box at {(offset_height, offset_width)} of size {(target_height, target_width)} "
                         f"does not fit in an image of size {(h, w)}")
    y = x[:, offset_height:offset_height + target_height, offset_width:offset_width + target_width]
    return _unbatch(y, batched)


def resize_with_crop_or_pad(image: Any, target_height: int, target_width: int) -> Tensor:
    """image cropped about its centre, or padded evenly with zeros, to (target_height, target_width)."""
    fn = "tf.image.resize_with_crop_or_pad"
    x, batched = _images(image, fn)
    if target_height < 1 or target_width < 1:
        raise ValueError(f"{fn}: target_height and target_width must be > 0, got {target_height}, {target_width}")
    h, w = x.shape[1:3]
    dh, dw = target_height - h, target_width - w
    cropped = crop_to_bounding_box(x, max(-dh // 2, 0), max(-dw // 2, 0), min(target_height, h),
                                   min(target_width, w))
    y = pad_to_bounding_box(cropped, max(dh // 2, 0), max(dw // 2, 0), target_height, target_width)
    return _unbatch(y, batched)


def central_crop(image: Any, central_fraction: float) -> Tensor:
    """The central part of image: each side shortened by int((n - n fraction) / 2) pixels at both ends."""
    fn = "tf.image.central_crop"
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"{fn}: central_fraction must be within (0, 1], got {central_fraction}")
    x, batched = _images(image, fn)
    h, w = x.shape[1:3]
    top, left = int((h - h * central_fraction) / 2), int((w - w * central_fraction) / 2)
    return _unbatch(x[:, top:h - top, left:w - left], batched)


def random_crop(value: Any, size: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """A part of shape `size` of value (any rank) at a random offset."""
    x = convert_to_tensor(value)
    dims = shape_tuple(size, "tf.image.random_crop")
    if len(dims) != x.ndim or any(d > n for d, n in zip(dims, x.shape)):
        raise ValueError(f"tf.image.random_crop: size {dims} must have value's rank and fit in its shape {x.shape}")
    rng = sd_random.op_generator("random_crop", seed)
    starts = [int(rng.integers(0, n - d + 1)) for d, n in zip(dims, x.shape)]
    return x[tuple(slice(s, s + d) for s, d in zip(starts, dims))]


# --- flips and rotations -----------------------------------------------------------------------------------------
_FLIP_W = (slice(None), slice(None), slice(None, None, -1))
_FLIP_H = (slice(None), slice(None, None, -1))


def flip_left_right(image: Any) -> Tensor:
    """image mirrored along its width."""
    x, batched = _images(image, "tf.image.flip_left_right")
    return _unbatch(x[_FLIP_W], batched)


def flip_up_down(image: Any) -> Tensor:
    """image mirrored along its height."""
    x, batched = _images(image, "tf.image.flip_up_down")
    return _unbatch(x[_FLIP_H], batched)


def _random_flip(image: Any, index: tuple[slice, ...], seed: int | None, fn: str) -> Tensor:
    """Each image flipped with probability 1/2 (one draw per image of a batch)."""
    x, batched = _images(image, f"tf.image.{fn}")
    flip = sd_random.op_generator(fn, seed).random(x.shape[0]) < 0.5
    return _unbatch(functions.where(flip[:, None, None, None], x[index], x), batched)


def random_flip_left_right(image: Any, seed: int | None = None) -> Tensor:
    """image mirrored along its width with probability 1/2 (each image of a batch on its own)."""
    return _random_flip(image, _FLIP_W, seed, "random_flip_left_right")


def random_flip_up_down(image: Any, seed: int | None = None) -> Tensor:
    """image mirrored along its height with probability 1/2 (each image of a batch on its own)."""
    return _random_flip(image, _FLIP_H, seed, "random_flip_up_down")


def transpose(image: Any, name: str | None = None) -> Tensor:
    """image with height and width swapped."""
    x, batched = _images(image, "tf.image.transpose")
    return _unbatch(x.transpose(0, 2, 1, 3), batched)


def rot90(image: Any, k: int = 1, name: str | None = None) -> Tensor:
    """image rotated by k quarter turns counter-clockwise (np.rot90 on the height and width axes)."""
    x, batched = _images(image, "tf.image.rot90")
    for _ in range(int(k) % 4):
        x = x[_FLIP_W].transpose(0, 2, 1, 3)
    return _unbatch(x, batched)


# --- dtypes and colours ------------------------------------------------------------------------------------------
def convert_image_dtype(image: Any, dtype: Any, saturate: bool = False, name: str | None = None) -> Tensor:
    """image in another dtype, rescaled: integers span [0, max], floats [0, 1) (TensorFlow's rules: int -> float
    x / max; float -> int x (max + 0.5) truncated; int -> int by the ratio of the ranges; float -> float a cast)."""
    fn = "tf.image.convert_image_dtype"
    x, dt = convert_to_tensor(image), as_dtype(dtype)
    src = x.dtype
    if src.kind not in "fiu" or dt.kind not in "fiu":
        raise ValueError(f"{fn}: image and dtype must be integer or float, got {src} -> {dt}")
    if src == dt:
        return x
    if src.kind == "f" and dt.kind == "f":
        return x.astype(dt)
    if src.kind == "f":
        lo, hi = np.iinfo(dt).min, np.iinfo(dt).max
        scaled = x.data * (hi + 0.5)
        return Tensor((np.clip(scaled, lo, hi) if saturate else scaled).astype(dt))
    if dt.kind == "f":
        return x.astype(dt) * (1.0 / np.iinfo(src).max)
    scale_in, scale_out = np.iinfo(src).max, np.iinfo(dt).max
    if scale_in > scale_out:
        return Tensor((x.data // ((scale_in + 1) // (scale_out + 1))).astype(dt))
    data = np.clip(x.data, np.iinfo(dt).min, np.iinfo(dt).max) if saturate else x.data
    return Tensor(data.astype(dt) * dt.type((scale_out + 1) // (scale_in + 1)))


def _factor(value: Any, like: Tensor) -> Any:
    """A scalar argument (a brightness delta, a contrast factor) in like's float dtype: a Tensor (a Variable) stays one,
    so that the result's gradient reaches it; other values become a Python float."""
    return value.astype(like.dtype) if isinstance(value, Tensor) else float(value)


def _through_float(x: Tensor, f: Any) -> Tensor:
    """f applied to x as a float image: integer images go to [0, 1] float32 and back (saturating), as TensorFlow."""
    if x.dtype.kind == "f":
        return f(x)
    return convert_image_dtype(f(convert_image_dtype(x, np.float32)), x.dtype, saturate=True)


def rgb_to_grayscale(images: Any, name: str | None = None) -> Tensor:
    """(..., 3) RGB -> (..., 1) luma 0.2989 R + 0.5870 G + 0.1140 B."""
    x = convert_to_tensor(images)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"tf.image.rgb_to_grayscale: images must end in 3 (RGB) channels, got shape {x.shape}")
    return _through_float(x, lambda f: (f * np.asarray(_RGB_WEIGHTS, dtype=f.dtype)).sum(axis=-1, keepdims=True))


def grayscale_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """(..., 1) grey -> (..., 3), the value repeated in each channel."""
    x = convert_to_tensor(images)
    if x.ndim < 2 or x.shape[-1] != 1:
        raise ValueError(f"tf.image.grayscale_to_rgb: images must end in 1 channel, got shape {x.shape}")
    return functions.concatenate([x, x, x], axis=-1)


def adjust_brightness(image: Any, delta: float) -> Tensor:
    """image + delta (integer images through [0, 1] floats, saturating)."""
    return _through_float(convert_to_tensor(image), lambda f: f + _factor(delta, f))


def random_brightness(image: Any, max_delta: float, seed: int | None = None) -> Tensor:
    """adjust_brightness by one delta drawn from U[-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError(f"tf.image.random_brightness: max_delta must be non-negative, got {max_delta}")
    delta = sd_random.op_generator("random_brightness", seed).uniform(-max_delta, max_delta)
    return adjust_brightness(image, delta)


def adjust_contrast(images: Any, contrast_factor: float) -> Tensor:
    """(x - mean) contrast_factor + mean, the mean of each channel of each image (integer images saturate)."""
    x = convert_to_tensor(images)
    if x.ndim < 3:
        raise ValueError(f"tf.image.adjust_contrast: images must have at least 3 axes, got shape {x.shape}")

    def contrast(f: Tensor) -> Tensor:
        mean = f.mean(axis=(f.ndim - 3, f.ndim - 2), keepdims=True)
        return (f - mean) * _factor(contrast_factor, f) + mean

    return _through_float(x, contrast)


def random_contrast(image: Any, lower: float, upper: float, seed: int | None = None) -> Tensor:
    """adjust_contrast by one factor drawn from U[lower, upper)."""
    if not 0 <= lower < upper:
        raise ValueError(f"tf.image.random_contrast: need 0 <= lower < upper, got lower={lower}, upper={upper}")
    factor = sd_random.op_generator("random_contrast", seed).uniform(lower, upper)
    return adjust_contrast(image, factor)


def per_image_standardization(image: Any) -> Tensor:
    """(x - mean) / max(stddev, 1 / sqrt(N)) per image, over its last three axes (N values)."""
    x = convert_to_tensor(image)
    if x.ndim < 3:
        raise ValueError(f"tf.image.per_image_standardization: image must have at least 3 axes, got shape {x.shape}")
    x = _float(x)
    axes = (x.ndim - 3, x.ndim - 2, x.ndim - 1)
    n = math.prod(x.shape[-3:])
    mean = x.mean(axis=axes, keepdims=True)
    stddev = x.var(axis=axes, keepdims=True).sqrt()
    return (x - mean) / functions.maximum(stddev, 1.0 / math.sqrt(n))


__all__ = [
    "ResizeMethod", "adjust_brightness", "adjust_contrast", "central_crop", "convert_image_dtype",
    "crop_to_bounding_box", "flip_left_right", "flip_up_down", "grayscale_to_rgb", "pad_to_bounding_box",
    "per_image_standardization", "random_brightness", "random_contrast", "random_crop", "random_flip_left_right",
    "random_flip_up_down", "resize", "resize_with_crop_or_pad", "resize_with_pad", "rgb_to_grayscale", "rot90",
    "transpose",
]

dispatch_symbolic(globals(), "image.")  # tf.* on KerasTensors builds a TFOpLambda layer
