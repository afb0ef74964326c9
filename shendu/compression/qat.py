"""Quantization-aware training, in TFMOT's terms: `quantize_model(model)` (or `quantize_annotate_layer` then
`quantize_apply`) wraps each Dense/Conv1D/Conv2D in `QuantizeWrapper`, which trains through fake quantization:
the kernel rounded per output channel to int8 steps (scale = 127 / max |w|, as `model.quantize("int8")` will
store it) and the layer's output rounded to 8-bit steps of its moving-average range; gradients pass
straight through (`shendu.ops.fake_quant.FakeQuant`). `strip_quantization` gives the plain float model back,
ready for `model.quantize("int8")`, which then reproduces the trained weight rounding exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import layers
from shendu.layers.base import Layer
from shendu.ops.fake_quant import EPSILON, FakeQuant, affine_params
from shendu.saving.object_registration import register_keras_serializable
from shendu.tensor import Tensor

_SUPPORTED = (layers.Dense, layers.Conv1D, layers.Conv2D)


def fake_quant_per_channel(w: Tensor) -> Tensor:
    """w rounded to int8 steps, one scale per last-axis channel: q / s with s = 127 / max |w[..., c]|."""
    scale = 127.0 / (np.max(np.abs(w.data), axis=tuple(range(w.data.ndim - 1))) + EPSILON)
    return FakeQuant.apply(w, scale=scale.astype(w.dtype), zero_point=0.0, qmin=-127, qmax=127)


@register_keras_serializable(package="shendu")
class QuantizeWrapper(Layer):
    """Runs a Dense/Conv layer on its fake-quantized kernel and fake-quantizes its output to int8 (range: the
    first training batch's min and max, then an exponential moving average with `ema_decay`, as TFMOT's
    MovingAverageQuantizer)."""

    def __init__(self, layer: Layer, ema_decay: float = 0.999, **kwargs: Any) -> None:
        if not isinstance(layer, _SUPPORTED):
            raise ValueError(f"QuantizeWrapper: can wrap Dense, Conv1D or Conv2D layers, got layer "
                             f"'{getattr(layer, 'name', layer)}' of type {type(layer).__name__}")
        kwargs.setdefault("name", f"quant_{layer.name}")
        super().__init__(**kwargs)
        self.layer = layer
        self.ema_decay = float(ema_decay)

    def build(self, input_shape: Any) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.output_min = self.add_weight("output_min", (), initializer="zeros", trainable=False)
        self.output_max = self.add_weight("output_max", (), initializer="zeros", trainable=False)
        self.range_seen = self.add_weight("range_seen", (), initializer="zeros", dtype=np.int64, trainable=False)
        self.built = True

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        kernel = self.layer.kernel
        self.layer.__dict__["kernel"] = fake_quant_per_channel(kernel)
        try:
            y = self.layer(inputs)
        finally:
            self.layer.__dict__["kernel"] = kernel
        if training:
            self._observe(y.data)
        if not int(self.range_seen.data):
            return y
        scale, zero_point = affine_params(self.output_min.data, self.output_max.data)
        return FakeQuant.apply(y, scale=scale.astype(y.dtype), zero_point=zero_point, qmin=-128, qmax=127)

    def _observe(self, y: np.ndarray) -> None:
        low, high = float(y.min()), float(y.max())
        if int(self.range_seen.data):
            d = self.ema_decay
            low = d * float(self.output_min.data) + (1 - d) * low
            high = d * float(self.output_max.data) + (1 - d) * high
        self.output_min.assign(np.asarray(low, dtype=self.output_min.dtype))
        self.output_max.assign(np.asarray(high, dtype=self.output_max.dtype))
        self.range_seen.assign(np.asarray(1, dtype=np.int64))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        return {**super().get_config(), "layer": serialize(self.layer), "ema_decay": self.ema_decay}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> QuantizeWrapper:
        from shendu.saving.serialization import deserialize

        config = dict(config)
        return cls(deserialize(config.pop("layer"), custom_objects), **config)


def quantize_annotate_layer(layer: Layer) -> Layer:
    """Mark a Dense/Conv1D/Conv2D layer for `quantize_apply` (the layer itself is returned)."""
    if not isinstance(layer, _SUPPORTED):
        raise ValueError(f"quantize_annotate_layer: supports Dense, Conv1D and Conv2D, got {type(layer).__name__}")
    layer._quantize_annotated = True
    return layer


def quantize_apply(model: Any) -> Any:
    """A copy of a Sequential/functional model sharing its layers, with each annotated layer in a QuantizeWrapper."""
    return _wrap(model, lambda layer: getattr(layer, "_quantize_annotated", False))


def quantize_model(model: Any) -> Any:
    """A copy of a Sequential/functional model sharing its layers, every Dense/Conv1D/Conv2D in a QuantizeWrapper,
    compiled as the model was: train it (fine-tune) to adapt the weights to int8 rounding."""
    return _wrap(model, lambda layer: True)


def _wrap(model: Any, chosen: Any) -> Any:
    from shendu.models.cloning import clone_model
    from shendu.models.model import Model
    from shendu.models.sequential import Sequential

    if not isinstance(model, Model) or (not isinstance(model, Sequential) and model._graph is None):
        raise ValueError(f"quantize_model: expected a Sequential or functional model, got {model!r}")

    def wrap(layer: Layer) -> Layer:
        return QuantizeWrapper(layer) if isinstance(layer, _SUPPORTED) and chosen(layer) else layer

    return clone_model(model, clone_function=wrap)


def strip_quantization(model: Any) -> Any:
    """A plain float copy of a quantization-aware model (fresh layers, the trained float weights)."""
    from shendu.models.cloning import clone_model

    sources: list[tuple[Layer, Layer]] = []

    def fresh(layer: Layer) -> Layer:
        inner = layer.layer if isinstance(layer, QuantizeWrapper) else layer
        copy = type(inner).from_config(inner.get_config())
        sources.append((copy, inner))
        return copy

    plain = clone_model(model, clone_function=fresh)
    for copy, inner in sources:
        if inner.built:
            copy.set_weights(inner.get_weights())
    return plain
