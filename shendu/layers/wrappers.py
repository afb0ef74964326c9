"""Layer wrappers: TimeDistributed (one layer applied to every time step) and Bidirectional (an RNN both ways)."""

from __future__ import annotations

from typing import Any

from shendu.keras_mask import as_mask, get_keras_mask, set_keras_mask
from shendu.layers.base import Layer
from shendu.layers.recurrent import RNN, _FusedRNN, _pack, deserialize_layer
from shendu.ops import Concatenate
from shendu.ops.concurrent import Concurrent
from shendu.tensor import Tensor


def _rebuilt(layer: Layer, **changes: Any) -> Layer:
    """A fresh copy of a layer from its config, with some entries changed."""
    return type(layer).from_config({**layer.get_config(), **changes})


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class TimeDistributed(Layer):
    """Applies `layer` to every time step of (batch, steps, ...) inputs with the same weights:
    output[:, t] = layer(inputs[:, t]). The steps are folded into the batch, so the layer runs once."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: expected a Layer instance to wrap, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def _inner_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape)
        if len(shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}': expected inputs of rank >= 3 (batch, steps, ...), "
                             f"got shape {shape}")
        return (None if shape[0] is None or shape[1] is None else shape[0] * shape[1], *shape[2:])

    def build(self, input_shape: Any) -> None:
        inner = self._inner_shape(input_shape)
        if not self.layer.built:
            self.layer.build((None, *inner[1:]))
            self.layer.built = True
        self.built = True

    def call(self, inputs: Tensor, training: bool | None = None, mask: Any = None) -> Tensor:
        self._inner_shape(inputs.shape)
        batch, steps = inputs.shape[0], inputs.shape[1]
        kwargs: dict[str, Any] = {}
        if self.layer._accepts("training"):
            kwargs["training"] = training
        mask = as_mask(mask)
        if mask is None:
            mask = get_keras_mask(inputs)
        if mask is not None and self.layer._accepts("mask"):
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        y = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        out = y.reshape(batch, steps, *y.shape[1:])
        if mask is not None:
            set_keras_mask(out, mask)
        return out

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape)
        inner = self.layer.compute_output_shape((shape[0], *shape[2:]))
        return (shape[0], shape[1], *tuple(inner)[1:])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return as_mask(mask)

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> TimeDistributed:
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer"), custom_objects), **config)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards (go_backwards) over the same inputs and merges them:
    merge_mode 'concat' (default), 'sum', 'mul', 'ave', or None for the pair [forward, backward]. With
    return_sequences the backward outputs are flipped back to input order first. Weights: forward, then backward.

    `backward_layer` gives the backward layer explicitly (it must have the opposite go_backwards). Masked steps
    output zeros when returning sequences, as in Keras. `initial_state` lists the forward states, then the backward.
    """

    MERGE_MODES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Layer | None = None, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional: expected a recurrent Layer instance to wrap, got {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"Bidirectional: backward_layer must be a Layer instance, got {backward_layer!r}")
        if merge_mode not in self.MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; expected one of {self.MERGE_MODES}")
        super().__init__(**kwargs)
        self.forward_layer = _rebuilt(layer, name=f"forward_{_without_prefix(layer.name, 'forward_')}")
        if backward_layer is None:
            backward_layer = _rebuilt(layer, name=f"backward_{_without_prefix(layer.name, 'backward_')}",
                                      go_backwards=not layer.go_backwards)
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(f"Bidirectional '{self.name}': the forward and backward layers must have different "
                             f"go_backwards, got {self.forward_layer.go_backwards} for both")
        for attr in ("stateful", "return_sequences", "return_state"):
            fwd, bwd = getattr(self.forward_layer, attr), getattr(self.backward_layer, attr)
            if fwd != bwd:
                raise ValueError(f"Bidirectional '{self.name}': the forward and backward layers must have the same "
                                 f"{attr}, got {fwd} and {bwd}")
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        self._initial_weights = weights

    def build(self, input_shape: Any) -> None:
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(input_shape)
                sub.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences: Tensor, initial_state: Any = None, mask: Any = None,
             training: bool | None = None) -> Any:
        mask = as_mask(mask)
        if mask is None:
            mask = get_keras_mask(sequences)
        fwd_state = bwd_state = None
        if initial_state is not None:
            states = list(initial_state)
            half = len(states) // 2
            fwd_state, bwd_state = states[:half], states[half:]
        pair = self._run_pair(sequences, mask, training) if initial_state is None else None
        if pair is not None:
            y, y_rev = pair
        else:
            y = self.forward_layer(sequences, initial_state=fwd_state, mask=mask, training=training)
            y_rev = self.backward_layer(sequences, initial_state=bwd_state, mask=mask, training=training)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            out: Any = Concatenate.apply(y, y_rev, axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_sequences and mask is not None:
            for t in out if isinstance(out, list) else [out]:
                set_keras_mask(t, mask)
        if self.return_state:
            return [*out, *states] if isinstance(out, list) else [out, *states]
        return out

    def _run_pair(self, sequences: Any, mask: Any, training: bool | None) -> tuple[Any, Any] | None:
        """Both directions as one `Concurrent` op (their loops side by side on two threads), giving what the two
        layers' calls give; None when a layer's own call must run (not fused recurrences with their stock calls,
        stateful, an activity regularizer, symbolic or nested inputs)."""
        subs = (self.forward_layer, self.backward_layer)
        if not (isinstance(sequences, Tensor) and sequences.ndim == 3 and self.built) or not all(
                isinstance(sub, _FusedRNN) and type(sub).call is RNN.call and type(sub)._run is _FusedRNN._run
                and sub.built and not sub.stateful and sub.activity_regularizer is None
                and sub._fused_activations() is not None and getattr(sub.cell, "reset_after", True) is not False
                for sub in subs):
            return None
        cell = self.forward_layer.cell
        x = sequences.astype(cell.dtype) if sequences.dtype != cell.dtype and sequences.dtype.kind == "f" else sequences
        batch, steps = x.shape[0], x.shape[1]
        for sub in subs:
            sub._check_shape(x.shape)
        if steps == 0 or (mask is not None and mask.shape != (batch, steps)):
            return None  # the layers' calls say what is wrong
        (ins_f, params_f), (ins_b, params_b) = (sub._fused_call(x, None, mask, training) for sub in subs)
        out = Concurrent.apply(*ins_f, *ins_b, ops=(self.forward_layer.op, self.backward_layer.op),
                               params=(params_f, params_b), split=len(ins_f))
        width = self.forward_layer.cell.units
        results = []
        for sub, part in zip(subs, (out[..., :width], out[..., width:])):
            y, finals = sub._fused_result(part, batch, steps)
            results.append([y, *_pack(finals, sub.state_size)] if sub.return_state else y)
        return results[0], results[1]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self.forward_layer.compute_output_shape(input_shape)
        states: list[Any] = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        out = as_mask(mask) if self.return_sequences else None
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(getattr(self.forward_layer, "state_size", []))
            return outputs + [None] * (2 * n)
        return outputs if self.merge_mode is None else out

    def reset_states(self) -> None:
        """Reset both directions' kept states (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self) -> dict[str, Any]:
        from shendu.saving.serialization import serialize

        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Bidirectional:
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)
