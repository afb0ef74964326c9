"""One score per token of a text model: an attribution method taken through the Embedding layer's output and
summed over the embedding axis (Captum's `LayerIntegratedGradients` on the embedding, then `.sum(-1)`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.explain._layers import all_layers, find_layer
from shendu.explain.gradient_x_input import gradient_x_input
from shendu.explain.integrated_gradients import integrated_gradients

METHODS = {"integrated_gradients": integrated_gradients, "gradient_x_input": gradient_x_input}


def token_attributions(model: Any, ids: Any, target: Any = None, method: str = "integrated_gradients",
                       layer: Any = None, **kwargs: Any) -> np.ndarray:
    """(batch, tokens) attributions of token-id inputs through `layer` (default: the model's first Embedding, or
    TokenAndPositionEmbedding); kwargs go to the method (steps, baseline, ...)."""
    if method not in METHODS:
        raise ValueError(f"token_attributions: method must be one of {list(METHODS)}, got {method!r}")
    if layer is None:
        found = [lay for lay in all_layers(model) if "Embedding" in type(lay).__name__]
        if not found:
            raise ValueError(f"token_attributions: model '{model.name}' has no Embedding layer; name the layer "
                             f"whose output is one vector per token with layer=")
        layer = found[0]
    else:
        layer = find_layer(model, layer, "token_attributions", ("Embedding",))
    attributions = METHODS[method](model, ids, target, layer=layer, **kwargs)
    if isinstance(attributions, tuple):  # integrated gradients with return_convergence_delta=True
        return attributions[0].sum(axis=-1), attributions[1]
    return attributions.sum(axis=-1)
