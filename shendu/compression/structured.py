"""Structured pruning: whole Dense units and Conv filters removed, so the layer and its successor's input really
shrink (fewer parameters and products), as Li et al. 2017 rank filters: by the L1 norm of their kernel slice.

Supported topology: a chain, i.e. a Sequential model or a functional model whose layers each take the previous
layer's single output. Between a pruned layer and the next Dense/Conv only layers that carry channels through
unchanged may sit (pooling, global pooling, Dropout, ReLU-like activations, Flatten). A unit's output must be
0 when its weights and bias are 0 (activation(0) = 0), so the smaller model predicts exactly as the model with
those units' kernels and biases zeroed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.tensor import Tensor


def _kinds() -> tuple[tuple[type, ...], tuple[type, ...]]:
    from shendu import layers

    weighted = (layers.Dense, layers.Conv1D, layers.Conv2D)
    passthrough = (layers.MaxPooling1D, layers.MaxPooling2D, layers.AveragePooling1D, layers.AveragePooling2D,
                   layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D, layers.GlobalAveragePooling1D,
                   layers.GlobalAveragePooling2D, layers.Dropout, layers.Activation, layers.ReLU, layers.LeakyReLU,
                   layers.ELU, layers.Flatten)
    return weighted, passthrough


def _zero_preserving(layer: Layer) -> bool:
    """Whether the layer's activation maps 0 to 0 (then a removed unit equals a zeroed one)."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return True  # pooling, Dropout, Flatten and the ReLU/LeakyReLU/ELU layers keep 0 at 0
    return bool(np.all(np.asarray(activation(Tensor(np.zeros((1, 2), np.float32))).data) == 0))


def filter_norms(layer: Layer) -> np.ndarray:
    """The L1 norm of each unit's (Dense) or filter's (Conv) kernel slice: sum |kernel[..., j]|."""
    kernel = layer.kernel.data
    return np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)


def kept_units(layer: Layer, fraction: float) -> np.ndarray:
    """The indices of the units or filters kept when `fraction` of them (those of smallest L1 norm) go, in order."""
    norms = filter_norms(layer)
    keep = max(round(norms.size * (1.0 - fraction)), 1)
    return np.sort(np.argsort(-norms, kind="stable")[:keep])


def _chain(model: Any) -> list[Layer]:
    from shendu.layers.input_layer import InputLayer
    from shendu.models.sequential import Sequential

    if isinstance(model, Sequential):
        return list(model.layers)
    graph = getattr(model, "_graph", None)
    problem = None
    if graph is None:
        problem = "it is a subclassed model (no graph of layer calls to follow)"
    elif len(graph.inputs) != 1 or len(graph.outputs) != 1:
        problem = f"it has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs"
    else:
        nodes = [n for n in graph.nodes if not isinstance(n.layer, InputLayer)]
        previous = graph.inputs[0]
        for node in nodes:
            if len(node.input_tensors) != 1 or node.input_tensors[0] is not previous or len(node.outputs) != 1:
                problem = f"layer '{node.layer.name}' does not take exactly the previous layer's single output"
                break
            previous = node.outputs[0]
        else:
            return [n.layer for n in nodes]
    raise ValueError(f"prune_structured: model '{model.name}' is not a chain of layers ({problem}); supported are "
                     "Sequential models and functional models where each layer takes the previous layer's output")


