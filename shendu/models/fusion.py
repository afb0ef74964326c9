"""Layer fusion in Sequential models: a Conv2D (ReLU or no activation) directly followed by a MaxPooling2D runs
as one op (`shendu.ops.conv_pool.Conv2DMaxPool`), which pools each batch chunk's convolution while it is in cache
and applies the ReLU to the pooled values only; two such pairs in a row (the tutorial CNN's) run as one op too
(`ConvPoolChain`), each batch chunk through both on one thread. The layers keep their weights, configs and
summaries.

The fused call checks the input as the two layers would and is taken only when nothing the layers' own calls do
is skipped: an eager tensor (not a symbolic one), no Keras mask, no activity regularizer, the stock `call`s. A
Conv2D subclass whose call is Conv2D's on its inputs passed through `_quantize_inputs` names that call `fused_call`
(the int8 `QuantizedConv2D`); the fused op then rounds the inputs the same way first.
"""

from __future__ import annotations

from typing import Any

from shendu import activations
from shendu.keras_mask import get_keras_mask
from shendu.layers.base import Layer, to_tensor
from shendu.layers.convolutional import Conv2D
from shendu.layers.pooling import MaxPooling2D
from shendu.ops import conv as conv_ops
from shendu.ops.conv_pool import Conv2DMaxPool, ConvPoolChain
from shendu.tensor import Tensor


def fusable(layer: Layer, after: Layer | None) -> bool:
    """Whether `layer` then `after` can run as one Conv2DMaxPool op."""
    return (isinstance(layer, Conv2D) and isinstance(after, MaxPooling2D)
            and type(layer).call is getattr(type(layer), "fused_call", Conv2D.call)
            and type(after).call is MaxPooling2D.call
            and layer.activation in (activations.relu, activations.linear) and layer.activity_regularizer is None)


def fused_with(layers: list[Layer], i: int) -> tuple[Layer, ...] | None:
    """The layers after layers[i] that run in one op with it: its pool, or its pool and the next pair (a chain),
    or None."""
    after = [*layers[i + 1:i + 4], None, None, None]
    if not fusable(layers[i], after[0]):
        return None
    return tuple(after[:3]) if fusable(after[1], after[2]) else (after[0],)


def call_fused(conv: Conv2D, following: tuple[Layer, ...], inputs: Any) -> tuple[Tensor, int] | None:
    """The output of conv and the `following` layers it was planned with (its MaxPooling2D, or that and a second
    Conv2D + MaxPooling2D pair) as one op, and how many of the following layers it covered; None when the layers
    must run one by one."""
    if not (isinstance(inputs, Tensor) and conv.built and all(layer.built for layer in following)) or \
            get_keras_mask(inputs) is not None:
        return None
    x = to_tensor(inputs, conv.dtype)
    if hasattr(conv, "fused_call"):
        x = conv._quantize_inputs(x)
    first, shape = pair_arguments(conv, following[0], x.shape, x.requires_grad)
    if len(following) == 3 and not hasattr(following[1], "fused_call"):
        second, _ = pair_arguments(following[1], following[2], shape, True)
        weights = (*conv._operands(x, conv.kernel)[1:], *following[1]._operands(x, following[1].kernel)[1:])
        y = ConvPoolChain.apply(x, *weights, first=first, second=second,
                                biases=(conv.bias is not None, following[1].bias is not None))
        return y, 3
    return Conv2DMaxPool.apply(*conv._operands(x, conv.kernel), **first), 1


def pair_arguments(conv: Conv2D, pool: MaxPooling2D, shape: tuple[int, ...],
                   input_grad: bool) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Conv2DMaxPool's arguments for this pair on inputs of `shape` (checked as the layers' calls would check
    them), and the shape of its output."""
    conv._check_input(_Shape(shape), conv.kernel.shape[-2] * conv.groups)
    out_shape = (shape[0], *conv._output_lengths(shape[1:-1], shape), conv.filters)
    pooled = (shape[0], *pool._output_lengths(out_shape), conv.filters)
    conv._call_losses, pool._call_losses = [], []
    pool_padding = tuple(conv_ops.explicit_padding(pool.padding, n, p, s)
                         for n, p, s in zip(out_shape[1:3], pool.pool_size, pool.strides))
    args = {"conv": {"strides": conv.strides, "padding": conv._explicit_padding(shape[1:-1]),
                     "dilation": conv.dilation_rate, "groups": conv.groups},
            "pool": {"pool_size": pool.pool_size, "strides": pool.strides, "padding": pool_padding},
            "relu": conv.activation is activations.relu, "input_grad": input_grad}
    return args, pooled


class _Shape:
    """What `_check_input` reads of an input: its shape."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
