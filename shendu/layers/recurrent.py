"""Recurrent layers: the generic RNN(cell) and the fused SimpleRNN, LSTM and GRU (Keras names, defaults, layouts).

`RNN(cell)` calls the cell once per step in ordinary Tensor ops, so any cell works; a list of cells is stacked
(StackedRNNCells), each step running them in order, and the states are then nested per cell as in Keras.
SimpleRNN, LSTM and GRU keep their weights in a cell as Keras does (`layer.cell.kernel`, ...), but run the whole
sequence as one op of `shendu.ops.recurrent` (one matrix product for the inputs of all steps, one per step for the
state, and backpropagation through time as a loop over saved arrays); activations that op does not know, and GRU
with reset_after=False, fall back to the cell loop.

Inputs are (batch, steps, features); a mask (batch, steps), given as `mask=` or carried by the inputs from
Embedding(mask_zero=True) or Masking, makes padded steps keep the state and repeat the previous output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import activations, regularizers
from shendu.keras_mask import as_mask, get_keras_mask, set_keras_mask
from shendu.layers.base import Layer, to_tensor
from shendu.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from shendu.layers.stacked_rnn_cells import StackedRNNCells
from shendu.layers.symbolic import KerasTensor
from shendu.ops import Stack, Where
from shendu.ops import recurrent as fused
from shendu.saving import serialization
from shendu.tensor import Tensor
from shendu.tensor_shape import TensorShape
from shendu.utils.tree import flatten


def _leaf(size: Any) -> bool:
    """Whether a state_size/output_size entry is one state (an int, or a TensorShape for a state of any rank)."""
    return not isinstance(size, (list, tuple)) or isinstance(size, TensorShape)


def _sizes(state_size: Any) -> list[Any]:
    return [state_size] if _leaf(state_size) else list(state_size)


def _map_sizes(f: Any, size: Any) -> Any:
    """f(shape without the batch axis) for each state in a (nested) size: an int n is the shape (n,)."""
    if _leaf(size):
        return f(tuple(size) if isinstance(size, TensorShape) else (int(size),))
    return [_map_sizes(f, v) for v in size]


def _pack(flat: list[Any], structure: Any) -> Any:
    """The flat list of states regrouped in the nesting of `structure` (a state_size: ints and lists of them)."""
    leaves = iter(flat)

    def build(s: Any) -> Any:
        return next(leaves) if _leaf(s) else [build(v) for v in s]

    return build(structure)


def _keep(mask_t: np.ndarray, like: Tensor) -> np.ndarray:
    """A step's mask (batch,) shaped to broadcast against a state or output of any rank."""
    return mask_t.reshape(mask_t.shape[0], *[1] * (like.ndim - 1))


