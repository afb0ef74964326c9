"""PruneLowMagnitude: the layer wrapper of TFMOT's magnitude pruning. It holds, per prunable kernel of the wrapped
layer, a 0/1 `mask` and the last `threshold`, and a `pruning_step` that `UpdatePruningStep` advances each batch.

The masked kernel entries are exactly zero at all times: the mask is multiplied in when it changes, and again after
every optimizer update (as the kernel's constraint), so Adam's momentum cannot move a pruned weight; the weights,
masks and step are saved in the model file and restored with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import initializers
from shendu.compression import magnitude
from shendu.compression.pruning_schedule import ConstantSparsity, PruningSchedule
from shendu.compression.pruning_schedule import deserialize as deserialize_schedule
from shendu.layers.base import Layer
from shendu.saving.object_registration import register_keras_serializable

_CALLBACK_ERROR = ("Prune() wrapper requires the UpdatePruningStep callback to be provided during training. "
                   "Please add it as a callback to your model.fit call.")


def prunable_weights(layer: Layer) -> list[Any]:
    """The kernels magnitude pruning acts on: Dense, Conv and Embedding kernels, an RNN cell's kernel and recurrent
    kernel, the pointwise kernel of a separable convolution, or what a layer's own `get_prunable_weights()` names."""
    from shendu import layers

    own = getattr(layer, "get_prunable_weights", None)
    if callable(own):
        return list(own())
    if isinstance(layer, layers.SeparableConv2D):
        return [layer.pointwise_kernel]
    if isinstance(layer, layers.DepthwiseConv2D):
        return [layer.depthwise_kernel]
    if isinstance(layer, layers.Embedding):
        return [layer.embeddings]
    cell = getattr(layer, "cell", None)
    if isinstance(layer, layers.RNN) and cell is not None and hasattr(cell, "recurrent_kernel"):
        return [cell.kernel, cell.recurrent_kernel]
    kernel = getattr(layer, "kernel", None)
    if isinstance(layer, (layers.Dense, layers.Conv1D, layers.Conv2D, layers.Conv2DTranspose)) and kernel is not None:
        return [kernel]
    return []


def is_prunable(layer: Layer) -> bool:
    """Whether `prunable_weights` knows this kind of layer (built or not)."""
    from shendu import layers

    kinds = (layers.Dense, layers.Conv1D, layers.Conv2D, layers.Conv2DTranspose, layers.DepthwiseConv2D,
             layers.SeparableConv2D, layers.Embedding, layers.SimpleRNN, layers.LSTM, layers.GRU)
    return isinstance(layer, kinds) or callable(getattr(layer, "get_prunable_weights", None))


class MaskConstraint:
    """The kernel's constraint while it is pruned: the layer's own constraint (if any), then w * mask."""

    def __init__(self, mask: Any, inner: Any = None) -> None:
        self.mask, self.inner = mask, inner

    def __call__(self, w: Any) -> Any:
        if self.inner is not None:
            w = self.inner(w)
        data = getattr(w, "data", w)
        return data * self.mask.data


