"""TFMOT's pruning entry points: `prune_low_magnitude` wraps a layer, a list of layers or a whole Sequential or
functional model; `strip_pruning` gives back a plain model holding the zeros; `get_sparsity` reports them."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.compression import magnitude
from shendu.compression.pruning_schedule import ConstantSparsity, PruningSchedule
from shendu.compression.pruning_wrapper import PruneLowMagnitude, is_prunable, prunable_weights
from shendu.layers.base import Layer


def prune_low_magnitude(to_prune: Any, pruning_schedule: PruningSchedule | None = None, block_size: Any = (1, 1),
                        block_pooling_type: str = "AVG", global_pruning: bool = False, **kwargs: Any) -> Any:
    """Wrap a layer (or each prunable layer of a model) in `PruneLowMagnitude`; train with `UpdatePruningStep`.

    A model comes back as a new model sharing the original's layers (and so its weights), compiled as it was;
    layers without prunable kernels are left as they are. `global_pruning=True` (shendu's option, like
    `torch.nn.utils.prune.global_unstructured`) ranks the weights of every wrapped kernel of the model together.
    """
    from shendu.models.cloning import clone_model
    from shendu.models.model import Model
    from shendu.models.sequential import Sequential

    schedule = pruning_schedule if pruning_schedule is not None else ConstantSparsity(0.5, 0)
    if global_pruning and tuple(block_size) != (1, 1):
        raise ValueError("prune_low_magnitude: global_pruning ranks single weights; it takes no block_size, got "
                         f"{tuple(block_size)}")
    params = {"pruning_schedule": schedule, "block_size": block_size, "block_pooling_type": block_pooling_type,
              **kwargs}
    if isinstance(to_prune, (list, tuple)):
        return [prune_low_magnitude(layer, **params) for layer in to_prune]
    if isinstance(to_prune, Model):
        if not isinstance(to_prune, Sequential) and to_prune._graph is None:
            raise ValueError(f"prune_low_magnitude: model '{to_prune.name}' is a subclassed model; wrap its layers "
                             "with prune_low_magnitude(layer) where they are created, or use a Sequential or "
                             "functional model")
        group = to_prune.name if global_pruning else None

        def wrap(layer: Layer) -> Layer:
            if isinstance(layer, PruneLowMagnitude) or not is_prunable(layer):
                return layer
            return PruneLowMagnitude(layer, global_group=group, **params)

        return clone_model(to_prune, clone_function=wrap)
    if isinstance(to_prune, Layer):
        if global_pruning:
            raise ValueError("prune_low_magnitude: global_pruning needs a whole model (or wrap layers yourself with "
                             "the same global_group)")
        return PruneLowMagnitude(to_prune, **params)
    raise ValueError(f"prune_low_magnitude: expected a Layer, a list of layers or a Model, got {to_prune!r}")


def strip_pruning(model: Any) -> Any:
    """A plain copy of a pruned model: each wrapper replaced by a fresh layer of the wrapped kind holding its
    masked weights (the zeros stay, the masks and steps go); the copy shares nothing with the pruned model."""
    from shendu.models.cloning import clone_model
    from shendu.models.model import Model

    if not isinstance(model, Model):
        raise ValueError(f"strip_pruning: expected a Model, got {model!r}")
    sources: list[tuple[Layer, Layer]] = []

    def fresh(layer: Layer) -> Layer:
        inner = layer.layer if isinstance(layer, PruneLowMagnitude) else layer
        if isinstance(inner, Model):
            copy = strip_pruning(inner)
        else:
            copy = type(inner).from_config(inner.get_config())
            sources.append((copy, inner))
        return copy

    stripped = clone_model(model, clone_function=fresh)
    for copy, inner in sources:
        if inner.built:
            copy.set_weights(inner.get_weights())
    return stripped


def get_sparsity(model: Any) -> dict[str, float]:
    """The fraction of zeros of each prunable kernel of the model (wrapped or not), by weight name."""
    out: dict[str, float] = {}
    for layer in _all_layers(model):
        if isinstance(layer, PruneLowMagnitude):
            continue
        if is_prunable(layer) and layer.built:
            for weight in prunable_weights(layer):
                out[weight.name] = magnitude.sparsity_of(weight.data)
    return out


def count_nonzero_params(model: Any) -> int:
    """How many weights of the model are not zero (float and int8 weights; each counted once)."""
    seen: set[int] = set()
    total = 0
    for weight in model.weights:
        if id(weight) not in seen and weight.data.dtype.kind in "fi" and weight.data.dtype != np.int64:
            seen.add(id(weight))
            total += int(np.count_nonzero(weight.data))
    return total


def _all_layers(model: Any) -> list[Layer]:
    out, stack, seen = [], list(getattr(model, "_layers", [])), set()
    while stack:
        layer = stack.pop(0)
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
            stack.extend(getattr(layer, "_layers", []))
    return out
