"""Convolution layers, channels-last, with Keras's names, defaults and weight layouts:
Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

The 1-D layers run the 2-D ops on (batch, 1, steps, channels) views. A ReLU activation is fused into the
convolution op (one op, no extra pass over the output).
"""

from __future__ import annotations

from typing import Any

from shendu import activations, constraints, initializers, regularizers
from shendu.layers.base import Layer
from shendu.layers.conv_utils import check_data_format, check_rank, normalize_padding, normalize_tuple
from shendu.ops import conv as conv_ops
from shendu.tensor import Tensor


class _ConvBase(Layer):
    """What every convolution shares: geometry arguments, activation, bias and the output-length checks."""

    rank = 2
    paddings: tuple[str, ...] = ("valid", "same")

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 bias_initializer: Any = "zeros", bias_regularizer: Any = None, activity_regularizer: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", self)
        self.strides = normalize_tuple(strides, self.rank, "strides", self)
        self.padding = normalize_padding(padding, self, self.paddings)
        self.data_format = check_data_format(data_format, self)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", self)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._relu = self.activation is activations.relu
        self._activate = None if self._relu or self.activation is activations.linear else self.activation

    # --- geometry ----------------------------------------------------------------------------------
    def _output_lengths(self, lengths: tuple[Any, ...], input_shape: Any) -> tuple[Any, ...]:
        out = tuple(conv_ops.conv_output_length(n, k, s, self.padding, d)
                    for n, k, s, d in zip(lengths, self.kernel_size, self.strides, self.dilation_rate))
        if any(n is not None and n < 1 for n in out):
            k_eff = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the input of shape {tuple(input_shape)} is smaller than the "
                f"kernel {k_eff} (kernel_size {self.kernel_size}, dilation_rate {self.dilation_rate}) with "
                f"padding='{self.padding}'; use larger inputs, a smaller kernel or padding='same'"
            )
        return out

    def _explicit_padding(self, lengths: tuple[int, ...]) -> conv_ops.Padding:
        pads = tuple(conv_ops.explicit_padding(self.padding, n, k, s, d)
                     for n, k, s, d in zip(lengths, self.kernel_size, self.strides, self.dilation_rate))
        return ((0, 0), pads[0]) if self.rank == 1 else pads

    def _check_input(self, inputs: Tensor, channels: int) -> None:
        check_rank(self, inputs.shape, self.rank)
        if inputs.shape[-1] != channels:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the layer was built for inputs with {channels} channels, "
                f"got inputs of shape {inputs.shape}"
            )
        self._output_lengths(inputs.shape[1:-1], inputs.shape)

    def _channels(self, input_shape: Any) -> int:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel axis of the inputs must be known, "
                             f"got shape {input_shape}")
        self._output_lengths(input_shape[1:-1], input_shape)
        return int(input_shape[-1])

    # --- 1-D as 2-D --------------------------------------------------------------------------------
    def _pair(self, values: tuple[int, ...], one: int) -> tuple[int, int]:
        return (one, values[0]) if self.rank == 1 else values

    def _as_image(self, inputs: Tensor) -> Tensor:
        return inputs.reshape(inputs.shape[0], 1, *inputs.shape[1:]) if self.rank == 1 else inputs

    def _from_image(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[0], *y.shape[2:]) if self.rank == 1 else y

    def _finish(self, y: Tensor) -> Tensor:
        if self._activate is not None:
            y = self._activate(y)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(y))
        return y

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }

    def _add_bias(self, units: int) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _operands(self, x: Tensor, kernel: Tensor) -> tuple[Tensor, ...]:
        return (x, kernel) if self.bias is None else (x, kernel, self.bias)


