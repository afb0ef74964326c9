"""Preprocessing layers (Keras 3's): Rescaling, Normalization (with `adapt`), Resizing, CenterCrop, and `DataLayer`,
the base of the layers fed raw strings and integers (lookups, CategoryEncoding, Discretization, Hashing).

Unlike the augmentation layers they act in training and inference alike, so a model carries its own input
preparation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from shendu.layers import image_transform
from shendu.layers.augmentation import ImageLayer
from shendu.layers.base import Layer
from shendu.tensor import Tensor

EPSILON = 1e-7  # Keras's backend epsilon: the smallest standard deviation Normalization divides by


class DataLayer(Layer):
    """A layer fed raw data (strings, integers): inputs reach `call` as given (no float cast), and a symbolic
    output carries the dtype in `output_dtype` (int64 ids, strings) instead of the layer's float dtype."""

    output_dtype: Any = None

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        from shendu.layers.symbolic import KerasTensor, call_symbolic

        first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if isinstance(first, KerasTensor):
            out = call_symbolic(self, inputs, args, {k: v for k, v in kwargs.items() if k != "training"})
            out.dtype = np.dtype(self.output_dtype or self.dtype)
            return out
        self.built = True
        kwargs.pop("training", None)
        return self.call(inputs, *args, **kwargs)


