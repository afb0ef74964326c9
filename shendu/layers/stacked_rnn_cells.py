"""StackedRNNCells: a list of RNN cells that behaves as one cell, so that `RNN([cell_1, cell_2])` runs a stack of
recurrent layers in a single loop over the steps (Keras's `keras.layers.StackedRNNCells`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.saving import serialization
from shendu.tensor import Tensor


def _output_size(cell: Any) -> int:
    """A cell's output width: `output_size`, else its (first) state's size, as Keras reads it."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state = cell.state_size
    return state[0] if isinstance(state, (list, tuple)) else state


class StackedRNNCells(Layer):
    """Cells run in order at each step, each one's output the next one's input; the output is the last cell's.

    The state is the list of the cells' states, `state_size = [cell.state_size for cell in cells]` (a cell with
    several states, e.g. LSTMCell's [h, c], contributes a nested list), so `RNN(StackedRNNCells([LSTMCell(8),
    LSTMCell(4)]), return_state=True)` returns [output, [h_1, c_1], [h_2, c_2]] as in Keras.
    """

    def __init__(self, cells: Any, **kwargs: Any) -> None:
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells: expected a non-empty list of RNN cells, got an empty list")
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"StackedRNNCells: all cells must have a `call` method; got {cell!r}")
            if not hasattr(cell, "state_size"):
                raise ValueError(f"StackedRNNCells: all cells must have a `state_size` attribute; got {cell!r}")
        if kwargs.get("dtype") is None and isinstance(cells[0], Layer):
            kwargs["dtype"] = cells[0].dtype  # the sequence is cast to the stack's dtype: follow the cells'
        super().__init__(**kwargs)
        self.cells = cells

    @property
    def state_size(self) -> list[Any]:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size: int) -> list[Any]:
        """Zero states in the structure of `state_size` (a cell's own `get_initial_state` when it has one)."""
        states: list[Any] = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                states.append(cell.get_initial_state(batch_size))
            elif isinstance(cell.state_size, (list, tuple)):
                states.append([Tensor(np.zeros((batch_size, s), self.dtype)) for s in cell.state_size])
            else:
                states.append(Tensor(np.zeros((batch_size, cell.state_size), self.dtype)))
        return states

    def build(self, input_shape: Any) -> None:
        """Build each cell for its input: the step's features for the first, the previous cell's output after."""
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(shape)
                cell.built = True
            shape = (shape[0], _output_size(cell))
        self.built = True

    def call(self, inputs: Tensor, states: Any, training: bool | None = None) -> tuple[Tensor, list[Any]]:
        """One step: x = inputs; for each cell, x, s_k = cell(x, states[k]); returns (x, [s_1, ..., s_n])."""
        if len(states) != len(self.cells):
            raise ValueError(f"StackedRNNCells '{self.name}': expected {len(self.cells)} states (one per cell), "
                             f"got {len(states)}")
        new_states: list[Any] = []
        x = inputs
        for cell, state in zip(self.cells, states):
            nested = isinstance(state, (list, tuple))
            kwargs = {"training": training} if isinstance(cell, Layer) and cell._accepts("training") else {}
            step = cell if callable(cell) else cell.call
            x, new = step(x, list(state) if nested else [state], **kwargs)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            new_states.append(new if nested or len(new) != 1 else new[0])
        return x, new_states

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cells": [serialization.serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> StackedRNNCells:
        config = dict(config)
        cells = [serialization.deserialize(c, custom_objects) if isinstance(c, dict) else c
                 for c in config.pop("cells")]
        return cls(cells, **config)
