"""Saliency (Simonyan et al. 2014): the gradient of the target class's output with respect to the input,
|d y_c / d x| by default (Captum's `Saliency`, `abs=True`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.explain import _core
from shendu.explain._layers import find_layer


def saliency(model: Any, x: Any, target: Any = None, abs: bool = True, layer: Any = None,
             batch_size: int = 32) -> Any:
    """|d y_target / d x| per input element (the signed gradient with abs=False), one array per input.

    With `layer` (a layer name), the gradient is taken with respect to that layer's output instead (Captum's
    `LayerGradient`), e.g. the Embedding of a text model: shape (batch, tokens, embedding).
    """
    arrays, several = _core.as_inputs(x, "saliency")
    t = _core.targets(model, arrays, target, "saliency", batch_size)
    if layer is not None:
        _, g, _ = _core.layer_gradients(model, arrays, t, find_layer(model, layer, "saliency"), "saliency",
                                        batch_size)
        return np.abs(g) if abs else g
    grads, _ = _core.gradients(model, _core.float_inputs(arrays, "saliency"), t, "saliency", batch_size)
    return _core.pack([np.abs(g) if abs else g for g in grads], several)
