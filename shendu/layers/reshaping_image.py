"""Layers that resize or frame images and sequences without weights, channels-last, as Keras:
UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.layers.conv_utils import check_data_format, check_rank, normalize_tuple
from shendu.ops import Pad
from shendu.ops import resize as resize_ops
from shendu.tensor import Tensor


def _pairs(value: Any, n: int, arg: str, layer: Layer) -> tuple[tuple[int, int], ...]:
    """Keras's padding/cropping spellings: an int (all sides), n ints (symmetric per axis), or n pairs."""
    if isinstance(value, (int, np.integer)):
        value = (value,) * n
    value = tuple(value)
    if len(value) == 2 and n == 1 and all(isinstance(v, (int, np.integer)) for v in value):
        value = (value,)  # the 1-D form (before, after)
    if len(value) != n:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {arg} must be an int, {n} ints or {n} pairs of "
                         f"ints, got {value!r}")
    return tuple(normalize_tuple(v, 2, arg, layer, allow_zero=True) for v in value)


class _Spatial(Layer):
    """Shared: rank checks and the data_format argument."""

    rank = 2
    has_data_format = True  # whether Keras's config of this layer lists data_format

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.has_data_format:
            config["data_format"] = self.data_format
        return config

    def _pairs_config(self, pairs: tuple[tuple[int, int], ...]) -> list[Any]:
        """[before, after] for 1-D layers, [[top, bottom], [left, right]] for 2-D, as Keras writes them."""
        return list(pairs[0]) if self.rank == 1 else [list(p) for p in pairs]


class UpSampling2D(_Spatial):
    """Repeat rows size[0] times and columns size[1] times ('nearest'), or interpolate them ('bilinear',
    half-pixel centres as TF2's image.resize)."""

    def __init__(self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.size = normalize_tuple(size, 2, "size", self)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D '{self.name}': interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, 2)
        if self.interpolation == "nearest":
            return resize_ops.UpSampleNearest2D.apply(inputs, size=self.size)
        out_hw = (inputs.shape[1] * self.size[0], inputs.shape[2] * self.size[1])
        return resize_ops.ResizeBilinear.apply(inputs, out_hw=out_hw)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 2)
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


class UpSampling1D(_Spatial):
    """Repeat each step size times along the time axis."""

    rank = 1
    has_data_format = False

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 1, "size", self)[0]

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, 1)
        n, t, c = inputs.shape
        y = resize_ops.UpSampleNearest2D.apply(inputs.reshape(n, 1, t, c), size=(1, self.size))
        return y.reshape(n, t * self.size, c)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 1)
        n, t, c = input_shape
        return (n, None if t is None else t * self.size, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class _ZeroPadding(_Spatial):
    """Add rows/columns (or steps) of zeros: padding[i] = (before, after) for spatial axis i."""

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self.rank, "padding", self)

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        return Pad.apply(inputs, pad_width=((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        spatial = tuple(None if n is None else n + a + b for n, (a, b) in zip(input_shape[1:-1], self.padding))
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self._pairs_config(self.padding)}


class ZeroPadding2D(_ZeroPadding):
    """Zeros around images: padding is an int, (rows, cols) symmetric, or ((top, bottom), (left, right))."""

    rank = 2


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after sequences: padding is an int or (before, after)."""

    rank = 1

    def __init__(self, padding: Any = 1, **kwargs: Any) -> None:
        super().__init__(padding, **kwargs)


class _Cropping(_Spatial):
    """Remove rows/columns (or steps): cropping[i] = (before, after) for spatial axis i."""

    def __init__(self, cropping: Any = 0, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping", self)

    def call(self, inputs: Tensor) -> Tensor:
        self.compute_output_shape(inputs.shape)
        index = tuple(slice(a, n - b) for n, (a, b) in zip(inputs.shape[1:-1], self.cropping))
        return inputs[(slice(None), *index)]

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        spatial = tuple(None if n is None else n - a - b for n, (a, b) in zip(input_shape[1:-1], self.cropping))
        if any(n is not None and n < 1 for n in spatial):
            raise ValueError(f"{type(self).__name__} '{self.name}': cropping {self.cropping} removes everything from "
                             f"inputs of shape {input_shape}")
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": self._pairs_config(self.cropping)}


class Cropping2D(_Cropping):
    """Crop images: cropping is an int, (rows, cols) symmetric, or ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping1D(_Cropping):
    """Crop sequences: cropping is an int or (before, after)."""

    rank = 1
    has_data_format = False

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)
