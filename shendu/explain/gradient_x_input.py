"""Gradient x input (Shrikumar et al. 2016): x * d y_c / d x, a first-order estimate of each element's
contribution (exact for a linear model with a zero baseline; Captum's `InputXGradient`)."""

from __future__ import annotations

from typing import Any

from shendu.explain import _core
from shendu.explain._layers import find_layer


def gradient_x_input(model: Any, x: Any, target: Any = None, layer: Any = None, batch_size: int = 32) -> Any:
    """x * d y_target / d x per input element, one array per input.

    With `layer` (e.g. a text model's Embedding), the product is the layer's output times the gradient with respect
    to it (Captum's `LayerGradientXActivation`); sum it over the last axis for one score per token.
    """
    arrays, several = _core.as_inputs(x, "gradient_x_input")
    t = _core.targets(model, arrays, target, "gradient_x_input", batch_size)
    if layer is not None:
        a, g, _ = _core.layer_gradients(model, arrays, t, find_layer(model, layer, "gradient_x_input"),
                                        "gradient_x_input", batch_size)
        return a * g
    arrays = _core.float_inputs(arrays, "gradient_x_input")
    grads, _ = _core.gradients(model, arrays, t, "gradient_x_input", batch_size)
    return _core.pack([a * g for a, g in zip(arrays, grads)], several)
