"""Input and InputLayer: the entry of a functional or Sequential model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.layers.symbolic import KerasTensor, Node


class InputLayer(Layer):
    """Holds the model's input shape; `Input(shape)` returns its symbolic output."""

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None, dtype: Any = None,
                 name: str | None = None, batch_shape: Sequence[int | None] | None = None, **kwargs: Any) -> None:
        if batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape", None)
        if shape is None:
            shape = kwargs.pop("input_shape", None)
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: give shape=(...) (without the batch axis) or batch_shape=(...)")
        batch_shape = tuple(batch_shape) if batch_shape is not None else (batch_size, *tuple(shape))
        super().__init__(name=name, batch_input_shape=batch_shape, **kwargs)
        if dtype in ("string", "str"):  # Keras's spelling for text inputs (TextVectorization)
            dtype = object
        self.input_dtype = np.dtype(dtype) if dtype is not None else self.dtype
        self.built = True
        output = KerasTensor(batch_shape, self.input_dtype, name=self.name)
        output.node = Node(self, [], (), {}, [output])
        self._inbound_nodes.append(output.node)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self._batch_input_shape), "dtype": self.input_dtype.name, "name": self.name}


def Input(shape: Sequence[int | None] | None = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, batch_shape: Sequence[int | None] | None = None) -> KerasTensor:
    """A symbolic model input of the given shape (without the batch axis), as `keras.Input`."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output
