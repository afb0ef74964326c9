"""Shared helpers of the recurrent tests: PyTorch twins of SimpleRNN/LSTM/GRU with the same weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.recurrent import GRU, LSTM, SimpleRNN

LAYERS = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
N_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1}
_GRU_BLOCKS = (1, 0, 2)  # torch r, z, n <-> Keras z, r, h (the same swap both ways)


def gru_blocks(a: np.ndarray, units: int) -> np.ndarray:
    """Swap the first two gate blocks of the last axis (torch's r, z, n order <-> Keras's z, r, h)."""
    return np.concatenate([a[..., k * units:(k + 1) * units] for k in _GRU_BLOCKS], axis=-1)


def torch_twin(torch: Any, kind: str, layer: Any, bidirectional_of: Any = None) -> Any:
    """A torch.nn.RNN/LSTM/GRU (batch_first, float64) holding the weights of a built shendu layer (and, for a
    bidirectional twin, of the backward layer too)."""
    units = layer.cell.units
    features = layer.cell.kernel.shape[0]
    cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    net = cls(features, units, batch_first=True, bidirectional=bidirectional_of is not None).double()
    pairs = [("", layer)] + ([("_reverse", bidirectional_of)] if bidirectional_of is not None else [])
    with torch.no_grad():
        for suffix, src in pairs:
            w_ih, w_hh, b_ih, b_hh = to_torch_weights(kind, src)
            getattr(net, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(w_ih))
            getattr(net, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(w_hh))
            getattr(net, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(b_ih))
            getattr(net, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(b_hh))
    return net


def to_torch_weights(kind: str, layer: Any) -> tuple[np.ndarray, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) for torch from a shendu layer's Keras-layout weights."""
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    units = recurrent.shape[0]
    if kind == "gru":
        return (gru_blocks(kernel, units).T.copy(), gru_blocks(recurrent, units).T.copy(),
                gru_blocks(bias[0], units), gru_blocks(bias[1], units))
    return kernel.T.copy(), recurrent.T.copy(), bias, np.zeros_like(bias)


def keras_grads(kind: str, net: Any, suffix: str = "") -> list[np.ndarray]:
    """torch's weight gradients in Keras's layouts: [kernel, recurrent_kernel, bias]."""
    g = [getattr(net, f"{name}_l0{suffix}").grad.numpy() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    units = g[1].shape[1]
    if kind == "gru":
        return [gru_blocks(g[0].T, units), gru_blocks(g[1].T, units),
                np.stack([gru_blocks(g[2], units), gru_blocks(g[3], units)])]
    return [g[0].T, g[1].T, g[2]]


def random_layer(kind: str, units: int, features: int, seed: int = 0, **kwargs: Any) -> Any:
    """A float64 shendu layer built for `features` inputs, with random (non-default) weights."""
    layer = LAYERS[kind](units, dtype="float64", **kwargs)
    layer.build((None, None, features))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()])
    return layer
