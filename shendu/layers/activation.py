"""Activation layers with arguments: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import activations, constraints, initializers, ops, regularizers
from shendu.layers.base import Layer
from shendu.tensor import Tensor


class _Elementwise(Layer):
    """An activation layer: same output shape as input; a Keras mask passes through."""

    supports_masking = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class ReLU(_Elementwise):
    """y = min(x, max_value) for x >= threshold, negative_slope * (x - threshold) below (Keras's ReLU)."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU '{self.name}': max_value must be >= 0 or None, got {max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU '{self.name}': negative_slope must be >= 0, got {negative_slope}")
        if threshold is None or threshold < 0:
            raise ValueError(f"ReLU '{self.name}': threshold must be >= 0, got {threshold}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def call(self, inputs: Tensor) -> Tensor:
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """y = x if x > 0 else negative_slope * x (default 0.3; Keras 2's `alpha=` is accepted too)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU '{self.name}': negative_slope must be >= 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs: Tensor) -> Tensor:
        return ops.LeakyReLU.apply(inputs, alpha=self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_Elementwise):
    """y = x if x > 0 else alpha * x, with alpha learned per element (shared along `shared_axes`)."""

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Sequence[int] | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: tuple[int, ...] | None = None
        else:
            self.shared_axes = (shared_axes,) if isinstance(shared_axes, int) else tuple(shared_axes)

    def build(self, input_shape: Any) -> None:
        shape = list(tuple(input_shape)[1:])
        for axis in self.shared_axes or ():
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU '{self.name}': unknown axes {input_shape} must be listed in shared_axes")
        self.alpha = self.add_weight("alpha", shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        pos = ops.ReLU.apply(inputs)
        return pos - self.alpha * ops.ReLU.apply(-inputs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": None if self.shared_axes is None else list(self.shared_axes),
        }


class ELU(_Elementwise):
    """y = x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """y = e^x / sum(e^x) along axis; where a mask of the inputs' rank is given, masked positions get probability
    0. A Keras mask of lower rank (the time steps of (batch, steps, classes) inputs) is passed on, not applied:
    it says which steps are padding, not which classes to leave out."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Tensor, mask: Any = None) -> Tensor:
        keep = None if mask is None else np.asarray(getattr(mask, "data", mask))
        if keep is not None and keep.ndim == inputs.ndim:
            inputs = inputs + (1.0 - keep.astype(inputs.dtype)) * _large_negative(inputs.dtype)
        return ops.Softmax.apply(inputs, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        axis = list(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        return {**super().get_config(), "axis": axis}


def _large_negative(dtype: Any) -> float:
    return -3e4 if dtype.itemsize <= 2 else -1e9