def adapt_batches(layer: Layer, data: Any, steps: int | None = None) -> Iterable[np.ndarray]:
    """The batches `adapt(data)` reads, as arrays: one array (or list, or Tensor), or a Dataset or iterable of
    batches; steps limits the number read. (x, y) elements are refused with the way to drop y."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (str, bytes, int, float, list, tuple, np.ndarray, np.generic)):
        yield np.asarray(data)
        return
    if not isinstance(data, Iterable) or isinstance(data, dict):
        raise TypeError(f"{type(layer).__name__} '{layer.name}': adapt expects an array, a list, a Dataset or an "
                        f"iterable of batches, got {type(data).__name__}")
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        if isinstance(batch, tuple):
            raise TypeError(f"{type(layer).__name__} '{layer.name}': adapt expects batches of values, got a tuple; "
                            "for a dataset of (x, y) pairs adapt on `ds.map(lambda x, y: x)`")
        yield np.asarray(batch.data if isinstance(batch, Tensor) else batch)


class Rescaling(Layer):
    """y = x * scale + offset (e.g. scale=1/255 maps [0, 255] pixels to [0, 1]); scale and offset may be
    per-channel lists, broadcast along the last axis."""

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs: Tensor) -> Tensor:
        x = inputs if inputs.dtype == self.dtype else inputs.astype(self.dtype)
        y = x * Tensor(np.asarray(self.scale, dtype=self.dtype))
        if np.any(np.asarray(self.offset) != 0):
            y = y + Tensor(np.asarray(self.offset, dtype=self.dtype))
        return y

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": _json(self.scale), "offset": _json(self.offset)}


class Normalization(Layer):
    """y = (x - mean) / max(sqrt(variance), 1e-7), one mean and variance per index of the kept `axis`
    (an int, a tuple, or None for one scalar); invert=True maps back: y = mean + x * sqrt(variance).

    mean and variance are given, or computed from data by `adapt(data)`; adapted values are the
    non-trainable weights [mean, variance, count] as in Keras.
    """

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis: tuple[int, ...] = () if axis is None else (int(axis),) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization '{self.name}': give both mean and variance, or neither (and call "
                             f"adapt); got mean={mean!r}, variance={variance!r}")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(f"Normalization '{self.name}': mean and variance must have the same shape, got "
                             f"{np.shape(mean)} and {np.shape(variance)}")
        if mean is not None and np.ndim(mean) > len(self.axis):
            raise ValueError(f"Normalization '{self.name}': mean has rank {np.ndim(mean)}, more than the "
                             f"{len(self.axis)} kept axes {self.axis}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        ndim = len(shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"Normalization '{self.name}': axis {self.axis} is out of range for inputs of "
                             f"shape {shape}")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        if any(shape[a] is None for a in self._keep):
            raise ValueError(f"Normalization '{self.name}': the kept axes {self.axis} must have known sizes, "
                             f"got input shape {shape}")
        self._reduce = tuple(a for a in range(ndim) if a not in self._keep)
        self._bshape = tuple(shape[a] if a in self._keep else 1 for a in range(ndim))
        self._build_shape = shape
        stat_shape = tuple(shape[a] for a in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", stat_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", stat_shape, initializer="ones", trainable=False)
            self.count = self.add_weight("count", (), initializer="zeros", dtype="int64", trainable=False)
        else:
            self._mean = self._broadcast(self.input_mean)
            self._variance = self._broadcast(self.input_variance)
        self.built = True

    def _broadcast(self, value: Any) -> np.ndarray:
        """A given mean/variance aligned right-to-left with the kept axes, broadcast to the kept shape."""
        value = np.asarray(value, dtype=self.dtype)
        expanded = [1] * len(self._bshape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(expanded), self._bshape)

    def adapt(self, data: Any) -> None:
        """Set mean and variance to those of `data` over all but the kept axes: an array or Tensor, or an
        iterable of batches (a shendu Dataset, a list or generator of arrays; (x, y) elements use x)."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}': adapt cannot change a mean and variance given to "
                             f"the constructor")
        if isinstance(data, (np.ndarray, Tensor)):
            batches: Iterable[Any] = [np.asarray(data)]
        elif isinstance(data, Iterable) and not isinstance(data, (str, bytes, dict)):
            batches = data
        else:
            raise TypeError(f"Normalization '{self.name}': adapt expects an array, a Tensor or an iterable of "
                            f"batches, got {type(data).__name__}")
        mean = var = None
        total = 0
        for batch in batches:
            arr = np.asarray(batch[0] if isinstance(batch, tuple) else batch, dtype=np.float64)
            if not self.built:
                self.build(arr.shape)
            self._check_adapt_shape(arr.shape)
            reduce = self._reduce if self._keep else None  # axis=None: one scalar over data of any rank
            n = math.prod(arr.shape[a] for a in self._reduce) if self._keep else arr.size
            if n == 0:
                continue
            b_mean = arr.mean(axis=reduce)
            b_var = arr.var(axis=reduce)
            if mean is None:
                mean, var, total = b_mean, b_var, n
                continue
            total += n
            w = n / total
            new_mean = mean * (1 - w) + b_mean * w
            var = (var + (mean - new_mean) ** 2) * (1 - w) + (b_var + (b_mean - new_mean) ** 2) * w
            mean = new_mean
        if mean is None:
            raise ValueError(f"Normalization '{self.name}': adapt received no data")
        self.adapt_mean.assign(np.asarray(mean, dtype=self.adapt_mean.dtype).reshape(self.adapt_mean.shape))
        self.adapt_variance.assign(np.asarray(var, dtype=self.adapt_variance.dtype).reshape(self.adapt_variance.shape))
        self.count.assign(np.asarray(total, dtype=self.count.dtype))

    def _check_adapt_shape(self, shape: tuple[int, ...]) -> None:
        if not self._keep:
            return
        if len(shape) != len(self._bshape) or any(shape[a] != self._bshape[a] for a in self._keep):
            raise ValueError(f"Normalization '{self.name}': was built for inputs of shape {self._build_shape}, "
                             f"but adapt got data of shape {shape}")

    def call(self, inputs: Tensor) -> Tensor:
        x = inputs if inputs.dtype == self.dtype else inputs.astype(self.dtype)
        if self._keep and (x.ndim != len(self._bshape) or any(x.shape[a] != self._bshape[a] for a in self._keep)):
            raise ValueError(f"Normalization '{self.name}': expected inputs of shape {self._build_shape} "
                             f"(built for it), got shape {tuple(x.shape)}")
        mean, variance = self._stats()
        if not self._keep and x.ndim != len(self._bshape):  # axis=None: the scalar fits inputs of any rank
            mean, variance = mean.reshape(()), variance.reshape(())
        std = Tensor(np.maximum(np.sqrt(variance), EPSILON).astype(self.dtype))
        mean = Tensor(np.asarray(mean, dtype=self.dtype))
        return mean + x * std if self.invert else (x - mean) / std

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.built:
            raise AttributeError(f"Normalization '{self.name}': mean and variance exist once the layer is built "
                                 "(call adapt, or call the layer)")
        if self.input_mean is None:
            return self.adapt_mean.data.reshape(self._bshape), self.adapt_variance.data.reshape(self._bshape)
        return self._mean, self._variance

    @property
    def mean(self) -> Tensor:
        """The mean subtracted, shaped to broadcast against the inputs (e.g. (1, features)), as in Keras."""
        return Tensor(np.array(self._stats()[0], dtype=self.dtype))

    @property
    def variance(self) -> Tensor:
        """The variance divided by (through its square root), shaped as `mean`."""
        return Tensor(np.array(self._stats()[1], dtype=self.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": list(self.axis), "invert": self.invert,
                "mean": _json(self.input_mean), "variance": _json(self.input_variance)}


class Resizing(ImageLayer):
    """Resizes images to (height, width) by bilinear or nearest interpolation (half-pixel centres, as Keras).

    crop_to_aspect_ratio first crops the largest centred box of the target's aspect ratio;
    pad_to_aspect_ratio instead pads the image (with fill_value) to that ratio.
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if interpolation not in image_transform.INTERPOLATIONS:
            raise ValueError(f"Resizing '{self.name}': interpolation must be one of "
                             f"{image_transform.INTERPOLATIONS}, got {interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"Resizing '{self.name}': crop_to_aspect_ratio and pad_to_aspect_ratio exclude each other")
        if fill_mode != "constant":
            raise ValueError(f"Resizing '{self.name}': fill_mode must be 'constant', got {fill_mode!r}")
        self.height, self.width = _size(height, "height", self), _size(width, "width", self)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)

    def _acts(self, training: bool | None) -> bool:
        return True

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        return resize(images, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio,
                      self.pad_to_aspect_ratio, self.fill_value)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value}


class CenterCrop(ImageLayer):
    """Cuts the centred (height, width) window out of each image; an image smaller than that is first
    cropped to the target's aspect ratio and resized (Keras's behaviour)."""

    def __init__(self, height: int, width: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height, self.width = _size(height, "height", self), _size(width, "width", self)

    def _acts(self, training: bool | None) -> bool:
        return True

    def transform_images(self, images: Tensor, training: bool) -> Tensor:
        h, w = images.shape[1:3]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return images[:, top:top + self.height, left:left + self.width]
        return resize(images, self.height, self.width, "bilinear", crop_to_aspect_ratio=True)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return _resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}


def resize(images: Tensor, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
           pad_to_aspect_ratio: bool = False, fill_value: float = 0.0) -> Tensor:
    """(batch, h, w, c) images resized to (batch, height, width, c), optionally cropped or padded to the aspect
    ratio first (Keras's box arithmetic)."""
    n, h, w = images.shape[:3]
    box: tuple[float, float, float, float] = (0.0, 0.0, h, w)
    if crop_to_aspect_ratio:
        ch = max(min(h, int(w * height / width)), 1)
        cw = max(min(w, int(h * width / height)), 1)
        box = ((h - ch) // 2, (w - cw) // 2, ch, cw)
    elif pad_to_aspect_ratio:
        ph, pw = max(h, int(w * height / width)), max(w, int(h * width / height))
        box = (-((ph - h) // 2), -((pw - w) // 2), ph, pw)
    if box == (0.0, 0.0, height, width):
        return images
    matrix = image_transform.box_resize_matrix(box, (height, width))
    fill_mode = "constant" if pad_to_aspect_ratio else "nearest"
    return image_transform.transform(images, np.broadcast_to(matrix, (n, 2, 3)), interpolation, fill_mode,
                                     fill_value, out_hw=(height, width))


def _resized_shape(input_shape: Any, height: int, width: int, data_format: str) -> tuple[Any, ...]:
    shape = list(input_shape)
    first = len(shape) - 3 + (1 if data_format == "channels_first" else 0)
    shape[first], shape[first + 1] = height, width
    return tuple(shape)


def _size(value: Any, name: str, layer: Layer) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {name} must be a positive int, got {value!r}")
    return int(value)


def _json(value: Any) -> Any:
    """Numbers and arrays as JSON-ready numbers and lists."""
    if value is None or isinstance(value, (int, float)):
        return value
    return np.asarray(value).tolist()