def _nested_input(inputs: Any) -> bool:
    """Whether a list or tuple is several sequences given together (a nested input of the cell, as in Keras's
    guide): two or more tensors or shapes of rank >= 3, where [inputs, *initial_states] has states of rank 2."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        return False
    ranks = [len(x) if isinstance(x, (list, tuple)) else getattr(x, "ndim", 0) for x in inputs]
    return all(r >= 3 for r in ranks)


class RNN(Layer):
    """Runs `cell` over the steps of (batch, steps, features) inputs: output, states = cell(x_t, states).

    return_sequences gives every step's output (batch, steps, units) instead of the last; return_state adds the
    final states; go_backwards reads the steps in reverse (the outputs come in that order); stateful keeps the
    final states of a batch as the initial states of the next (until `reset_states()`); zero_output_for_mask
    outputs zeros at masked steps instead of the previous output. `unroll` is accepted for compatibility.
    `cell` may be a list of cells, run as StackedRNNCells(cell): the returned states are then one entry per cell
    (a list [h, c] for an LSTMCell), and `initial_state` may be given nested that way or flat.
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, activity_regularizer: Any = None, **kwargs: Any) -> None:
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
            raise ValueError(f"RNN: the cell must be a layer with a `call` method and a `state_size` attribute; "
                             f"got {cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.states: list[np.ndarray] | None = None
        self._features: int | None = None
        self._flat_output_shapes = False

    @property
    def state_size(self) -> list[Any]:
        """Keras's list of state sizes, one entry per state of the cell (a nested list for stacked cells)."""
        return _sizes(self.cell.state_size)

    @property
    def _state_shapes(self) -> list[tuple[int, ...]]:
        """The shape (without the batch axis) of each state, in the order of the flat list of states."""
        shapes: list[tuple[int, ...]] = []
        _map_sizes(shapes.append, self.state_size)
        return shapes

    @property
    def output_size(self) -> int:
        size = getattr(self.cell, "output_size", None)
        return size if size is not None and size != [] else self.state_size[0]

    def _nested_states(self) -> bool:
        return not all(_leaf(s) for s in self.state_size)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Layer.__call__. A symbolic call records one tensor per output (flat shapes, see compute_output_shape);
        with nested states they are regrouped as the eager call returns them: [output, *states per cell]."""
        first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if not (self.return_state and self._nested_states() and isinstance(first, KerasTensor)):
            return super().__call__(inputs, *args, **kwargs)
        self._flat_output_shapes = True
        try:
            outputs = super().__call__(inputs, *args, **kwargs)
        finally:
            self._flat_output_shapes = False
        return [outputs[0], *_pack(outputs[1:], self.state_size)]

    # --- shapes --------------------------------------------------------------------------------------
    def _check_shape(self, shape: tuple[Any, ...], nested: bool = False) -> None:
        if nested:
            if len(shape) < 3:
                raise ValueError(f"{type(self).__name__} '{self.name}': each of several (nested) inputs must be a "
                                 f"sequence of rank >= 3 (batch, steps, ...), got shape {tuple(shape)}")
            return
        if len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of rank 3 (batch, steps, features), "
                f"got shape {tuple(shape)}"
            )
        if self._features is not None and shape[-1] != self._features:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs with {self._features} features (the kernel was "
                f"built for shape (batch, steps, {self._features})), got shape {tuple(shape)}"
            )

    def _build_for(self, inputs: Any) -> None:
        if _nested_input(inputs):
            self.build(tuple((None, *x.shape[1:]) for x in inputs))
            return
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        self._check_shape(first.shape)  # before the batch axis becomes None, so the error shows the real shape
        super()._build_for(inputs)

    def build(self, input_shape: Any) -> None:
        if _nested_input(input_shape):  # the cell builds for the shapes of one step of each input
            for s in input_shape:
                self._check_shape(s, nested=True)
            if not self.cell.built:
                self.cell.build(tuple((s[0], *s[2:]) for s in input_shape))
                self.cell.built = True
            self.built = True
            return
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        self._check_shape(shape)
        if shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the number of features must be known, "
                             f"got input shape {shape}")
        self._features = int(shape[-1])
        if not self.cell.built:
            self.cell.build((shape[0], self._features))
            self.cell.built = True
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        nested = _nested_input(input_shape)
        shape = tuple(input_shape[0] if nested or isinstance(input_shape, list) else input_shape)
        batch = shape[0]
        out = _map_sizes(lambda tail: (batch, shape[1], *tail) if self.return_sequences else (batch, *tail),
                         self.output_size)
        if not self.return_state:
            return out
        states = [(batch, *s) for s in self._state_shapes]
        outs = out if isinstance(out, list) else [out]
        return [*outs, *(states if self._flat_output_shapes else _pack(states, self.state_size))]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output mask: the input's when returning sequences, else None (and None for the states)."""
        out = as_mask(mask) if self.return_sequences else None
        return [out] + [None] * len(self.state_size) if self.return_state else out

    # --- running -------------------------------------------------------------------------------------
    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        nested = _nested_input(sequences)
        if isinstance(sequences, (list, tuple)) and not nested:  # tf.keras style: [inputs, *initial_states]
            sequences, rest = sequences[0], list(sequences[1:])
            initial_state = rest or initial_state
        xs = tuple(sequences) if nested else (sequences,)
        for x in xs:
            self._check_shape(x.shape, nested)
        xs = tuple(x.astype(self.cell.dtype) if x.dtype != self.cell.dtype and x.dtype.kind == "f" else x for x in xs)
        batch, steps = xs[0].shape[0], xs[0].shape[1]
        if any(x.shape[:2] != (batch, steps) for x in xs):
            raise ValueError(f"{type(self).__name__} '{self.name}': nested inputs must share the batch and time axes; "
                             f"got shapes {[tuple(x.shape) for x in xs]}")
        if nested and type(self)._run is not RNN._run:
            raise ValueError(f"{type(self).__name__} '{self.name}' takes one input sequence; for nested inputs use "
                             "keras.layers.RNN(cell) with a cell that takes them")
        x = xs if nested else xs[0]
        if steps == 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': the inputs have no time steps (shape "
                             f"{xs[0].shape})")
        mask = as_mask(mask)
        if mask is None:
            mask = get_keras_mask(xs[0])
        if mask is not None and mask.shape != (batch, steps):
            raise ValueError(f"{type(self).__name__} '{self.name}': the mask must have shape (batch, steps) = "
                             f"{(batch, steps)}, got {mask.shape}")
        states = self._initial_states(initial_state, batch)
        output, finals = self._run(x, states, mask, training)
        if self.stateful:
            self.states = [np.array(s.data if isinstance(s, Tensor) else s) for s in finals]
        for out in (output if isinstance(output, list) else [output]):
            if self.return_sequences and mask is not None:
                set_keras_mask(out, mask)
            if self.activity_regularizer is not None:
                self.add_loss(self.activity_regularizer(out))
        if not self.return_state:
            return tuple(output) if nested and isinstance(output, list) else output
        return [*(output if isinstance(output, list) else [output]), *_pack(finals, self.state_size)]

    def _initial_states(self, initial_state: Any, batch: int) -> list[Tensor] | None:
        """The given initial states (checked; nested ones flattened), the kept states of a stateful layer, or None
        for zeros."""
        sizes = self._state_shapes
        if initial_state is None:
            if not self.stateful:
                return None
            if self.states is None:
                self.states = [np.zeros((batch, *s), self.cell.dtype) for s in sizes]
            elif self.states[0].shape[0] != batch:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' is stateful with batch size {self.states[0].shape[0]}, "
                    f"but received a batch of {batch} sequences; use the same batch size (or reset_states())"
                )
            return [Tensor(s) for s in self.states]
        given = [to_tensor(s, self.cell.dtype) for s in flatten(initial_state)]
        if len(given) != len(sizes):
            raise ValueError(f"{type(self).__name__} '{self.name}': expected {len(sizes)} initial state(s), "
                             f"got {len(given)}")
        for s, size in zip(given, sizes):
            if s.shape != (batch, *size):
                raise ValueError(f"{type(self).__name__} '{self.name}': an initial state must have shape "
                                 f"{(batch, *size)}, got {s.shape}")
        return [s if s.dtype == self.cell.dtype else s.astype(self.cell.dtype) for s in given]

    def _run(self, x: Any, states: list[Tensor] | None, mask: np.ndarray | None,
             training: bool | None) -> tuple[Any, list[Tensor]]:
        """The generic loop: the cell once per step; masked steps keep the states and the previous output.
        The states stay a flat list here, given to the cell in the nesting of its state_size. x may be a tuple
        of sequences (nested inputs): the cell then gets a tuple of steps, and a nested output gives a list."""
        cell = self.cell
        xs = x if isinstance(x, tuple) else (x,)
        batch, steps = xs[0].shape[0], xs[0].shape[1]
        if states is None:
            states = [Tensor(np.zeros((batch, *s), cell.dtype)) for s in self._state_shapes]
        structure = self.state_size
        xts = [xi.transpose(1, 0, *range(2, xi.ndim)) for xi in xs]
        kwargs = {"training": training} if cell._accepts("training") else {}
        outputs: list[list[Tensor]] = []
        prev = zero = []
        _map_sizes(lambda tail: zero.append(Tensor(np.zeros((batch, *tail), cell.dtype))), self.output_size)
        for t in (range(steps - 1, -1, -1) if self.go_backwards else range(steps)):
            step = tuple(xt[t] for xt in xts) if isinstance(x, tuple) else xts[0][t]
            out, new = cell(step, _pack(states, structure), **kwargs)
            out, new = flatten(out), flatten(new)
            if mask is not None and not mask[:, t].all():
                new = [Where.apply(n, s, cond=_keep(mask[:, t], s)) for n, s in zip(new, states)]
                base = zero if self.zero_output_for_mask else prev
                out = [Where.apply(o, b, cond=_keep(mask[:, t], o)) for o, b in zip(out, base)]
            states, prev = new, out
            if self.return_sequences:
                outputs.append(out)
        _reset_dropout(cell)
        result = [Stack.apply(*seq, axis=1) for seq in zip(*outputs)] if self.return_sequences else prev
        return (result[0] if len(result) == 1 else result), states

    def reset_states(self, states: Any = None) -> None:
        """Zero the kept states of a stateful layer (or set them to the given arrays)."""
        if not self.stateful:
            raise AttributeError(f"{type(self).__name__} '{self.name}': reset_states() needs stateful=True")
        if states is None:
            self.states = None if self.states is None else [np.zeros_like(s) for s in self.states]
            return
        self.states = [np.array(getattr(s, "data", s), dtype=self.cell.dtype) for s in flatten(states)]

    reset_state = reset_states

    # --- config --------------------------------------------------------------------------------------
    def _rnn_config(self) -> dict[str, Any]:
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **self._rnn_config(), "cell": serialization.serialize(self.cell)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> RNN:
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = deserialize_layer(cell, custom_objects)
        return cls(cell, **config)


