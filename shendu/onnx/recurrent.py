"""SimpleRNN, LSTM, GRU and Bidirectional as ONNX's RNN, LSTM and GRU ops, with the gate blocks reordered
(Keras's LSTM i, f, c~, o is ONNX's i, o, f, c~; GRU's z, r, h~ is the same in both, reset_after=True being
linear_before_reset=1).

go_backwards reverses the steps before a forward op, so the outputs come in Keras's order (the order read). A
Keras mask of any pattern is exact: the unmasked steps of each sequence are gathered to the front (a stable
sort by TopK), the op runs with `sequence_lens`, and each step's output is gathered back from the last unmasked
step at or before it (zeros before the first, or at every masked step with zero_output_for_mask).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.recurrent import GRU, LSTM, SimpleRNN
from shendu.layers.wrappers import Bidirectional
from shendu.onnx.activations import activation_name
from shendu.onnx.graph import Call, OnnxGraph, Value, weight
from shendu.onnx.registry import ExportError, converts

# Keras name -> (ONNX's name in the recurrent ops' `activations`, alpha, beta)
_RNN_ACTIVATIONS: dict[str, tuple[str, float | None, float | None]] = {
    "sigmoid": ("Sigmoid", None, None), "tanh": ("Tanh", None, None), "relu": ("Relu", None, None),
    "hard_sigmoid": ("HardSigmoid", 1.0 / 6.0, 0.5), "linear": ("Affine", 1.0, 0.0),
    "softsign": ("Softsign", None, None), "softplus": ("Softplus", None, None), "elu": ("Elu", 1.0, None),
}
_LSTM_ORDER = (0, 3, 1, 2)  # ONNX's i, o, f, c~ taken from Keras's i, f, c~, o


def _blocks(a: np.ndarray, units: int, order: tuple[int, ...], axis: int = -1) -> np.ndarray:
    parts = np.split(a, a.shape[axis] // units, axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def _activation_attrs(layer: Any, fns: list[Any], who: str) -> dict[str, Any]:
    names, alphas, betas = [], [], []
    for fn in fns:
        key = activation_name(fn)
        if key not in _RNN_ACTIVATIONS:
            raise ExportError(f"ONNX export: {who} uses the activation {key or fn!r}, which ONNX's recurrent ops do "
                              f"not have (they have {sorted(_RNN_ACTIVATIONS)})")
        onnx_name, alpha, beta = _RNN_ACTIVATIONS[key]
        names.append(onnx_name)
        alphas += [] if alpha is None else [alpha]
        betas += [] if beta is None else [beta]
    return {"activations": names, "activation_alpha": alphas or None, "activation_beta": betas or None}


def _weights(layer: Any) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    """The ONNX op, W, R, B (one direction) and attributes for a SimpleRNN, LSTM or GRU layer."""
    cell, units = layer.cell, layer.cell.units
    kernel, rec = weight(cell.kernel).T, weight(cell.recurrent_kernel).T
    bias = weight(cell.bias) if cell.bias is not None else None
    if isinstance(layer, LSTM):
        kernel, rec = _blocks(kernel, units, _LSTM_ORDER, 0), _blocks(rec, units, _LSTM_ORDER, 0)
        b = None if bias is None else np.concatenate([_blocks(bias, units, _LSTM_ORDER), np.zeros_like(bias)])
        return "LSTM", kernel, rec, b, {}
    if isinstance(layer, GRU):
        if bias is None:
            b = None
        elif cell.reset_after:
            b = bias.reshape(-1)
        else:
            b = np.concatenate([bias, np.zeros_like(bias)])
        return "GRU", kernel, rec, b, {"linear_before_reset": int(cell.reset_after)}
    b = None if bias is None else np.concatenate([bias, np.zeros_like(bias)])
    return "RNN", kernel, rec, b, {}


def _check(layer: Any, who: str) -> None:
    if layer.stateful:
        raise ExportError(f"ONNX export: {who} is stateful; export a copy with stateful=False (the states of the "
                          "last batch would be baked in)")


def _time_index(g: OnnxGraph, mask: str, hint: str) -> str:
    """0, 1, ..., T-1 in each row of a (batch, T) int64 tensor shaped as the mask."""
    ones = g.op("Add", [g.op("Mul", [mask, g.const(0, f"{hint}/zero", "int64")], f"{hint}/zeros"),
                        g.const(1, f"{hint}/one", "int64")], f"{hint}/ones")
    return g.op("Sub", [g.op("CumSum", [ones, g.const(1, f"{hint}/axis", "int64")], f"{hint}/count"),
                        g.const(1, f"{hint}/one_b", "int64")], f"{hint}/t")


def _gather_steps(g: OnnxGraph, x: str, index: str, hint: str) -> str:
    """y[b, t] = x[b, index[b, t]] for x (batch, T, features)."""
    full = g.op("Expand", [g.unsqueeze(index, [-1], f"{hint}/unsq"), g.op("Shape", [x], f"{hint}/shape")],
                f"{hint}/index")
    return g.op("GatherElements", [x, full], hint, axis=1)


def run_rnn(g: OnnxGraph, layer: Any, x: Value, mask: str | None, initial: list[str] | None,
            hint: str) -> tuple[str | None, str, list[str]]:
    """(the sequence of outputs in Keras's order, or None without return_sequences; the last output; the final
    states) of one recurrent layer."""
    who = f"layer '{layer.name}' ({type(layer).__name__})"
    _check(layer, who)
    op, w, r, b, attrs = _weights(layer)
    cell, units = layer.cell, layer.cell.units
    acts = [cell.activation] if op == "RNN" else [cell.recurrent_activation, cell.activation]
    if op == "LSTM":
        acts.append(cell.activation)
    attrs.update(_activation_attrs(layer, acts, who))
    xs = x.name if x.dtype == g.float else g.cast(x.name, g.float, f"{hint}/cast")
    if layer.go_backwards:
        xs = g.reverse(xs, 1, f"{hint}/backwards")
        mask = None if mask is None else g.reverse(mask, 1, f"{hint}/mask_backwards")
    lens = count = None
    if mask is not None:
        m = g.cast(mask, "int64", f"{hint}/mask_int")
        t = _time_index(g, m, hint)
        key = g.op("Sub", [g.op("Mul", [m, g.const(1 << 32, f"{hint}/big", "int64")], f"{hint}/lift"), t],
                   f"{hint}/key")
        steps = g.slice(g.op("Shape", [xs], f"{hint}/xshape"), [1], [2], [0], f"{hint}/steps")
        _, order = g.op("TopK", [g.cast(key, "float64", f"{hint}/keyf"), steps], f"{hint}/order", outputs=2,
                        axis=1, largest=1, sorted=1)
        xs = _gather_steps(g, xs, order, f"{hint}/packed")
        lens = g.cast(g.reduce("ReduceSum", m, [1], f"{hint}/lens64", keepdims=False), "int32", f"{hint}/lens")
        count = g.op("CumSum", [m, g.const(1, f"{hint}/cum_axis", "int64")], f"{hint}/seen")
    time_major = g.transpose(xs, [1, 0, 2], f"{hint}/time_major")
    inputs = [time_major, g.const(w[None], f"{hint}/W"), g.const(r[None], f"{hint}/R"),
              None if b is None else g.const(b[None], f"{hint}/B"), lens]
    for s in initial or []:
        inputs.append(g.unsqueeze(s, [0], f"{hint}/initial"))
    while inputs and inputs[-1] is None:
        inputs.pop()
    outs = g.op(op, inputs, f"{hint}/{op.lower()}", outputs=3 if op == "LSTM" else 2, hidden_size=units,
                direction="forward", **attrs)
    states = [g.squeeze(s, [0], f"{hint}/state") for s in outs[1:]]
    if not layer.return_sequences:
        return None, states[0], states
    seq = g.transpose(g.squeeze(outs[0], [1], f"{hint}/y"), [1, 0, 2], f"{hint}/sequence")
    if mask is not None:
        last_seen = g.op("Max", [g.op("Sub", [count, g.const(1, f"{hint}/one_c", "int64")], f"{hint}/prev"),
                                 g.const(0, f"{hint}/zero_c", "int64")], f"{hint}/source")
        gathered = _gather_steps(g, seq, last_seen, f"{hint}/unpacked")
        keep = mask if layer.zero_output_for_mask else g.op(
            "Greater", [count, g.const(0, f"{hint}/zero_d", "int64")], f"{hint}/started")
        seq = g.op("Where", [g.unsqueeze(keep, [-1], f"{hint}/keep"), gathered, g.const(0.0, f"{hint}/zero_f")],
                   f"{hint}/masked_sequence")
    return seq, states[0], states


def _mask_of(call: Call) -> str | None:
    given = call.kwargs.get("mask")
    if isinstance(given, Value):
        return given.name
    return call.x.mask


def _initial(call: Call) -> list[str] | None:
    """The initial states: `initial_state=` or the inputs after the sequence (tf.keras's [x, h, c])."""
    given = call.kwargs.get("initial_state")
    if given is not None:
        states = given if isinstance(given, (list, tuple)) else [given]
        return [s.name for s in states]
    return [v.name for v in call.inputs[1:]] or None


@converts(SimpleRNN, LSTM, GRU)
def _recurrent(g: OnnxGraph, call: Call) -> list[str]:
    layer, mask = call.layer, _mask_of(call)
    seq, last, states = run_rnn(g, layer, call.x, mask, _initial(call), layer.name)
    out = seq if layer.return_sequences else last
    call.masks = [mask if layer.return_sequences else None] + [None] * (len(states) if layer.return_state else 0)
    return [out, *states] if layer.return_state else [out]


@converts(Bidirectional)
def _bidirectional(g: OnnxGraph, call: Call) -> list[str]:
    """The forward and backward layers, the backward sequence flipped back to input order, then merged."""
    layer, mask = call.layer, _mask_of(call)
    for sub in (layer.forward_layer, layer.backward_layer):
        if type(sub) not in (SimpleRNN, LSTM, GRU):
            raise ExportError(f"ONNX export: {call.who()} wraps {type(sub).__name__}; the export knows "
                              "Bidirectional over SimpleRNN, LSTM and GRU")
    initial = _initial(call)
    half = None if initial is None else len(initial) // 2
    fwd = run_rnn(g, layer.forward_layer, call.x, mask, None if initial is None else initial[:half],
                  f"{layer.name}/forward")
    bwd = run_rnn(g, layer.backward_layer, call.x, mask, None if initial is None else initial[half:],
                  f"{layer.name}/backward")
    if layer.return_sequences:
        y, y_rev = fwd[0], g.reverse(bwd[0], 1, f"{layer.name}/backward_in_order")
    else:
        y, y_rev = fwd[1], bwd[1]
    mode, hint = layer.merge_mode, layer.name
    if mode == "concat":
        outs = [g.op("Concat", [y, y_rev], hint, axis=-1)]
    elif mode == "sum":
        outs = [g.op("Add", [y, y_rev], hint)]
    elif mode == "mul":
        outs = [g.op("Mul", [y, y_rev], hint)]
    elif mode == "ave":
        outs = [g.op("Mul", [g.op("Add", [y, y_rev], f"{hint}/sum"), g.const(0.5, f"{hint}/half")], hint)]
    else:
        outs = [y, y_rev]
    seq_mask = mask if layer.return_sequences else None
    states = [*fwd[2], *bwd[2]] if layer.return_state else []
    call.masks = [seq_mask] * len(outs) + [None] * len(states)
    return [*outs, *states]