@register_keras_serializable(package="shendu")
class PruneLowMagnitude(Layer):
    """Wraps a Dense/Conv/Embedding/RNN layer so that `UpdatePruningStep` zeroes its smallest kernel weights on the
    schedule's steps. `global_group`: wrappers sharing it are pruned together against one threshold."""

    def __init__(self, layer: Layer, pruning_schedule: Any = None, block_size: Any = (1, 1),
                 block_pooling_type: str = "AVG", global_group: str | None = None, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"PruneLowMagnitude: expected a Layer instance to wrap, got {layer!r}")
        if not is_prunable(layer):
            raise ValueError(f"PruneLowMagnitude: cannot prune layer '{layer.name}' of type {type(layer).__name__}; "
                             "supported: Dense, Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, "
                             "Embedding, SimpleRNN, LSTM, GRU, or a layer with get_prunable_weights()")
        block_size = tuple(int(b) for b in block_size)
        if len(block_size) != 2 or min(block_size) < 1:
            raise ValueError(f"PruneLowMagnitude: block_size must be two positive integers, got {block_size}")
        if block_pooling_type not in ("AVG", "MAX"):
            raise ValueError(f"PruneLowMagnitude: block_pooling_type must be 'AVG' or 'MAX', got "
                             f"{block_pooling_type!r}")
        kwargs.setdefault("name", f"prune_low_magnitude_{layer.name}")
        super().__init__(**kwargs)
        self.layer = layer
        self.pruning_schedule: PruningSchedule = deserialize_schedule(
            pruning_schedule if pruning_schedule is not None else ConstantSparsity(0.5, 0))
        self.block_size = block_size
        self.block_pooling_type = block_pooling_type
        self.global_group = global_group
        self.pruning_vars: list[tuple[Any, Any, Any]] = []

    def build(self, input_shape: Any) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.pruning_vars = []
        for weight in prunable_weights(self.layer):
            if self.block_size != (1, 1) and len([n for n in weight.shape if n != 1]) != 2:
                raise ValueError(f"PruneLowMagnitude '{self.name}': block_size {self.block_size} needs 2-D kernels; "
                                 f"'{weight.name}' has shape {weight.shape}")
            mask = self.add_weight("mask", weight.shape, initializer="ones", dtype=weight.dtype, trainable=False)
            threshold = self.add_weight("threshold", (), initializer="zeros", dtype=weight.dtype, trainable=False)
            weight.constraint = MaskConstraint(mask, getattr(weight, "constraint", None))
            self.pruning_vars.append((weight, mask, threshold))
        self.pruning_step = self.add_weight("pruning_step", (), initializer=initializers.Constant(-1),
                                            dtype=np.int64, trainable=False)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if training and int(self.pruning_step.data) < 0:
            raise RuntimeError(f"PruneLowMagnitude '{self.name}': {_CALLBACK_ERROR}")
        if self.layer._accepts("training"):
            kwargs["training"] = training
        return self.layer(inputs, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.layer.compute_output_shape(input_shape)

    # --- masks -------------------------------------------------------------------------------------
    def update_masks(self, sparsity: float) -> None:
        """New masks keeping the largest weights of each kernel at this sparsity, multiplied into the kernels."""
        for weight, mask, threshold in self.pruning_vars:
            new, value = magnitude.magnitude_mask(weight.data, sparsity, self.block_size, self.block_pooling_type)
            self.set_mask(weight, mask, threshold, new, value)

    @staticmethod
    def set_mask(weight: Any, mask: Any, threshold: Any, new: np.ndarray, value: float) -> None:
        mask.assign(new.astype(mask.dtype))
        threshold.assign(np.asarray(value, dtype=threshold.dtype))
        weight.data[...] = weight.data * mask.data

    def apply_masks(self) -> None:
        """weights = weights * mask (TFMOT's `weight_mask_op`)."""
        for weight, mask, _ in self.pruning_vars:
            weight.data[...] = weight.data * mask.data

    @property
    def summary_sparsity(self) -> float | None:
        """The fraction of zeros in the pruned kernels, shown by `model.summary()`."""
        kernels = [w.data for w, _, _ in self.pruning_vars]
        if not kernels:
            return None
        return float(sum(np.count_nonzero(k == 0) for k in kernels) / sum(k.size for k in kernels))

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        return {**super().get_config(), "layer": serialize(self.layer),
                "pruning_schedule": self.pruning_schedule.get_config(), "block_size": list(self.block_size),
                "block_pooling_type": self.block_pooling_type, "global_group": self.global_group}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> PruneLowMagnitude:
        from shendu.layers.recurrent import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        config["pruning_schedule"] = deserialize_schedule(config.get("pruning_schedule"), custom_objects)
        return cls(layer, **config)


def collect_prunable_layers(model: Any) -> list[PruneLowMagnitude]:
    """Every PruneLowMagnitude wrapper inside a model (nested models included), each once."""
    out: list[PruneLowMagnitude] = []
    stack = [model]
    seen: set[int] = set()
    while stack:
        layer = stack.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, PruneLowMagnitude):
            out.append(layer)
        else:
            stack.extend(getattr(layer, "_layers", []))
    return out
