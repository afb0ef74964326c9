"""Embedding (token ids to dense vectors) and Masking (skip padded time steps), the layers that start a mask."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend, constraints, initializers, regularizers
from shendu.backend import get_array_module
from shendu.keras_mask import set_keras_mask
from shendu.layers.base import Layer
from shendu.ops import Mul
from shendu.ops.embedding import Gather
from shendu.tensor import Tensor


class Embedding(Layer):
    """output[..., :] = embeddings[inputs[...], :]: each integer id in [0, input_dim) becomes a row of the
    (input_dim, output_dim) table. mask_zero=True treats id 0 as padding: the output carries the mask ids != 0,
    which layers that support masking pass on to those that use it (recurrent layers, GlobalAveragePooling1D,
    attention, the loss); input_dim must count the padding id. Whole-number float ids are
    accepted; an id outside [0, input_dim) is a ValueError. `input_length` is accepted and ignored, as in Keras 3.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 activity_regularizer: Any = None, input_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Embedding '{self.name}': {arg} must be a positive integer, got {value!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def _ids(self, inputs: Any) -> np.ndarray:
        """The inputs as integer ids, checked to lie in [0, input_dim)."""
        data = inputs.data if isinstance(inputs, Tensor) else inputs
        xp = get_array_module(data)
        data = xp.asarray(data)
        if data.dtype.kind == "f":
            ids = data.astype(np.int64)
            if not xp.array_equal(ids, data):
                bad = data.reshape(-1)[xp.flatnonzero(ids.reshape(-1) != data.reshape(-1))[0]]
                raise ValueError(f"Embedding '{self.name}': token ids must be integers, got {bad!r}")
        elif data.dtype.kind in "iub":
            ids = data
        else:
            raise ValueError(f"Embedding '{self.name}': token ids must be integers, got dtype {data.dtype}")
        if ids.size:
            lo, hi = ids.min(), ids.max()
            if lo < 0 or hi >= self.input_dim:
                bad = lo if lo < 0 else hi
                raise ValueError(f"Embedding '{self.name}': token id {int(bad)} is outside [0, {self.input_dim}) "
                                 f"(input_dim={self.input_dim})")
        return ids

    def call(self, inputs: Any) -> Tensor:
        ids = backend.operand(self.embeddings.data, self._ids(inputs))  # host ids join a table on a GPU
        out = Gather.apply(self.embeddings, ids=ids)
        if self.mask_zero:
            set_keras_mask(out, ids != 0)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out))
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> np.ndarray | None:
        """ids != 0 when mask_zero, else None."""
        if not self.mask_zero:
            return None
        return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs) != 0

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }


class Masking(Layer):
    """Marks the time steps whose features all equal mask_value as padding: those steps become 0 and the
    output carries the mask (batch, steps) = any(inputs != mask_value, axis=-1) for the layers downstream."""

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, inputs: Tensor) -> Tensor:
        keep = get_array_module(inputs.data).any(inputs.data != self.mask_value, axis=-1)
        out = Mul.apply(inputs, Tensor(keep[..., None].astype(inputs.dtype)))
        set_keras_mask(out, keep)
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> np.ndarray:
        """any(inputs != mask_value, axis=-1)."""
        data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(data != self.mask_value, axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
