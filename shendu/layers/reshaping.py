"""Layers that rearrange values without computing: Flatten, Reshape, Permute, RepeatVector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from shendu import ops
from shendu.layers.base import Layer
from shendu.tensor import Tensor

Shape = tuple[int | None, ...]


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...); channels_first inputs are moved to channels-last first,
    as Keras does, so that the order of features matches."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, self.name)

    def call(self, inputs: Tensor) -> Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.Transpose.apply(inputs, axes=(0, *range(2, inputs.ndim), 1))
        shape = inputs.data.shape
        return ops.Reshape.apply(inputs, shape=(shape[0], math.prod(shape[1:])))

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = tuple(input_shape)
        rest = shape[1:]
        return (shape[0], None if None in rest else math.prod(rest))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of target_shape may be -1 (inferred)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d < -1 or d == 0 for d in self.target_shape):
            raise ValueError(
                f"Reshape '{self.name}': target_shape must hold positive sizes and at most one -1, "
                f"got {self.target_shape}"
            )

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        target = self._resolve(inputs.shape)
        return ops.Reshape.apply(inputs, shape=(inputs.shape[0], *target))

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = tuple(input_shape)
        if None in shape[1:]:
            return (shape[0], *(None if d == -1 else d for d in self.target_shape))
        return (shape[0], *self._resolve(shape))

    def _resolve(self, input_shape: Shape) -> tuple[int, ...]:
        """target_shape with its -1 filled in; a ValueError if the sizes cannot match."""
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known and size % known == 0:
                return tuple(size // known if d == -1 else d for d in self.target_shape)
        elif known == size:
            return self.target_shape
        raise ValueError(
            f"Reshape '{self.name}': cannot reshape an input of shape {tuple(input_shape)} ({size} values per "
            f"sample) into target_shape {self.target_shape}"
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permute the non-batch axes: dims are 1-based, e.g. Permute((2, 1)) swaps the two axes after the batch."""

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Permute '{self.name}': dims must be a permutation of 1..{len(self.dims)}, got {self.dims}"
            )

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(
                f"Permute '{self.name}': dims {self.dims} need inputs of rank {len(self.dims) + 1}, "
                f"got shape {inputs.shape}"
            )
        return ops.Transpose.apply(inputs, axes=(0, *self.dims))

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = tuple(input_shape)
        return (shape[0], *(shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the input repeated n times."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.ndim != 2:
            raise ValueError(f"RepeatVector '{self.name}': expected inputs of rank 2, got shape {inputs.shape}")
        batch, features = inputs.shape
        stacked = ops.Reshape.apply(inputs, shape=(batch, 1, features))
        return ops.Concatenate.apply(*([stacked] * self.n), axis=1)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shape = tuple(input_shape)
        return (shape[0], self.n, shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


def _data_format(value: str | None, name: str) -> str:
    value = (value or "channels_last").lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"Layer '{name}': data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value
