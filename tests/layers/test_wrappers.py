"""Bidirectional (against torch's bidirectional RNNs, merge modes, states, masks) and TimeDistributed."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.keras_mask import get_keras_mask
from shendu.layers.recurrent import GRU, LSTM, SimpleRNN
from shendu.layers.wrappers import Bidirectional, TimeDistributed
from shendu.saving import serialization
from tests.layers.harness import call_with_weights, check_layer
from tests.layers.rnn_torch import LAYERS, N_STATES, keras_grads, torch_twin

SCOPE = {c.__name__: c for c in (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed)}
B, T, F, H = 2, 5, 3, 4


def _bidirectional(kind, **kwargs):
    layer = Bidirectional(LAYERS[kind](H, dtype="float64", **kwargs), dtype="float64")
    layer.build((None, None, F))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
def test_concat_matches_torch_bidirectional(torch, kind):
    layer = _bidirectional(kind, return_sequences=True, return_state=True)
    net = torch_twin(torch, kind, layer.forward_layer, bidirectional_of=layer.backward_layer)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, F))
    xs = sd.Tensor(x, requires_grad=True)
    outs = layer(xs)
    assert len(outs) == 1 + 2 * N_STATES[kind]
    weights = [rng.normal(size=o.shape) for o in outs]
    sum(((o * sd.Tensor(w)).sum() for o, w in zip(outs, weights)), sd.Tensor(0.0)).backward()

    xt = torch.tensor(x, requires_grad=True)
    y, finals = net(xt)
    finals = list(finals) if kind == "lstm" else [finals]
    expected = [y] + [f[0] for f in finals] + [f[1] for f in finals]  # forward states, then backward states
    sum(((e * torch.from_numpy(w)).sum() for e, w in zip(expected, weights))).backward()
    for got, want in zip(outs, expected):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    got_grads = [w.grad.numpy() for w in layer.weights]
    want_grads = keras_grads(kind, net) + keras_grads(kind, net, "_reverse")
    for got, want in zip(got_grads, want_grads):
        np.testing.assert_allclose(got, want, atol=1e-11)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave", None])
def test_merge_modes(mode):
    layer = Bidirectional(LSTM(H, return_sequences=True), merge_mode=mode)
    x = np.random.default_rng(2).normal(size=(B, T, F)).astype("float32")
    out = layer(x)
    fwd = layer.forward_layer(x).numpy()
    bwd = layer.backward_layer(x).numpy()[:, ::-1]
    want = {"sum": fwd + bwd, "mul": fwd * bwd, "ave": (fwd + bwd) / 2, None: None}[mode]
    if mode is None:
        np.testing.assert_allclose(out[0].numpy(), fwd, atol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), bwd, atol=1e-6)
        assert layer.compute_output_shape((None, T, F)) == [(None, T, H), (None, T, H)]
    else:
        np.testing.assert_allclose(out.numpy(), want, atol=1e-6)
        assert layer.compute_output_shape((None, T, F)) == (None, T, H)


def test_masked_bidirectional_equals_unpadded_runs_and_zeros_padding():
    layer = _bidirectional("gru", return_sequences=True)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, T, F))
    mask = np.array([[True] * T, [True, True, False, False, False]])
    out = layer(x, mask=mask)
    np.testing.assert_array_equal(get_keras_mask(out), mask)
    np.testing.assert_allclose(out.numpy()[1, :2], layer(x[1:2, :2]).numpy()[0], atol=1e-12)
    assert not out.numpy()[1, 2:].any()  # Keras forces zero outputs at masked steps inside Bidirectional
    last = Bidirectional(LSTM(H))
    xf = x.astype("float32")
    np.testing.assert_allclose(last(xf, mask=mask).numpy()[1], last(xf[1:2, :2]).numpy()[0], atol=1e-6)


def test_initial_states_split_between_directions_and_gradcheck():
    layer = _bidirectional("lstm", return_state=True)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, F))
    states = [rng.normal(size=(B, H)) for _ in range(4)]
    got = layer(x, initial_state=states)
    fwd = layer.forward_layer(x, initial_state=states[:2])
    bwd = layer.backward_layer(x, initial_state=states[2:])
    np.testing.assert_allclose(got[0].numpy(), np.concatenate([fwd[0].numpy(), bwd[0].numpy()], -1))
    for a, b in zip(got[1:], fwd[1:] + bwd[1:]):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    with serialization.custom_object_scope(SCOPE):  # the wrapped layers keep their own dtype: gradcheck below
        check_layer(Bidirectional, {"layer": GRU(2, return_sequences=True)}, input_shape=(2, 3, 2), gradcheck=False)
        check_layer(Bidirectional, {"layer": SimpleRNN(2), "merge_mode": "mul"}, input_shape=(2, 3, 2),
                    gradcheck=False)


@pytest.mark.parametrize("mode", ["concat", "mul", "ave", None])
def test_gradcheck_float64(mode):
    layer = Bidirectional(GRU(2, dtype="float64", return_sequences=True), merge_mode=mode, dtype="float64")
    x = np.random.default_rng(5).uniform(-2, 2, (2, 3, 2))
    layer(x)
    mask = np.array([[True, True, True], [True, False, False]])

    def f(xt, *weights):
        out = call_with_weights(layer, xt, weights, mask=mask)
        return out if mode is not None else out[0] * out[1]

    assert sd.gradcheck(f, [x, *[np.random.default_rng(6).uniform(-1, 1, w.shape) for w in layer.weights]])


def test_names_weights_config_and_backward_layer():
    layer = Bidirectional(LSTM(3, name="enc"))
    layer.build((None, 4, 2))
    assert layer.forward_layer.name == "forward_enc" and layer.backward_layer.name == "backward_enc"
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert len(layer.weights) == 6 and layer.weights[0] is layer.forward_layer.weights[0]
    config = layer.get_config()
    assert config["merge_mode"] == "concat" and config["layer"]["class_name"] == "LSTM"
    clone = Bidirectional.from_config(config)
    assert clone.get_config() == config
    custom = Bidirectional(LSTM(3), backward_layer=GRU(3, go_backwards=True))
    assert isinstance(custom.backward_layer, GRU)
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")


def test_time_distributed_dense_and_mask():
    with serialization.custom_object_scope(SCOPE):
        layer = check_layer(TimeDistributed, {"layer": layers.Dense(3, activation="tanh")}, input_shape=(2, 4, 5),
                            expected_output_shape=(2, 4, 3), gradcheck=False)
    inner = layers.Dense(3, activation="tanh", dtype="float64")
    wrapped = TimeDistributed(inner, dtype="float64")
    x64 = np.random.default_rng(7).normal(size=(2, 4, 5))
    wrapped(x64)
    assert sd.gradcheck(lambda xt, k, b: call_with_weights(wrapped, xt, [k, b]), [x64, *inner.get_weights()])
    x = np.random.default_rng(5).normal(size=(2, 4, 5)).astype("float32")
    out = layer(x).numpy()
    for t in range(4):
        np.testing.assert_allclose(out[:, t], layer.layer(x[:, t]).numpy(), atol=1e-6)
    mask = np.array([[True, True, False, False]] * 2)
    np.testing.assert_array_equal(get_keras_mask(layer(x, mask=mask)), mask)
    assert layer.compute_output_shape((None, None, 5)) == (None, None, 3)
    with pytest.raises(ValueError, match=r"rank >= 3.*\(None, 5\)"):
        TimeDistributed(layers.Dense(2)).build((None, 5))
    with pytest.raises(ValueError, match="Layer instance"):
        TimeDistributed("dense")


def test_time_distributed_over_images_in_a_model():
    model = sd.models.Sequential([TimeDistributed(layers.Flatten(), input_shape=(3, 4, 4, 1)),
                                  LSTM(2)])
    assert model.output_shape == (None, 2)
    assert model.predict(np.ones((2, 3, 4, 4, 1), "float32"), verbose=0).shape == (2, 2)