def deserialize_layer(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """`serialization.deserialize` that also knows the recurrent layers and cells of this module."""
    known = {c.__name__: c for c in (RNN, SimpleRNN, LSTM, GRU, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)}
    return serialization.deserialize(config, {**known, **(custom_objects or {})})


def _reset_dropout(cell: Any) -> None:
    """Clear the sequence's dropout masks of the cell (of each cell of a stack)."""
    for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
        if hasattr(cell, name):
            getattr(cell, name)()
    for sub in getattr(cell, "cells", ()):
        _reset_dropout(sub)


class _FusedRNN(RNN):
    """A recurrent layer whose cell's weights run through a fused sequence op of `shendu.ops.recurrent`."""

    cell_class: type = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    op: type = fused.SimpleRNNSequence
    cell_args: tuple[str, ...] = ()

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, activity_regularizer: Any = None, **kwargs: Any) -> None:
        cell_kwargs = {k: kwargs.pop(k) for k in self.cell_args if k in kwargs}
        kwargs.pop("implementation", None)  # Keras's implementation choices and cuDNN switch: one implementation here
        kwargs.pop("use_cudnn", None)
        cell = self.cell_class(units, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                               name=self.cell_name, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, activity_regularizer=activity_regularizer,
                         **kwargs)

    def __getattr__(self, name: str) -> Any:
        """The cell's arguments read through the layer (`lstm.units`, `lstm.dropout`, ...), as in Keras."""
        cell = self.__dict__.get("cell")
        if cell is not None and (name in type(self).cell_args or name == "units"):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _fused_activations(self) -> tuple[str, str] | None:
        """The names of the cell's activations when the fused op implements them, else None."""
        names = activations._NAMES
        act = names.get(self.cell.activation)
        ract = names.get(getattr(self.cell, "recurrent_activation", activations.sigmoid))
        if act in fused.ACTIVATIONS and ract in fused.ACTIVATIONS:
            return act, ract
        return None

    def _run(self, x: Tensor, states: list[Tensor] | None, mask: np.ndarray | None,
             training: bool | None) -> tuple[Tensor, list[Tensor]]:
        fused_call = self._fused_call(x, states, mask, training)
        if fused_call is None:
            return super()._run(x, states, mask, training)
        inputs, params = fused_call
        return self._fused_result(self.op.apply(*inputs, **params), x.shape[0], x.shape[1])

    def _fused_call(self, x: Tensor, states: list[Tensor] | None, mask: np.ndarray | None,
                    training: bool | None) -> tuple[list[Tensor], dict[str, Any]] | None:
        """The inputs and parameters of `self.op` for this call (the dropout masks drawn, in the cell loop's order),
        or None when the cell loop must run (activations the op lacks, GRU's reset_after=False)."""
        names = self._fused_activations()
        if names is None or getattr(self.cell, "reset_after", True) is False:
            return None
        cell = self.cell
        batch, features = x.shape[0], x.shape[2]
        rmask = None
        if training:  # the same masks, drawn in the same order, as the cell loop would use
            if 0.0 < cell.dropout < 1.0:
                x = x * Tensor(cell._draw((batch, features), cell.dropout, cell.dtype)[:, None, :])
            if 0.0 < cell.recurrent_dropout < 1.0:
                rmask = cell._draw((batch, cell.units), cell.recurrent_dropout, cell.dtype)
        with_states = self.return_state or self.stateful
        inputs = [x, cell.kernel, cell.recurrent_kernel]
        if cell.use_bias:
            inputs.append(cell.bias)
        inputs += states or []
        return inputs, {"activation": names[0], "recurrent_activation": names[1], "mask": mask,
                        "go_backwards": self.go_backwards, "return_sequences": self.return_sequences,
                        "return_state": with_states, "zero_output_for_mask": self.zero_output_for_mask,
                        "recurrent_mask": rmask, "has_bias": cell.use_bias, "has_state": states is not None}

    def _fused_result(self, out: Tensor, batch: int, steps: int) -> tuple[Tensor, list[Any]]:
        """(output, final states) from the op's output (batch, steps_out + states, units)."""
        cell, with_states = self.cell, self.return_state or self.stateful
        t_out = steps if self.return_sequences else 1
        n_states = len(self.state_size)
        if not with_states:
            return (out if self.return_sequences else out.reshape(batch, cell.units)), []
        y = out[:, :t_out] if self.return_sequences else out[:, 0]
        if self.return_state:
            return y, [out[:, t_out + k] for k in range(n_states)]
        return y, [out.data[:, t_out + k] for k in range(n_states)]

    def get_config(self) -> dict[str, Any]:
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config = {**Layer.get_config(self), **cell_config,
                  "activity_regularizer": regularizers.serialize(self.activity_regularizer), **self._rnn_config()}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
        return cls(**config)


