"""Recurrent cells: one time step of SimpleRNN, LSTM and GRU as Keras defines them, in ordinary Tensor ops.

A cell owns the weights (Keras's layouts: kernel (features, gates * units), recurrent_kernel (units, gates * units),
bias) and computes `output, new_states = cell(x_t, states)`. `RNN(cell)` runs any cell over a sequence; the
SimpleRNN, LSTM and GRU layers run the same weights through the fused ops of `shendu.ops.recurrent`, which
reorder the gates inside (LSTM: o, i, f, c~), so read the cells here for the formulas and that module for the speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import activations, constraints, initializers, regularizers
from shendu import random as sd_random
from shendu.layers.base import Layer
from shendu.ops import nn
from shendu.tensor import Tensor


class DropoutRNNCell(Layer):
    """Dropout shared by all steps of a sequence (Gal & Ghahramani): one mask for the inputs and one for the
    recurrent state are drawn per sequence and reused at every step, then cleared by the RNN layer."""

    def __init__(self, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self._dropout_mask: np.ndarray | None = None
        self._recurrent_dropout_mask: np.ndarray | None = None

    def _draw(self, shape: tuple[int, ...], rate: float, dtype: Any) -> np.ndarray:
        """Inverted-dropout mask: 1 / (1 - rate) where kept, 0 where dropped."""
        rng = self._rng if self._rng is not None else sd_random.generator()
        return (rng.random(shape) >= rate).astype(dtype) * dtype.type(1.0 / (1.0 - rate))

    def get_dropout_mask(self, step_input: Any) -> np.ndarray | None:
        """The inputs' mask (batch, features) for this sequence, drawn on first use; None without dropout."""
        if self._dropout_mask is None and 0.0 < self.dropout < 1.0:
            self._dropout_mask = self._draw(step_input.shape, self.dropout, step_input.dtype)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state: Any) -> np.ndarray | None:
        """The recurrent state's mask (batch, units) for this sequence; None without recurrent dropout."""
        if self._recurrent_dropout_mask is None and 0.0 < self.recurrent_dropout < 1.0:
            self._recurrent_dropout_mask = self._draw(state.shape, self.recurrent_dropout, state.dtype)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None

    def _dropped(self, x: Tensor, h: Tensor, training: bool | None) -> tuple[Tensor, Tensor]:
        """The step's input and recurrent state with this sequence's dropout masks applied while training."""
        if not training:
            return x, h
        dp, rdp = self.get_dropout_mask(x), self.get_recurrent_dropout_mask(h)
        return (x if dp is None else x * Tensor(dp)), (h if rdp is None else h * Tensor(rdp))


class _GatedCell(DropoutRNNCell):
    """Arguments and weights shared by the three cells; `gates` blocks of `units` columns in each weight."""

    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape: Any) -> None:
        features = tuple(input_shape)[-1]
        if features is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the last axis of the inputs must be known, "
                             f"got shape {tuple(input_shape)}")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (features, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                initializer=_c_order(self.recurrent_initializer),
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _bias_init(self) -> Any:
        return self.bias_initializer

    def get_initial_state(self, batch_size: int) -> list[Tensor]:
        """Zero states, one (batch_size, size) tensor per state."""
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [Tensor(np.zeros((batch_size, s), self.dtype)) for s in sizes]

    def _projection(self, x: Tensor, bias: Any) -> Tensor:
        return nn.Linear.apply(x, self.kernel) if bias is None else nn.Linear.apply(x, self.kernel, bias)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _c_order(init: Any) -> Any:
    """The initializer with its values in C order (Orthogonal gives a transposed, Fortran-ordered array)."""

    def contiguous(shape: Any, dtype: Any = None) -> np.ndarray:
        return np.ascontiguousarray(init(shape, dtype=dtype))

    return contiguous


def _first(states: Any) -> Tensor:
    return states[0] if isinstance(states, (list, tuple)) else states


class SimpleRNNCell(_GatedCell):
    """h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel); the output is h_t."""

    def call(self, inputs: Tensor, states: Any, training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        x, h = self._dropped(inputs, _first(states), training)
        y = self.activation(self._projection(x, self.bias) + h @ self.recurrent_kernel)
        return y, [y]


class LSTMCell(_GatedCell):
    """[i, f, c~, o] = z = x_t W + h_{t-1} U + b (gate blocks in this order, as Keras), i, f, o through the recurrent
    activation and c~ through the activation; c_t = f c_{t-1} + i c~, h_t = o activation(c_t). States [h, c].

    unit_forget_bias=True starts the forget gate's bias at 1 (Jozefowicz et al. 2015), as Keras does.
    This is the readable reference, which `RNN(LSTMCell(n))` runs; the `LSTM` layer runs the same weights through
    `shendu.ops.recurrent.LSTMSequence` instead, with the gate blocks reordered to o, i, f, c~ inside (tested equal).
    """

    gates = 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> Any:
        return [self.units, self.units]

    def _bias_init(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, n = self.bias_initializer, self.units

        def forget_one(shape: Any, dtype: Any = None) -> np.ndarray:
            return np.concatenate([init((n,), dtype=dtype), np.ones((n,), dtype), init((2 * n,), dtype=dtype)])

        return forget_one

    def call(self, inputs: Tensor, states: Any, training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        x, h = self._dropped(inputs, states[0], training)
        n, act, ract = self.units, self.activation, self.recurrent_activation
        z = self._projection(x, self.bias) + h @ self.recurrent_kernel
        i, f, g, o = ract(z[:, :n]), ract(z[:, n:2 * n]), act(z[:, 2 * n:3 * n]), ract(z[:, 3 * n:])
        c = f * states[1] + i * g
        h = o * act(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_GatedCell):
    """[z, r, h~] gate blocks (Keras's order): z, r = recurrent_activation(x W_zr + h U_zr + biases),
    h~ = activation(x W_h + r (h U_h + b'_h)) with reset_after=True (Keras's default, PyTorch's GRU), or
    activation(x W_h + (r h) U_h + b_h) with reset_after=False; h_t = z h_{t-1} + (1 - z) h~.

    With reset_after the bias has shape (2, 3 units): the input bias, then the recurrent bias.
    This is the readable reference, which `RNN(GRUCell(n))` runs; the `GRU` layer runs the same weights through
    `shendu.ops.recurrent.GRUSequence` instead (reset_after=True; the z and r biases summed, the input-side
    gradient blocks reordered to h~, z, r inside; tested equal), and this cell only for reset_after=False.
    """

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 reset_after: bool = True, **kwargs: Any) -> None:
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs: Tensor, states: Any, training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        h_prev = _first(states)
        x, h = self._dropped(inputs, h_prev, training)
        n, act, ract, u = self.units, self.activation, self.recurrent_activation, self.recurrent_kernel
        if self.reset_after:
            mx = self._projection(x, None if self.bias is None else self.bias[0])
            mh = h @ u if self.bias is None else h @ u + self.bias[1]
            z = ract(mx[:, :n] + mh[:, :n])
            r = ract(mx[:, n:2 * n] + mh[:, n:2 * n])
            hh = act(mx[:, 2 * n:] + r * mh[:, 2 * n:])
        else:
            mx = self._projection(x, self.bias)
            mh = h @ u[:, :2 * n]
            z = ract(mx[:, :n] + mh[:, :n])
            r = ract(mx[:, n:2 * n] + mh[:, n:])
            hh = act(mx[:, 2 * n:] + (r * h) @ u[:, 2 * n:])
        h_new = z * h_prev + (1 - z) * hh
        return h_new, [h_new]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
