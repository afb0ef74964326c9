"""The core layers: Dense, Activation, Dropout, Lambda."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu import activations, constraints, initializers, regularizers
from shendu import random as sd_random
from shendu.layers.base import Layer
from shendu.layers.symbolic import KerasTensor, call_symbolic, trace_output_shape
from shendu.ops import nn
from shendu.tensor import Tensor
from shendu.utils.tree import flatten


class Dense(Layer):
    """output = activation(inputs @ kernel + bias), applied on the last axis of inputs of any rank >= 2.

    The kernel has shape (input_dim, units) as in Keras, so Keras weights load unchanged; weights are
    [kernel, bias]. A ReLU activation is fused into the product (one op, one pass). A Keras mask passes through.
    """

    supports_masking = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense '{self.name}': units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._linear = nn.LinearReLU if self.activation is activations.relu else nn.Linear
        self._activate = None if self.activation in (activations.relu, activations.linear) else self.activation

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense '{self.name}': expected inputs of rank >= 2 with a known last axis, got shape {input_shape}"
            )
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        kernel = self.kernel
        if inputs.data.shape[-1:] != kernel.data.shape[:1]:
            raise ValueError(
                f"Dense '{self.name}': expected inputs whose last axis is {kernel.shape[0]}, got shape {inputs.shape}"
            )
        if inputs.dtype != kernel.dtype:  # Keras's autocast: integer or float64 data computes in the layer's dtype
            inputs = inputs.astype(kernel.dtype)
        y = self._linear.apply(inputs, kernel) if self.bias is None else self._linear.apply(inputs, kernel, self.bias)
        if self._activate is not None:
            y = self._activate(y)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(y))
        return y

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Activation(Layer):
    """output = activation(inputs), the activation given by name or as a callable."""

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor) -> Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout: while training, each input is zeroed with probability rate and the rest are
    scaled by 1 / (1 - rate); otherwise (training=None or False) the input passes unchanged.

    noise_shape (None entries taken from the input) shares one draw along its axes of size 1; seed makes
    the sequence of masks repeatable, else they come from `shendu.random`.
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Dropout '{self.name}': rate must be a number in [0, 1], got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(d if n is None else n for n, d in zip(self.noise_shape, inputs.shape))
        rng = self._rng if self._rng is not None else sd_random.generator()
        return nn.Dropout.apply(inputs, rate=self.rate, rng=rng, noise_shape=noise_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape, "seed": self.seed}


class Lambda(Layer):
    """output = function(inputs, **arguments): wraps any differentiable function as a layer.

    output_shape (without the batch axis, or a function of the input shape) is inferred when omitted by calling
    the function on zeros of the symbolic inputs' shapes and dtypes (a single input, a list or a dict). To save
    and reload, give a named function registered with `register_keras_serializable` (or pass it in
    custom_objects): a lambda cannot be rebuilt from a config.

    mask, as in Keras 3: None (the layer drops a Keras mask), a function mask(inputs, previous_mask) giving the
    output's mask, or a fixed mask array; a function taking `mask` receives the incoming one.
    """

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, mask: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda '{self.name}': function must be callable, got {function!r}")
        self.function = function
        self.output_shape_arg = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        self.arguments = dict(arguments or {})
        params = _parameters(function)
        self._fn_takes_training = "training" in params
        self._fn_takes_mask = "mask" in params
        self._traces_output = output_shape is None  # on symbolic inputs: run on zeros of their shapes and dtypes

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, dict) and any(isinstance(t, KerasTensor) for t in flatten(inputs)):
            return call_symbolic(self, inputs, args, kwargs)  # a dict of symbolic inputs (Layer looks at lists)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """mask(inputs, previous) when `mask` is a function, else the fixed mask (or None)."""
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        spec = self.output_shape_arg
        if spec is None:
            return trace_output_shape(self, input_shape)
        if callable(spec):
            return spec(input_shape)
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch, *tuple(spec))

    def get_config(self) -> dict[str, Any]:
        from shendu.saving import serialization

        spec = self.output_shape_arg
        if callable(spec):
            spec = serialization.get_registered_name(spec)
        elif spec is not None:
            spec = list(spec)
        config = {**super().get_config(), "function": _function_name(self.function), "output_shape": spec,
                  "arguments": self.arguments}
        if callable(self.mask):
            config["mask"] = serialization.get_registered_name(self.mask)
        elif self.mask is not None:
            config["mask"] = np.asarray(getattr(self.mask, "data", self.mask)).tolist()
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Lambda:
        config = dict(config)
        config["function"] = _resolve_function(config["function"], custom_objects, config.get("name"))
        for key in ("output_shape", "mask"):
            if isinstance(config.get(key), str):
                config[key] = _resolve_function(config[key], custom_objects, config.get("name"))
        if isinstance(config.get("mask"), list):
            config["mask"] = np.asarray(config["mask"], dtype=bool)
        return cls(**config)


def _parameters(function: Callable[..., Any]) -> Any:
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}


def _function_name(function: Callable[..., Any]) -> str:
    if function in activations._NAMES:
        return activations.serialize(function)
    from shendu.saving import serialization

    return serialization.get_registered_name(function)


def _resolve_function(name: str, custom_objects: dict[str, Any] | None, layer: str | None) -> Callable[..., Any]:
    from shendu.saving import serialization

    fn = serialization.get_registered_object(name, custom_objects, activations._BUILTINS)
    if fn is None:
        raise ValueError(
            f"Lambda '{layer}': cannot rebuild its function '{name}' from a config. Define it as a named function "
            f"and register it with @register_keras_serializable(), or pass custom_objects={{'{name}': ...}}"
        )
    return fn