_COMMON = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
           "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
           "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")


class SimpleRNN(_FusedRNN):
    """Fully connected recurrence h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)
    (activation tanh by default). Weights [kernel (features, units), recurrent_kernel (units, units), bias (units,)]."""

    cell_class = SimpleRNNCell
    op = fused.SimpleRNNSequence
    cell_args = _COMMON

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)


class LSTM(_FusedRNN):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras's formulation and layouts:
    z = x_t W + h_{t-1} U + b split into gates [i, f, c~, o]; c_t = f c_{t-1} + i tanh(c~), h_t = o tanh(c_t)
    with sigmoid i, f, o. Weights [kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,)];
    from PyTorch: kernel = weight_ih.T, recurrent_kernel = weight_hh.T, bias = bias_ih + bias_hh (same gate order).
    It runs `shendu.ops.recurrent.LSTMSequence`, which orders the gates o, i, f, c~ inside; `LSTMCell.call` is the
    same step written gate by gate in Keras's order.
    """

    cell_class = LSTMCell
    cell_name = "lstm_cell"
    op = fused.LSTMSequence
    cell_args = (*_COMMON, "recurrent_activation", "unit_forget_bias")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         unit_forget_bias=unit_forget_bias, **kwargs)


class GRU(_FusedRNN):
    """Gated recurrent unit (Cho et al. 2014), Keras's formulation: gates [z, r, h~],
    h_t = z h_{t-1} + (1 - z) h~. With reset_after=True (default, as PyTorch) the bias is (2, 3 units), input
    then recurrent; from PyTorch, reorder the gate blocks r, z, n to z, r, h and transpose the weights.
    It runs `shendu.ops.recurrent.GRUSequence` (reset_after=True; `GRUCell` step by step otherwise), which sums the
    z and r biases and reorders the input-side gradient blocks inside; `GRUCell.call` is the readable step."""

    cell_class = GRUCell
    cell_name = "gru_cell"
    op = fused.GRUSequence
    cell_args = (*_COMMON, "recurrent_activation", "reset_after")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         reset_after=reset_after, **kwargs)
