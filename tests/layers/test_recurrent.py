"""SimpleRNN, LSTM and GRU against torch.nn.RNN/LSTM/GRU with the same weights (outputs, final states and the
gradients of inputs, initial states and every weight), with go_backwards, masks and initial states; gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from shendu.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from shendu.saving import serialization
from tests.layers.harness import check_layer
from tests.layers.rnn_torch import N_STATES, keras_grads, random_layer, torch_twin

KINDS = ("simple_rnn", "lstm", "gru")
B, T, F, H = 3, 6, 4, 5
SCOPE = {c.__name__: c for c in (RNN, SimpleRNN, LSTM, GRU, SimpleRNNCell, LSTMCell, GRUCell)}


def _run_shendu(layer, x, states, mask=None):
    """The layer's outputs [y, *final states] and the tensors whose gradients the tests read."""
    xt = sd.Tensor(x, requires_grad=True)
    st = [sd.Tensor(s, requires_grad=True) for s in states]
    outs = layer(xt, initial_state=st, mask=mask)
    return outs, xt, st


def _torch_states(torch, kind, states):
    ts = [torch.tensor(s[None], requires_grad=True) for s in states]
    return (ts[0], ts[1]) if kind == "lstm" else ts[0], ts


def _torch_outputs(kind, out):
    """torch's (output, h_n[, c_n]) as [output, h, (c)] without the layer axis."""
    y, hn = out
    return [y, hn[0][0], hn[1][0]] if kind == "lstm" else [y, hn[0]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_matches_torch_forward_and_backward(torch, kind, go_backwards, return_sequences):
    rng = np.random.default_rng(1)
    layer = random_layer(kind, H, F, go_backwards=go_backwards, return_sequences=return_sequences, return_state=True)
    net = torch_twin(torch, kind, layer)
    x = rng.normal(size=(B, T, F))
    states = [rng.normal(size=(B, H)) for _ in range(N_STATES[kind])]
    outs, xs, ss = _run_shendu(layer, x, states)
    weights = [rng.normal(size=o.shape) for o in outs]
    sum(((o * sd.Tensor(w)).sum() for o, w in zip(outs, weights)), sd.Tensor(0.0)).backward()

    xt = torch.tensor(x, requires_grad=True)
    init, leaves = _torch_states(torch, kind, states)
    y, *finals = _torch_outputs(kind, net(xt.flip(1) if go_backwards else xt, init))
    if not return_sequences:
        y = y[:, -1]
    expected = [y, *finals]
    sum(((e * torch.from_numpy(w)).sum() for e, w in zip(expected, weights))).backward()

    for got, want in zip(outs, expected):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    for s, leaf in zip(ss, leaves):
        np.testing.assert_allclose(s.grad.numpy(), leaf.grad.numpy()[0], atol=1e-12)
    for w, g in zip(layer.weights, keras_grads(kind, net)):
        np.testing.assert_allclose(w.grad.numpy(), g, atol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_masked_steps_match_unpadded_torch_runs(torch, kind, padding):
    """Padded steps keep the state and repeat the previous output (zero before the first real step): each
    sample gives what torch computes on its unpadded steps, and the gradients sum over the samples."""
    rng = np.random.default_rng(2)
    lengths = [T, 4, 1]
    mask = np.zeros((B, T), bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
    if padding == "pre":
        mask = mask[:, ::-1].copy()
    layer = random_layer(kind, H, F, return_sequences=True, return_state=True)
    net = torch_twin(torch, kind, layer)
    x = rng.normal(size=(B, T, F))
    states = [rng.normal(size=(B, H)) for _ in range(N_STATES[kind])]
    outs, xs, ss = _run_shendu(layer, x, states, mask=mask)
    weights = [rng.normal(size=o.shape) for o in outs]
    sum(((o * sd.Tensor(w)).sum() for o, w in zip(outs, weights)), sd.Tensor(0.0)).backward()

    xt = torch.tensor(x, requires_grad=True)
    leaves_all = []
    total = 0
    for i, n in enumerate(lengths):
        steps = slice(0, n) if padding == "post" else slice(T - n, T)
        init, leaves = _torch_states(torch, kind, [s[i:i + 1] for s in states])
        leaves_all.append(leaves)
        y, *finals = _torch_outputs(kind, net(xt[i:i + 1, steps], init))
        if padding == "post":  # padded outputs repeat the last real output
            full = torch.cat([y[0], y[0, -1:].expand(T - n, H)])
        else:  # padded outputs before the first real step are zero
            full = torch.cat([torch.zeros(T - n, H, dtype=y.dtype), y[0]])
        expected = [full, *[f[0] for f in finals]]
        for got, want in zip(outs, expected):
            np.testing.assert_allclose(got.numpy()[i], want.detach().numpy(), atol=1e-12)
        total = total + sum((e * torch.from_numpy(w[i])).sum() for e, w in zip(expected, weights))
    total.backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    assert np.all(xs.grad.numpy()[~mask] == 0)
    for k, s in enumerate(ss):
        want = np.concatenate([leaves[k].grad.numpy()[0] for leaves in leaves_all])
        np.testing.assert_allclose(s.grad.numpy(), want, atol=1e-12)
    for w, g in zip(layer.weights, keras_grads(kind, net)):
        np.testing.assert_allclose(w.grad.numpy(), g, atol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_loop_matches_fused_layer(kind):
    """RNN(cell) runs the cell step by step in Tensor ops: same outputs and gradients as the fused layer."""
    rng = np.random.default_rng(3)
    fused = random_layer(kind, H, F, return_sequences=True, return_state=True, go_backwards=True)
    loop = RNN(type(fused.cell)(H, dtype="float64"), return_sequences=True, return_state=True, go_backwards=True,
               dtype="float64")
    loop.build((None, None, F))
    loop.set_weights(fused.get_weights())
    x = rng.normal(size=(B, T, F))
    mask = rng.random((B, T)) > 0.3
    results = []
    for layer in (fused, loop):
        xt = sd.Tensor(x, requires_grad=True)
        outs = layer(xt, mask=mask)
        sum(((o * (k + 1)).sum() for k, o in enumerate(outs)), sd.Tensor(0.0)).backward()
        results.append(([o.numpy() for o in outs], xt.grad.numpy(), [w.grad.numpy() for w in layer.weights]))
    (o1, gx1, gw1), (o2, gx2, gw2) = results
    for a, b in zip([*o1, gx1, *gw1], [*o2, gx2, *gw2]):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_dropout_is_the_cell_loops_dropout(kind):
    """While training, the fused layers draw the same per-sequence masks as the cell loop (same seed)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, F))
    outs = []
    for fused in (True, False):
        cls = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[kind]
        kwargs = dict(dropout=0.3, recurrent_dropout=0.4, seed=7, dtype="float64")
        layer = cls(H, **kwargs) if fused else RNN(type(cls(1).cell)(H, **kwargs), dtype="float64")
        layer.build((None, None, F))
        layer.set_weights([np.full(w.shape, 0.1) + 0.01 * np.arange(w.size).reshape(w.shape) % 0.3
                           for w in layer.get_weights()])
        outs.append((layer(x, training=True).numpy(), layer(x).numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-12)
    assert not np.allclose(outs[0][0], outs[0][1])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "go_backwards": True}])
def test_layer_harness(kind, kwargs):
    cls = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[kind]
    with serialization.custom_object_scope(SCOPE):
        check_layer(cls, {"units": 3, **kwargs}, input_shape=(2, 4, 3))


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_with_mask_and_initial_state(kind):
    """Finite differences agree with BPTT for inputs, both states and all weights under a mask."""
    layer = random_layer(kind, 3, 2, return_sequences=True)
    rng = np.random.default_rng(5)
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    x = rng.normal(size=(2, 4, 2))
    states = [rng.normal(size=(2, 3)) for _ in range(N_STATES[kind])]
    n = len(states)

    def f(xt, *rest):
        init, weights = rest[:n], rest[n:]
        from tests.layers.harness import call_with_weights

        return call_with_weights(layer, xt, weights, initial_state=list(init), mask=mask)

    assert sd.gradcheck(f, [x, *states, *[w.data for w in layer.weights]])


def test_generic_cells_through_the_harness():
    with serialization.custom_object_scope(SCOPE):
        for cell in (SimpleRNNCell(3), LSTMCell(3), GRUCell(3, reset_after=False)):
            check_layer(RNN, {"cell": cell, "return_sequences": True}, input_shape=(2, 3, 2), gradcheck=False)


def test_gru_reset_before_matches_keras_formula():
    """reset_after=False: h~ = tanh(x W_h + (r * h) U_h + b_h), the original GRU (Cho et al.)."""
    rng = np.random.default_rng(6)
    layer = GRU(3, reset_after=False, dtype="float64", return_sequences=True)
    layer.build((None, None, 2))
    kernel, rec, bias = (rng.normal(size=w.shape) for w in layer.get_weights())
    layer.set_weights([kernel, rec, bias])
    assert bias.shape == (9,)
    x = rng.normal(size=(2, 4, 2))
    h = np.zeros((2, 3))
    expected = []
    for t in range(4):
        mx = x[:, t] @ kernel + bias
        z = 1 / (1 + np.exp(-(mx[:, :3] + h @ rec[:, :3])))
        r = 1 / (1 + np.exp(-(mx[:, 3:6] + h @ rec[:, 3:6])))
        hh = np.tanh(mx[:, 6:] + (r * h) @ rec[:, 6:])
        h = z * h + (1 - z) * hh
        expected.append(h)
    np.testing.assert_allclose(layer(x).numpy(), np.stack(expected, 1), atol=1e-12)
