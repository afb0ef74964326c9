"""Layer fusion in Sequential models: a Conv2D (ReLU or no activation) directly followed by a MaxPooling2D runs
as one op (`shendu.ops.conv_pool.Conv2DMaxPool`), which pools each batch chunk's convolution while it is in cache
and applies the ReLU to the pooled values only. The two layers keep their weights, configs and summaries.

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
from shendu.ops.conv_pool import Conv2DMaxPool
from shendu.tensor import Tensor


def fusable(layer: Layer, after: Layer | None) -> bool:
    """Whether `layer` then `after` can run as one Conv2DMaxPool op."""
    return (isinstance(layer, Conv2D) and isinstance(after, MaxPooling2D)
            and type(layer).call is getattr(type(layer), "fused_call", Conv2D.call)
            and type(after).call is MaxPooling2D.call
            and layer.activation in (activations.relu, activations.linear) and layer.activity_regularizer is None)


def call_fused(conv: Conv2D, pool: MaxPooling2D, inputs: Any) -> Tensor | None:
    """pool(conv(inputs)) as one op, or None when the layers must run one by one."""
    if not (isinstance(inputs, Tensor) and conv.built and pool.built) or get_keras_mask(inputs) is not None:
        return None
    x = to_tensor(inputs, conv.dtype)
    if hasattr(conv, "fused_call"):
        x = conv._quantize_inputs(x)
    conv._check_input(x, conv.kernel.shape[-2] * conv.groups)
    out_shape = (x.shape[0], *conv._output_lengths(x.shape[1:-1], x.shape), conv.filters)
    pool._output_lengths(out_shape)
    conv._call_losses, pool._call_losses = [], []
    pool_padding = tuple(conv_ops.explicit_padding(pool.padding, n, p, s)
                         for n, p, s in zip(out_shape[1:3], pool.pool_size, pool.strides))
    return Conv2DMaxPool.apply(
        *conv._operands(x, conv.kernel),
        conv={"strides": conv.strides, "padding": conv._explicit_padding(x.shape[1:-1]),
              "dilation": conv.dilation_rate, "groups": conv.groups},
        pool={"pool_size": pool.pool_size, "strides": pool.strides, "padding": pool_padding},
        relu=conv.activation is activations.relu, input_grad=x.requires_grad,
    )
