"""Activation functions by Keras name: each maps a Tensor to a Tensor and is differentiable.

`get(identifier)` resolves a name, a callable, None (linear) or a serialized dict; `serialize(fn)` gives
the name back. 'softmax' and 'sigmoid' run `ops.Softmax` and `ops.Sigmoid`, which the losses recognise
to fuse the cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shendu import ops
from shendu.ops import nn
from shendu.saving import serialization
from shendu.tensor import Tensor

Activation = Callable[..., Tensor]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def linear(x: Any) -> Tensor:
    """y = x (the identity; what `activation=None` means)."""
    return _t(x)


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """y = max(x, 0); with options, min(x, max_value) above threshold and negative_slope (x - threshold) below."""
    x = _t(x)
    if max_value is None and threshold == 0:
        if negative_slope == 0:
            return ops.ReLU.apply(x)
        return ops.LeakyReLU.apply(x, alpha=negative_slope)
    return nn.GeneralReLU.apply(x, negative_slope=negative_slope, max_value=max_value, threshold=threshold)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """y = x if x > 0 else negative_slope * x."""
    return ops.LeakyReLU.apply(_t(x), alpha=negative_slope)


def relu6(x: Any) -> Tensor:
    """y = min(max(x, 0), 6)."""
    return nn.GeneralReLU.apply(_t(x), max_value=6.0)


def sigmoid(x: Any) -> Tensor:
    """y = 1 / (1 + e^-x)."""
    return ops.Sigmoid.apply(_t(x))


def tanh(x: Any) -> Tensor:
    """y = tanh x."""
    return ops.Tanh.apply(_t(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """y = e^x / sum(e^x) along axis."""
    return ops.Softmax.apply(_t(x), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """y = x - log sum(e^x) along axis."""
    return ops.LogSoftmax.apply(_t(x), axis=axis)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """y = x if x > 0 else alpha (e^x - 1)."""
    return nn.Elu.apply(_t(x), alpha=alpha)


def selu(x: Any) -> Tensor:
    """y = scale * elu(x, alpha) with Klambauer et al.'s alpha = 1.6733, scale = 1.0507 (self-normalizing)."""
    return nn.Elu.apply(_t(x), alpha=SELU_ALPHA, scale=SELU_SCALE)


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; approximate=True uses the tanh form."""
    return nn.Gelu.apply(_t(x), approximate=approximate)


def silu(x: Any) -> Tensor:
    """y = x * sigmoid(x) (also called swish)."""
    return nn.Silu.apply(_t(x))


swish = silu


def softplus(x: Any) -> Tensor:
    """y = log(1 + e^x)."""
    return nn.Softplus.apply(_t(x))


def softsign(x: Any) -> Tensor:
    """y = x / (1 + |x|)."""
    return nn.Softsign.apply(_t(x))


def hard_sigmoid(x: Any) -> Tensor:
    """y = relu6(x + 3) / 6 (Keras 3's formula)."""
    return nn.HardSigmoid.apply(_t(x))


def hard_silu(x: Any) -> Tensor:
    """y = x * hard_sigmoid(x) (also called hard_swish)."""
    return nn.HardSilu.apply(_t(x))


hard_swish = hard_silu


def exponential(x: Any) -> Tensor:
    """y = e^x."""
    return ops.Exp.apply(_t(x))


def mish(x: Any) -> Tensor:
    """y = x tanh(softplus(x))."""
    return nn.Mish.apply(_t(x))


_BUILTINS: dict[str, Activation] = {
    f.__name__: f
    for f in (linear, relu, leaky_relu, relu6, sigmoid, tanh, softmax, log_softmax, elu, selu, gelu, silu, softplus,
              softsign, hard_sigmoid, hard_silu, exponential, mish)
}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}
_NAMES = {f: name for name, f in _BUILTINS.items()}


def get(identifier: Any) -> Activation:
    """The activation for a name ('relu'), a callable (returned as is), None (linear) or a serialized dict."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BUILTINS.get(identifier) or _ALIASES.get(identifier)
        if fn is not None:
            return fn
        fn = serialization.get_registered_object(identifier)
        if fn is None:
            raise ValueError(
                f"Unknown activation '{identifier}'. Built-in ones: {sorted(_BUILTINS) + sorted(_ALIASES)}; "
                "register a custom one with @register_keras_serializable or pass it in custom_objects"
            )
        return fn
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation identifier: {identifier!r}")


def serialize(activation: Activation) -> Any:
    """The Keras config of an activation: its name for functions, a {'class_name', 'config'} dict for layers."""
    name = _NAMES.get(activation)
    if name is not None:
        return name
    if hasattr(activation, "get_config"):
        return serialization.serialize(activation)
    return serialization.get_registered_name(activation)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Activation:
    """Inverse of `serialize`: a name, or a dict (a layer config, or Keras 3's {'class_name': 'function', ...})."""
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        return get(config)
    if isinstance(config, dict) and config.get("class_name") == "function":
        return deserialize(config.get("registered_name") or config["config"], custom_objects)
    return serialization.deserialize(config, custom_objects)

__all__ = [
    "deserialize", "elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
    "linear", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "softmax", "softplus",
    "softsign", "swish", "tanh"
]
