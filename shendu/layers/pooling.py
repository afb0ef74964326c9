"""Pooling layers, channels-last, with Keras's names and defaults: MaxPooling1D/2D, AveragePooling1D/2D
(pool_size, strides defaulting to pool_size, 'valid'/'same' padding) and the global poolings.

The 1-D layers pool (batch, 1, steps, channels) views with the 2-D ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.layers.conv_utils import check_data_format, check_rank, normalize_padding, normalize_tuple
from shendu.ops import conv as conv_ops
from shendu.ops import pool as pool_ops
from shendu.tensor import Tensor


class _Pooling(Layer):
    """Shared arguments and geometry; subclasses name the op and the rank."""

    rank = 2
    op: type = pool_ops.MaxPool2D

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", self)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides", self)
        self.padding = normalize_padding(padding, self)
        self.data_format = check_data_format(data_format, self)

    def _output_lengths(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        out = tuple(conv_ops.conv_output_length(n, p, s, self.padding)
                    for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides))
        if any(n is not None and n < 1 for n in out):
            raise ValueError(f"{type(self).__name__} '{self.name}': the input of shape {input_shape} is smaller than "
                             f"pool_size {self.pool_size}; use larger inputs or padding='same'")
        return out

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        self._output_lengths(input_shape)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        self._output_lengths(inputs.shape)
        pads = tuple(conv_ops.explicit_padding(self.padding, n, p, s)
                     for n, p, s in zip(inputs.shape[1:-1], self.pool_size, self.strides))
        if self.rank == 1:
            x = inputs.reshape(inputs.shape[0], 1, *inputs.shape[1:])
            y = self.op.apply(x, pool_size=(1, *self.pool_size), strides=(1, *self.strides), padding=((0, 0), *pads))
            return y.reshape(y.shape[0], *y.shape[2:])
        return self.op.apply(inputs, pool_size=self.pool_size, strides=self.strides, padding=pads)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *self._output_lengths(input_shape), input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """The maximum of each window of pool_size steps, moved by strides (default pool_size)."""

    rank = 1
    op = pool_ops.MaxPool2D


class MaxPooling2D(_Pooling):
    """y[n, p, q, c] = max of x over the pool_size window at (p s_h, q s_w); strides default to pool_size."""

    rank = 2
    op = pool_ops.MaxPool2D


class AveragePooling1D(_Pooling):
    """The mean of each window of pool_size steps; with 'same' padding only real steps are counted (as TF)."""

    rank = 1
    op = pool_ops.AvgPool2D


class AveragePooling2D(_Pooling):
    """The mean of each pool_size window; with 'same' padding only real pixels are counted (as TF)."""

    rank = 2
    op = pool_ops.AvgPool2D


class _GlobalPooling(Layer):
    """Reduce all spatial axes (1 ... rank) by max or mean; keepdims keeps them with length 1."""

    rank = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, self)
        self.keepdims = bool(keepdims)

    def build(self, input_shape: Any) -> None:
        check_rank(self, tuple(input_shape), self.rank)
        self.built = True

    def _axes(self) -> tuple[int, ...]:
        return tuple(range(1, self.rank + 1))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """y[n, c] = max over steps of x[n, t, c] (the gradient split evenly between ties, as TF's reduce_max)."""

    rank = 1

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        return inputs.max(axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(GlobalMaxPooling1D):
    """y[n, c] = max over height and width of x[n, h, w, c]."""

    rank = 2


class GlobalAveragePooling1D(_GlobalPooling):
    """y[n, c] = mean over steps of x[n, t, c]; with a mask (batch, steps), given or carried by the inputs (from
    Embedding(mask_zero=True), Masking, ...), the mean of the unmasked steps, as Keras 3. The output has no mask."""

    rank = 1

    def call(self, inputs: Tensor, mask: Any = None) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        if mask is None:
            return inputs.mean(axis=self._axes(), keepdims=self.keepdims)
        weights = Tensor(np.asarray(getattr(mask, "data", mask), dtype=inputs.dtype)[..., None])
        total = (inputs * weights).sum(axis=1, keepdims=self.keepdims)
        return total / weights.sum(axis=1, keepdims=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """None: the steps are pooled away."""
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """y[n, c] = mean over height and width of x[n, h, w, c]."""

    rank = 2

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        return inputs.mean(axis=self._axes(), keepdims=self.keepdims)


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
