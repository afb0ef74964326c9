"""Reaching inside a model: a layer found by name (nested layers too), and its output caught (or replaced) while the
model runs, as a Tensor whose gradient the methods then take (Captum's layer hooks; Keras's Grad-CAM example builds
`Model(model.inputs, [layer.output, model.output])`, which works in shendu as well)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu.keras_mask import get_keras_mask, set_keras_mask
from shendu.tensor import Tensor


def all_layers(model: Any) -> list[Any]:
    """Every layer inside the model, depth first, each once (the layers of nested models and blocks included)."""
    found: list[Any] = []
    stack = list(reversed(getattr(model, "_layers", [])))
    while stack:
        layer = stack.pop()
        if any(layer is f for f in found):
            continue
        found.append(layer)
        stack.extend(reversed(getattr(layer, "_layers", [])))
    return found


def find_layer(model: Any, name: Any, who: str, kinds: tuple[str, ...] = ()) -> Any:
    """The layer called `name` (or the layer object itself); a wrong name gets an error listing the candidates,
    the layers whose class name contains one of `kinds` (e.g. the convolutional layers for Grad-CAM) first."""
    layers = all_layers(model)
    if any(name is layer for layer in layers):
        return name
    for layer in layers:
        if layer.name == name:
            return layer
    candidates = [layer.name for layer in layers if any(k in type(layer).__name__ for k in kinds)]
    hint = f"its {'/'.join(kinds)} layers are {candidates}; " if kinds else ""
    raise ValueError(f"{who}: no layer named {name!r} in model '{model.name}'; {hint}all layers: "
                     f"{[layer.name for layer in layers]}")


def unfused(model: Any) -> Any:
    """A model that runs each layer's own `call`: a Sequential fuses Conv2D + MaxPooling2D into one op, which a
    layer's hook would never see, so it runs as the functional graph of its layers (the same weights)."""
    from shendu.models.functional import Functional
    from shendu.models.sequential import Sequential

    if isinstance(model, Sequential):
        if model.inputs is None:
            raise ValueError(f"explain: Sequential '{model.name}' is not built; call it on data (or give it an "
                             f"Input) first")
        return Functional(model.inputs[0], model.outputs[0], name=model.name)
    return model


class Caught:
    """What a hook saw: the tensor the layer passed on (a leaf whose gradient is taken) and how often it ran."""

    def __init__(self) -> None:
        self.tensor: Tensor | None = None
        self.calls = 0


@contextlib.contextmanager
def capture(layer: Any, who: str, replace: Callable[[np.ndarray], np.ndarray] | None = None) -> Iterator[Caught]:
    """While inside, the layer's output is passed on as a fresh leaf Tensor (its values, or `replace(values)`),
    with the Keras mask it carried, so gradients stop there and are taken with respect to it. Only this thread's
    calls are caught: another thread using the model meanwhile runs the layer as usual."""
    seen = Caught()
    own = layer.call
    owner = threading.get_ident()

    def call(*args: Any, **kwargs: Any) -> Any:
        out = own(*args, **kwargs)
        if threading.get_ident() != owner:
            return out
        if isinstance(out, (list, tuple)) or not isinstance(out, Tensor):
            raise ValueError(f"{who}: layer '{layer.name}' returns {type(out).__name__}, not a single tensor")
        seen.calls += 1
        if seen.calls > 1:
            raise ValueError(f"{who}: layer '{layer.name}' runs more than once in the model (a shared layer); "
                             f"attribute through a layer used once")
        values = out.data if replace is None else np.asarray(replace(out.data), dtype=out.data.dtype)
        leaf = Tensor(values, requires_grad=True)
        mask = get_keras_mask(out)
        if mask is not None:
            set_keras_mask(leaf, mask)
        seen.tensor = leaf
        return leaf

    layer.call = call
    try:
        yield seen
    finally:
        del layer.call
    if seen.tensor is None:
        raise ValueError(f"{who}: layer '{layer.name}' did not run when the model was called")
