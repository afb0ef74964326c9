"""The attention weights of a `MultiHeadAttention` layer (or a `TransformerEncoder`'s inner one) on a batch, for
display: softmax(Q K^T / sqrt(d)) per head, as the layer's `return_attention_scores=True` gives them."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.explain import _core
from shendu.explain._layers import all_layers, find_layer


def attention_weights(model: Any, x: Any, layer_name: Any = None, batch_size: int = 32) -> np.ndarray:
    """(batch, heads, query steps, key steps) attention weights of the named layer (default: the model's first
    MultiHeadAttention, nested ones included) while the model runs on x in inference mode."""
    arrays, _ = _core.as_inputs(x, "attention_weights")
    if layer_name is None:
        found = [layer for layer in all_layers(model) if type(layer).__name__ == "MultiHeadAttention"]
        if not found:
            raise ValueError(f"attention_weights: model '{model.name}' has no MultiHeadAttention layer")
        layer = found[0]
    else:
        layer = find_layer(model, layer_name, "attention_weights", ("Attention",))
    if "return_attention_scores" not in type(layer).call.__code__.co_varnames:
        raise ValueError(f"attention_weights: layer '{layer.name}' ({type(layer).__name__}) has no attention "
                         f"scores to return; name a MultiHeadAttention or Attention layer")
    seen: list[np.ndarray] = []
    own = layer.call

    def call(*args: Any, **kwargs: Any) -> Any:
        asked = kwargs.get("return_attention_scores", False)
        kwargs["return_attention_scores"] = True
        out, scores = own(*args, **kwargs)
        seen.append(scores.numpy())
        return (out, scores) if asked else out

    layer.call = call
    parts = []
    try:
        with grad_mode.no_grad():
            for i in _core.batched(arrays[0].shape[0], batch_size):
                seen.clear()
                _core.forward(model, [a[i:i + batch_size] for a in arrays])
                if len(seen) != 1:
                    raise ValueError(f"attention_weights: layer '{layer.name}' ran {len(seen)} times in one call "
                                     f"of the model; expected once")
                parts.append(seen[0])
    finally:
        del layer.call
    return np.concatenate(parts)
