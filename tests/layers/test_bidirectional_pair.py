"""Bidirectional runs its two fused directions as one Concurrent op (side by side on two threads): outputs, states
and the gradients of the inputs and of every weight are those of the two layers called one after the other, with
masks, dropout (the same masks drawn in the same order) and every merge mode."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import GradientTape, layers, parallel
from shendu import random as sd_random
from shendu.layers.wrappers import Bidirectional
from shendu.ops.concurrent import Concurrent
from shendu.tensor import Tensor

CASES = {
    "lstm-masked-dropout": (lambda: layers.LSTM(5, dropout=0.3), "concat", True),
    "gru-sequences-sum": (lambda: layers.GRU(4, return_sequences=True, recurrent_dropout=0.2), "sum", True),
    "lstm-states-ave": (lambda: layers.LSTM(3, return_state=True, return_sequences=True), "ave", False),
    "simplernn-none": (lambda: layers.SimpleRNN(4), None, True),
}


def _run(name: str, pair: bool, monkeypatch: pytest.MonkeyPatch, modes: list | None = None) -> list[np.ndarray]:
    make, merge, masked = CASES[name]
    sd_random.seed(7)
    layer = Bidirectional(make(), merge_mode=merge)
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(6, 9, 4)).astype(np.float32), requires_grad=True)
    mask = np.ones((6, 9), bool)
    if masked:
        mask[0, 6:] = mask[3, 2:] = False
    layer.build(x.shape)
    if not pair:
        monkeypatch.setattr(Bidirectional, "_run_pair", lambda self, *args: None)
    calls = []
    monkeypatch.setattr(Concurrent, "forward", _counting(Concurrent.forward, calls, modes))
    sd_random.seed(11)
    with GradientTape() as tape:
        out = layer(x, mask=mask if masked else None, training=True)
        outs = out if isinstance(out, list) else [out]
        loss = sum((o * Tensor(rng.normal(size=o.shape).astype(np.float32))).sum() for o in outs)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    assert len(calls) == (1 if pair else 0)
    return [o.numpy() for o in outs] + [g.numpy() for g in grads]


def _counting(forward, calls, modes=None):
    def run(self, *arrays):
        calls.append(len(arrays))
        out = forward(self, *arrays)
        if modes is not None:
            modes.append(self.side_by_side)
        return out
    return run


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", sorted(CASES))
def test_pair_matches_the_two_layers_called_in_turn(name, threads, monkeypatch):
    from shendu.ops import blas, kernels

    modes: list[bool] = []
    with parallel.num_threads(threads):
        paired = _run(name, True, monkeypatch, modes)
        monkeypatch.undo()
        alone = _run(name, False, monkeypatch)
    assert len(paired) == len(alone)
    compiled = kernels.enabled() and blas.sgemm() is not None and not name.startswith("simplernn")
    assert modes == [compiled]  # side by side where both loops run without the GIL (the NumPy loops do not)
    for i, (a, b) in enumerate(zip(paired, alone)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"result {i}")


def test_initial_states_and_symbolic_inputs_keep_the_layers_own_calls(monkeypatch):
    from shendu import models

    calls = []
    monkeypatch.setattr(Concurrent, "forward", _counting(Concurrent.forward, calls))
    model = models.Sequential([layers.Input((5, 3)), Bidirectional(layers.LSTM(2))])
    assert model.output_shape == (None, 4)
    layer = Bidirectional(layers.GRU(2))
    x = np.ones((2, 5, 3), np.float32)
    states = [np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)]
    y = layer(x, initial_state=states).numpy()
    assert calls == []
    expected = np.concatenate([layer.forward_layer(x, initial_state=states[:1]).numpy(),
                               layer.backward_layer(x, initial_state=states[1:]).numpy()], axis=-1)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    model.predict(np.ones((2, 5, 3), np.float32), verbose=0)
    assert calls == [8]  # per direction: x and its three weights