class _Conv(_ConvBase):
    """output = activation(conv(inputs, kernel) + bias); kernel (*kernel_size, channels / groups, filters)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = normalize_tuple(filters, 1, "filters", self)[0]
        self.groups = normalize_tuple(groups, 1, "groups", self)[0]
        if self.filters % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': filters ({self.filters}) must be divisible by "
                             f"groups ({self.groups})")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape: Any) -> None:
        channels = self._channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': the input channels ({channels}) must be "
                             f"divisible by groups ({self.groups}); got input shape {tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        kernel = self.kernel
        self._check_input(inputs, kernel.shape[-2] * self.groups)
        if self.rank == 1:
            kernel = kernel.reshape(1, *kernel.shape)
        x = self._as_image(inputs)
        y = conv_ops.conv2d(*self._operands(x, kernel), strides=self._pair(self.strides, 1),
                            padding=self._explicit_padding(inputs.shape[1:-1]),
                            dilation=self._pair(self.dilation_rate, 1), groups=self.groups, relu=self._relu)
        return self._finish(self._from_image(y))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *self._output_lengths(input_shape[1:-1], input_shape), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels): kernel (kernel_size, channels / groups, filters).

    padding may also be 'causal' (zeros only before the sequence, so output t sees inputs <= t).
    """

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels):
    y[n, p, q, f] = activation(sum_{i,j,c} x[n, p s_h + i d_h, q s_w + j d_w, c] kernel[i, j, c, f] + bias[f]),
    kernel (kh, kw, channels / groups, filters) as Keras, 'same' padding split with the odd pixel after (as TF).
    """

    rank = 2


class Conv2DTranspose(_ConvBase):
    """Transposed convolution (the gradient of Conv2D with respect to its input), used to upsample:
    each input pixel adds x[n, h, w] @ kernel[i, j]^T at (h s_h + i d_h, w s_w + j d_w) of the output.
    Kernel (kh, kw, filters, channels) as Keras; the output size follows Keras (see `output_padding`).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = normalize_tuple(filters, 1, "filters", self)[0]
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, 2, "output_padding", self, allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"Conv2DTranspose '{self.name}': output_padding {self.output_padding} must be "
                                 f"smaller than strides {self.strides}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _output_lengths(self, lengths: tuple[Any, ...], input_shape: Any) -> tuple[Any, ...]:
        pads = self.output_padding or (None, None)
        return tuple(conv_ops.conv_transpose_output_length(n, k, s, self.padding, p, d)
                     for n, k, s, p, d in zip(lengths, self.kernel_size, self.strides, pads, self.dilation_rate))

    def build(self, input_shape: Any) -> None:
        channels = self._channels(input_shape)
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters, channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        kernel = self.kernel
        self._check_input(inputs, kernel.shape[-1])
        pads = self.output_padding or (None, None)
        crop = tuple(conv_ops.conv_transpose_crop(k, s, self.padding, p, d)
                     for k, s, p, d in zip(self.kernel_size, self.strides, pads, self.dilation_rate))
        y = conv_ops.Conv2DTranspose.apply(*self._operands(inputs, kernel),
                                           out_hw=self._output_lengths(inputs.shape[1:3], inputs.shape), crop=crop,
                                           strides=self.strides, dilation=self.dilation_rate, relu=self._relu)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *self._output_lengths(input_shape[1:3], input_shape), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }


class DepthwiseConv2D(_ConvBase):
    """Each input channel convolved with its own depth_multiplier filters:
    y[n, p, q, c m + k] = sum_{i,j} x[n, p s_h + i d_h, q s_w + j d_w, c] depthwise_kernel[i, j, c, k] (+ bias);
    depthwise_kernel (kh, kw, channels, depth_multiplier) as Keras.
    """

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid", depth_multiplier: int = 1,
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = normalize_tuple(depth_multiplier, 1, "depth_multiplier", self)[0]
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape: Any) -> None:
        channels = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self._add_bias(channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        kernel = self.depthwise_kernel
        self._check_input(inputs, kernel.shape[-2])
        y = conv_ops.DepthwiseConv2D.apply(*self._operands(inputs, kernel), strides=self.strides,
                                           padding=self._explicit_padding(inputs.shape[1:3]),
                                           dilation=self.dilation_rate, relu=self._relu)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        channels = None if input_shape[-1] is None else input_shape[-1] * self.depth_multiplier
        return (input_shape[0], *self._output_lengths(input_shape[1:3], input_shape), channels)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        }


class SeparableConv2D(_ConvBase):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution mixing the channels:
    y = activation(pointwise(depthwise(x)) + bias); depthwise_kernel (kh, kw, channels, depth_multiplier),
    pointwise_kernel (1, 1, channels * depth_multiplier, filters) as Keras.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = normalize_tuple(filters, 1, "filters", self)[0]
        self.depth_multiplier = normalize_tuple(depth_multiplier, 1, "depth_multiplier", self)[0]
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Any) -> None:
        channels = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        self._check_input(inputs, self.depthwise_kernel.shape[-2])
        mid = conv_ops.DepthwiseConv2D.apply(inputs, self.depthwise_kernel, strides=self.strides,
                                             padding=self._explicit_padding(inputs.shape[1:3]),
                                             dilation=self.dilation_rate)
        y = conv_ops.conv2d(*self._operands(mid, self.pointwise_kernel), relu=self._relu)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *self._output_lengths(input_shape[1:3], input_shape), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        }


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
