"""The int8 forms of Dense, Conv1D, Conv2D and Embedding that `model.quantize("int8")` turns layers into, as Keras 3
does in place: the float kernel becomes an int8 `kernel` and a per-channel float `kernel_scale` (Keras's abs-max:
scale = 127 / max |w| per output channel; per row for an embedding table), both saved as they are, so the file
holds one byte per kernel weight. The forward pass dequantizes, kernel = q / scale, then runs the float layer;
the dequantized kernel is kept until the int8 weight or its scale is assigned again (`set_weights`, loading a
file), and an int8 Conv2D before a MaxPooling2D takes Sequential's fused Conv+MaxPool path as the float one does.

After `calibrate(...)`, a layer also holds a static `inputs_scale` (127 / the largest |input| seen on the calibration
data) and rounds its inputs to int8 steps: the numbers an all-integer engine computes, (x_q @ q) / (s_x s_w).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import layers
from shendu.layers.base import Layer
from shendu.ops.fake_quant import FakeQuant, abs_max_quantize
from shendu.saving.object_registration import register_keras_serializable
from shendu.tensor import Tensor


class _Int8Kernel:
    """What the int8 layers share: the int8 weight and its scale, the dequantized property, the static input scale."""

    _float_name = "kernel"  # the float weight this class stores as int8
    _channel_axis = -1  # one scale per index of this axis of the weight

    def __init__(self, *args: Any, input_quantization: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.input_quantization = bool(input_quantization)

    def _add_int8(self, shape: tuple[int, ...]) -> None:
        name = self._float_name
        self._q = self.add_weight(name, shape, initializer="zeros", dtype=np.int8, trainable=False)
        self._scale = self.add_weight(f"{name}_scale", (shape[self._channel_axis],), initializer="ones",
                                      trainable=False)
        if self.input_quantization:
            self.inputs_scale = self.add_weight("inputs_scale", (), initializer="ones", trainable=False)

    def _dequantized(self) -> Tensor:
        """q / scale, the scale broadcast along the channel axis (no gradient: the int8 weights are frozen).
        Computed once per value of the int8 weight and scale: `assign` gives a variable a new array, which is
        what the cached result is keyed on."""
        q, scale = self._q.data, self._scale.data
        cached = self.__dict__.get("_dequantized_cache")
        if cached is not None and cached[0] is q and cached[1] is scale and cached[2].dtype == self.dtype:
            return cached[2]
        shape = [1] * q.ndim
        shape[self._channel_axis] = q.shape[self._channel_axis]
        kernel = Tensor((q / scale.reshape(shape)).astype(self.dtype, copy=False))
        kernel.data.flags.writeable = False
        self.__dict__["_dequantized_cache"] = (q, scale, kernel)
        return kernel

    def _quantize_inputs(self, inputs: Tensor) -> Tensor:
        """The inputs rounded to the int8 steps of the calibrated range (straight-through gradient)."""
        if not self.input_quantization:
            return inputs
        return FakeQuant.apply(inputs, scale=self.inputs_scale.data, zero_point=0.0, qmin=-127, qmax=127)

    def quantized_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(int8 weight, per-channel scale)."""
        return self._q.data, self._scale.data

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_quantization": self.input_quantization}


@register_keras_serializable(package="shendu")
class QuantizedDense(_Int8Kernel, layers.Dense):
    """Dense with an int8 kernel (input_dim, units) and one scale per unit."""

    kernel = property(_Int8Kernel._dequantized)

    def build(self, input_shape: Any) -> None:
        self._add_int8((int(tuple(input_shape)[-1]), self.units))
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return layers.Dense.call(self, self._quantize_inputs(inputs))


class _QuantizedConv(_Int8Kernel):
    """Conv1D/Conv2D with an int8 kernel (*kernel_size, channels / groups, filters) and one scale per filter."""

    kernel = property(_Int8Kernel._dequantized)

    def build(self, input_shape: Any) -> None:
        channels = self._channels(input_shape)
        self._add_int8((*self.kernel_size, channels // self.groups, self.filters))
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return super().call(self._quantize_inputs(inputs))


@register_keras_serializable(package="shendu")
class QuantizedConv1D(_QuantizedConv, layers.Conv1D):
    """Conv1D with an int8 kernel."""


@register_keras_serializable(package="shendu")
class QuantizedConv2D(_QuantizedConv, layers.Conv2D):
    """Conv2D with an int8 kernel. Its call is Conv2D's on `_quantize_inputs(x)` with the dequantized kernel, so
    Sequential may run it fused with a following MaxPooling2D (`shendu.models.fusion`), which applies the same
    input rounding first."""

    fused_call = _QuantizedConv.call


@register_keras_serializable(package="shendu")
class QuantizedEmbedding(_Int8Kernel, layers.Embedding):
    """Embedding with an int8 table (input_dim, output_dim) and one scale per token, as Keras 3; a lookup
    dequantizes only the rows it gathers. Its inputs are ids, never quantized."""

    _float_name = "embeddings"
    _channel_axis = 0
    embeddings = property(_Int8Kernel._dequantized)

    def build(self, input_shape: Any = None) -> None:
        self.input_quantization = False
        self._add_int8((self.input_dim, self.output_dim))
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        from shendu.keras_mask import set_keras_mask

        ids = self._ids(inputs)
        out = Tensor((self._q.data[ids] / self._scale.data[ids][..., None]).astype(self.dtype, copy=False))
        if self.mask_zero:
            set_keras_mask(out, ids != 0)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out))
        return out


QUANTIZED: dict[type, type] = {layers.Dense: QuantizedDense, layers.Conv1D: QuantizedConv1D,
                               layers.Conv2D: QuantizedConv2D, layers.Embedding: QuantizedEmbedding}


def quantize_layer(layer: Layer) -> bool:
    """Turn a built Dense/Conv1D/Conv2D/Embedding (exactly that class, as Keras's type check) into its int8 form
    in place; False for any other layer, which stays as it is."""
    cls = QUANTIZED.get(type(layer))
    if cls is None or not layer.built:
        return False
    name = cls._float_name
    var = getattr(layer, name)
    reduce = tuple(i for i in range(var.data.ndim) if i != cls._channel_axis % var.data.ndim)
    q, scale = abs_max_quantize(var.data, axis=reduce)
    layer._trainable_weights = [v for v in layer._trainable_weights if v is not var]
    layer._non_trainable_weights = [v for v in layer._non_trainable_weights if v is not var]
    layer._regularizers = [(v, r) for v, r in layer._regularizers if v is not var]
    del layer.__dict__[name]
    layer.__class__ = cls
    layer.input_quantization = False
    layer._add_int8(tuple(var.shape))
    layer._q.assign(q)
    layer._scale.assign(scale.reshape(-1))
    return True
