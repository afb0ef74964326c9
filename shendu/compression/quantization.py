"""Post-training int8 quantization: `quantize(model, "int8")` (what `model.quantize("int8")` calls) turns each
Dense, Conv1D, Conv2D and Embedding into its int8 form in place; `calibrate(model, x)` then fixes a static int8
range for each layer's inputs from sample data, for full int8 inference."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.compression.quantized_layers import QuantizedEmbedding, _Int8Kernel, quantize_layer
from shendu.layers.base import Layer

MODES = ("int8",)


def _layers(model: Any) -> list[Layer]:
    """Every layer inside the model, depth first, each once (a PruneLowMagnitude's inner layer too)."""
    out, stack, seen = [], list(getattr(model, "_layers", [])), set()
    while stack:
        layer = stack.pop(0)
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
            stack[:0] = getattr(layer, "_layers", [])
    return out


def quantize(model: Any, mode: str = "int8", calibration_data: Any = None, batch_size: int = 128) -> list[str]:
    """Quantize the model's Dense/Conv1D/Conv2D/Embedding kernels to int8 with per-channel abs-max scales, in place
    (Keras 3's `model.quantize("int8")`); with `calibration_data`, also `calibrate` the inputs' ranges.
    Returns the names of the layers quantized. The model must be built; its other layers are left as they are."""
    if mode not in MODES:
        raise ValueError(f"quantize: mode must be one of {MODES}, got {mode!r}")
    if not getattr(model, "built", False):
        raise ValueError(f"quantize: model '{model.name}' has no weights yet; build or train it before quantizing")
    done = [layer.name for layer in _layers(model) if quantize_layer(layer)]
    _replan(model)
    if not done and not any(isinstance(layer, _Int8Kernel) for layer in _layers(model)):
        raise ValueError(f"quantize: model '{model.name}' has no Dense, Conv1D, Conv2D or Embedding layer to "
                         "quantize")
    if calibration_data is not None:
        calibrate(model, calibration_data, batch_size)
    return done


def _replan(model: Any) -> None:
    """Make each Sequential choose its fused paths again: the layers changed class (an int8 Conv2D fuses through
    its `fused_call`)."""
    from shendu.models.sequential import Sequential

    for layer in [model, *_layers(model)]:
        if isinstance(layer, Sequential) and layer.built:
            layer._refresh()


def calibrate(model: Any, x: Any, batch_size: int = 128) -> dict[str, float]:
    """Run the model on sample inputs, record the largest |input| of each int8 Dense/Conv layer, and from then on
    round its inputs to int8 steps of that range (a static `inputs_scale` = 127 / max |x|, saved with the model).
    Returns each layer's observed range."""
    targets = [layer for layer in _layers(model) if isinstance(layer, _Int8Kernel)
               and not isinstance(layer, QuantizedEmbedding)]
    if not targets:
        raise ValueError(f"calibrate: model '{model.name}' has no int8 Dense/Conv layer; call "
                         "model.quantize('int8') first")
    ranges = {id(layer): 0.0 for layer in targets}
    for layer in targets:
        layer.input_quantization = False

        def observe(inputs: Any, _layer: Any = layer) -> Any:
            ranges[id(_layer)] = max(ranges[id(_layer)], float(np.max(np.abs(inputs.data))) if inputs.size else 0.0)
            return inputs

        layer.__dict__["_quantize_inputs"] = observe  # what both the layer's call and the fused Conv+Pool run
    try:
        data = np.asarray(x)
        with grad_mode.no_grad():
            for start in range(0, len(data), batch_size):
                model(data[start:start + batch_size], training=False)
    finally:
        for layer in targets:
            del layer.__dict__["_quantize_inputs"]
    for layer in targets:
        if "inputs_scale" not in [w.name.rsplit("/", 1)[-1] for w in layer.weights]:
            layer.inputs_scale = layer.add_weight("inputs_scale", (), initializer="ones", trainable=False)
        layer.inputs_scale.assign(np.asarray(127.0 / (ranges[id(layer)] + 1e-7), dtype=layer.inputs_scale.dtype))
        layer.input_quantization = True
    return {layer.name: ranges[id(layer)] for layer in targets}