def _shapes(chain: list[Layer], input_shape: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The input shape of each layer of the chain."""
    out, shape = [], tuple(input_shape)
    for layer in chain:
        out.append(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return out


def _successor(chain: list[Layer], i: int) -> int:
    """The index of the Dense/Conv that reads layer i's units, checking what lies between."""
    weighted, passthrough = _kinds()
    for j in range(i + 1, len(chain)):
        layer = chain[j]
        if isinstance(layer, weighted):
            return j
        if not isinstance(layer, passthrough) or not _zero_preserving(layer):
            raise ValueError(f"prune_structured: layer '{layer.name}' ({type(layer).__name__}) sits between "
                             f"'{chain[i].name}' and the next Dense/Conv; only pooling, Dropout, Flatten and "
                             "activations with f(0) = 0 may, so that removed units can be cut from its input")
    raise ValueError(f"prune_structured: layer '{chain[i].name}' has no Dense/Conv after it to take the smaller "
                     "input; the output layer cannot lose units")


def _input_index(keep: np.ndarray, channels: int, shape: tuple[Any, ...], flattened: bool) -> np.ndarray:
    """The successor's input rows that carry the kept channels (through a Flatten: every position's copy)."""
    if not flattened:
        return keep
    positions = int(np.prod([d for d in shape[1:-1]])) if len(shape) > 2 else 1
    return (np.arange(positions)[:, None] * channels + keep[None, :]).reshape(-1)


def prune_structured(model: Any, fraction: float, layers: Any = None) -> Any:
    """A smaller copy of a chain model: in each chosen Dense/Conv layer (default: all but the last), `fraction` of
    the units/filters with the smallest L1 norm are removed, and the next Dense/Conv loses the matching inputs.
    The copy is compiled as the model was; its predictions equal the original's with those units zeroed."""
    from shendu.layers.input_layer import Input
    from shendu.models.functional import Functional
    from shendu.models.sequential import Sequential

    if not 0.0 <= float(fraction) < 1.0:
        raise ValueError(f"prune_structured: fraction must be in [0, 1), got {fraction!r}")
    if not model.built:
        raise ValueError(f"prune_structured: model '{model.name}' has no weights yet; build or train it first")
    chain = _chain(model)
    weighted, _ = _kinds()
    dense_conv = [i for i, layer in enumerate(chain) if isinstance(layer, weighted)]
    if layers is None:
        targets = dense_conv[:-1]
    else:
        names = {getattr(x, "name", x) for x in layers}
        unknown = names - {chain[i].name for i in dense_conv}
        if unknown:
            raise ValueError(f"prune_structured: no Dense/Conv layer named {sorted(unknown)} in model '{model.name}' "
                             f"(it has {[chain[i].name for i in dense_conv]})")
        targets = [i for i in dense_conv if chain[i].name in names]
    input_shape = tuple(model.input_shape)
    shapes = _shapes(chain, input_shape)
    keeps: dict[int, np.ndarray] = {}
    rows: dict[int, np.ndarray] = {}
    for i in targets:
        layer = chain[i]
        if getattr(layer, "groups", 1) != 1 or not _zero_preserving(layer):
            raise ValueError(f"prune_structured: layer '{layer.name}' cannot lose units: it needs groups=1 and an "
                             "activation with f(0) = 0")
        j = _successor(chain, i)
        keeps[i] = kept_units(layer, fraction)
        flattened = any(type(chain[k]).__name__ == "Flatten" for k in range(i + 1, j))
        flat_shape = next((shapes[k] for k in range(i + 1, j) if type(chain[k]).__name__ == "Flatten"), None)
        channels = layer.kernel.shape[-1]
        rows[j] = _input_index(keeps[i], channels, flat_shape if flattened else (), flattened)
    new_layers = []
    for i, layer in enumerate(chain):
        config = layer.get_config()
        if i in keeps:
            config["units" if "units" in config else "filters"] = int(keeps[i].size)
        new_layers.append((type(layer).from_config(config), _sliced(layer, keeps.get(i), rows.get(i))))
    inputs = Input(batch_shape=input_shape)
    if isinstance(model, Sequential):
        smaller: Any = Sequential([inputs, *[new for new, _ in new_layers]], name=model.name)
    else:
        x = inputs
        for new, _ in new_layers:
            x = new(x)
        smaller = Functional(inputs, x, name=model.name)
    for new, weights in new_layers:
        if weights:
            new.set_weights(weights)
    if getattr(model, "compiled", False):
        smaller.compile_from_config(model.get_compile_config())
    return smaller


def _sliced(layer: Layer, keep: np.ndarray | None, rows: np.ndarray | None) -> list[np.ndarray]:
    """The layer's weights with kept output units (last kernel axis, bias) and kept input rows."""
    weights = layer.get_weights()
    if keep is None and rows is None:
        return weights
    kernel = weights[0]
    if rows is not None:
        kernel = np.take(kernel, rows, axis=0 if kernel.ndim == 2 else -2)
    if keep is not None:
        kernel = kernel[..., keep]
    out = [kernel]
    if len(weights) > 1:
        out.append(weights[1][keep] if keep is not None else weights[1])
    return out
