"""Recurrent layers inside models: masks through Sequential and functional models, stateful layers, initial
states, shapes and configs, long sequences, weight layouts, training, and the errors for bad input."""

from __future__ import annotations

import json
import tempfile

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.keras_mask import get_keras_mask
from shendu.layers.embedding import Embedding, Masking
from shendu.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from shendu.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from shendu.layers.wrappers import Bidirectional, TimeDistributed
from shendu.saving import serialization

SCOPE = {c.__name__: c for c in (RNN, SimpleRNN, LSTM, GRU, SimpleRNNCell, LSTMCell, GRUCell, Embedding, Masking,
                                 Bidirectional, TimeDistributed)}
KINDS = (SimpleRNN, LSTM, GRU)


def _padded_ids(seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    lengths = [5, 3, 1, 4]
    ids = np.zeros((4, 6), np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(1, 20, n)
    return ids, lengths


@pytest.mark.parametrize("cls", KINDS)
def test_weight_layouts_and_default_initializers(cls):
    layer = cls(4)
    layer.build((None, 7, 3))
    gates = {SimpleRNN: 1, LSTM: 4, GRU: 3}[cls]
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (3, gates * 4) and recurrent.shape == (4, gates * 4)
    assert bias.shape == ((2, 12) if cls is GRU else (gates * 4,))
    assert [w.name for w in layer.weights] == [f"{layer.cell.name}/{n}" for n in ("kernel", "recurrent_kernel", "bias")]
    if gates == 1 or cls is LSTM:  # orthogonal columns (square blocks for the gated layers' full matrix rows)
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)
    if cls is LSTM:  # unit_forget_bias: the forget block starts at 1
        np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    else:
        assert not bias.any()


def test_embedding_mask_flows_through_sequential_and_functional_models():
    ids, lengths = _padded_ids()
    sd.random.seed(0)
    emb, rnn1, rnn2 = Embedding(20, 3, mask_zero=True), LSTM(4, return_sequences=True), GRU(5)
    seq = sd.models.Sequential([layers.Input((None,), dtype="int64"), emb, rnn1, rnn2])
    got = seq.predict(ids, verbose=0)
    inp = layers.Input((None,), dtype="int64")
    func = sd.models.Model(inp, rnn2(rnn1(emb(inp))))
    np.testing.assert_allclose(func.predict(ids, verbose=0), got, atol=1e-6)
    for i, n in enumerate(lengths):  # each sample as if it had no padding
        np.testing.assert_allclose(got[i], seq.predict(ids[i:i + 1, :n], verbose=0)[0], atol=1e-5)


def test_return_sequences_passes_the_mask_on_and_a_last_output_drops_it():
    ids, _ = _padded_ids()
    emb = Embedding(20, 3, mask_zero=True)
    x = emb(ids)
    np.testing.assert_array_equal(get_keras_mask(x), ids != 0)
    seq = LSTM(2, return_sequences=True)(x)
    np.testing.assert_array_equal(get_keras_mask(seq), ids != 0)
    assert get_keras_mask(LSTM(2)(x)) is None
    np.testing.assert_array_equal(LSTM(2, return_sequences=True).compute_mask(x, ids != 0), ids != 0)


def test_masking_layer_then_rnn_equals_unpadded_runs():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    x[0, 3:] = 0.0
    x[1, :2] = 0.0
    model = sd.models.Sequential([Masking(0.0, input_shape=(None, 2)), SimpleRNN(3)])
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got[0], model.predict(x[:1, :3], verbose=0)[0], atol=1e-6)
    np.testing.assert_allclose(got[1], model.predict(x[1:2, 2:], verbose=0)[0], atol=1e-6)


def test_masked_training_ignores_padding():
    """With a mask, the outputs and all gradients are the same whatever the padded positions hold."""
    ids, _ = _padded_ids()
    mask = ids != 0
    rng = np.random.default_rng(7)
    layer = Bidirectional(LSTM(4, dtype="float64"), merge_mode="sum", dtype="float64")
    x = rng.normal(size=(4, 6, 3))
    grads = []
    for noise in (0.0, 5.0):
        xt = x + noise * (~mask)[..., None]
        out = layer(sd.Tensor(xt), mask=mask)
        for w in layer.weights:
            w.grad = None
        (out * out).sum().backward()
        grads.append([out.numpy()] + [w.grad.numpy() for w in layer.weights])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-12)
    sd.random.seed(1)
    model = sd.models.Sequential([Embedding(20, 3, mask_zero=True), Bidirectional(LSTM(4)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(ids, np.ones((4, 2), "float32"), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all() and hist.history["loss"][1] < hist.history["loss"][0]


@pytest.mark.parametrize("cls", KINDS)
def test_stateful_layer_continues_where_the_last_batch_stopped(cls):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    whole = cls(4, return_sequences=True)
    expected = whole(x).numpy()
    layer = cls(4, return_sequences=True, stateful=True)
    layer(x[:, :1])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    got = np.concatenate([layer(x[:, :3]).numpy(), layer(x[:, 3:]).numpy()], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]).numpy(), expected[:, :3], atol=1e-6)
    with pytest.raises(ValueError, match=r"stateful with batch size 2.*batch of 1"):
        layer(x[:1])
    with pytest.raises(AttributeError, match="stateful"):
        cls(2).reset_states()


def test_initial_state_in_a_functional_model_and_return_state():
    """The tutorials' encoder-decoder: the encoder's final states start the decoder."""
    enc_in, dec_in = layers.Input((None, 3)), layers.Input((None, 2))
    enc = LSTM(4, return_state=True)
    _, h, c = enc(enc_in)
    dec = LSTM(4, return_sequences=True)
    out = dec(dec_in, initial_state=[h, c])
    model = sd.models.Model([enc_in, dec_in], out)
    assert out.shape == (None, None, 4)
    rng = np.random.default_rng(3)
    xe, xd = rng.normal(size=(2, 5, 3)).astype("float32"), rng.normal(size=(2, 4, 2)).astype("float32")
    got = model.predict([xe, xd], verbose=0)
    _, he, ce = enc(xe)
    np.testing.assert_allclose(got, dec(xd, initial_state=[he, ce]).numpy(), atol=1e-6)
    assert not np.allclose(got, dec(xd).numpy(), atol=1e-3)
    assert LSTM(4, return_state=True).compute_output_shape((None, 5, 3)) == [(None, 4), (None, 4), (None, 4)]


def test_variable_length_sequences_and_tf_keras_list_inputs():
    model = sd.models.Sequential([GRU(3, return_sequences=True, input_shape=(None, 2)), LSTM(2)])
    assert model.output_shape == (None, 2)
    for steps in (1, 4, 9):
        assert model.predict(np.ones((2, steps, 2), "float32"), verbose=0).shape == (2, 2)
    layer = SimpleRNN(3)
    x, h0 = np.ones((2, 4, 2), "float32"), np.full((2, 3), 0.5, "float32")
    np.testing.assert_allclose(layer([x, h0]).numpy(), layer(x, initial_state=h0).numpy())


def test_two_thousand_steps_train_without_recursion():
    """BPTT is an iterative loop: a 2,000-step sequence trains (and its gradient reaches the first step)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 2000, 3)).astype("float32")
    model = sd.models.Sequential([LSTM(8, return_sequences=True, input_shape=(None, 3)), GRU(4),
                                  layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, np.ones((2, 1), "float32"), epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    adder = SimpleRNN(2, activation="linear", use_bias=False)  # h_T = sum of x_t: d h_T / d x_0 = 1
    adder.build((None, None, 3))
    adder.set_weights([np.ones((3, 2)), np.eye(2)])
    xt = sd.Tensor(x[:1], requires_grad=True)
    adder(xt).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), 2.0)
    looped = RNN(SimpleRNNCell(2), input_shape=(None, 3))
    xt = sd.Tensor(x[:1, :2000], requires_grad=True)
    looped(xt).sum().backward()
    assert np.isfinite(xt.grad.numpy()).all()


def test_lstm_learns_to_sum_a_sequence():
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (256, 8, 1)).astype("float32")
    y = x.sum(axis=1)
    sd.random.seed(2)
    model = sd.models.Sequential([LSTM(16, input_shape=(8, 1)), layers.Dense(1)])
    model.compile(optimizer=sd.optimizers.Adam(0.02), loss="mse")
    hist = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.05 * hist.history["loss"][0]


@pytest.mark.parametrize("cls", KINDS)
def test_errors_name_the_layer_and_the_shapes(cls):
    layer = cls(3, name="my_rnn")
    with pytest.raises(ValueError, match=r"my_rnn.*rank 3.*\(4, 5\)"):
        layer(np.ones((4, 5), "float32"))
    layer(np.ones((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"my_rnn.*3 features.*\(2, 5, 4\)"):
        layer(np.ones((2, 5, 4), "float32"))
    with pytest.raises(ValueError, match=r"my_rnn.*initial state.*\(2, 3\).*\(2, 4\)"):
        layer(np.ones((2, 5, 3), "float32"), initial_state=[np.ones((2, 4), "float32")] * len(layer.state_size))
    with pytest.raises(ValueError, match=r"my_rnn.*mask.*\(2, 5\)"):
        layer(np.ones((2, 5, 3), "float32"), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        cls(0)
    with pytest.raises(ValueError, match=r"rank 3"):
        sd.models.Sequential([cls(2, input_shape=(5,))])


def test_configs_match_keras_keys_and_round_trip_in_saved_models():
    lstm = LSTM(4, return_sequences=True, dropout=0.1, go_backwards=True)
    config = lstm.get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias", "dropout", "recurrent_dropout",
                "seed", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                "zero_output_for_mask", "activity_regularizer"):
        assert key in config
    assert "cell" not in config and GRU(2).get_config()["reset_after"] is True
    assert "cell" in RNN(LSTMCell(2)).get_config()
    ids, _ = _padded_ids()
    model = sd.models.Sequential([Embedding(20, 3, mask_zero=True), Bidirectional(LSTM(4, return_sequences=True)),
                                  TimeDistributed(layers.Dense(2)), RNN(GRUCell(3)), layers.Dense(1)])
    want = model.predict(ids, verbose=0)
    with serialization.custom_object_scope(SCOPE), tempfile.TemporaryDirectory() as folder:
        model.save(f"{folder}/m.shendu")
        loaded = sd.models.load_model(f"{folder}/m.shendu")
        clone = sd.models.Sequential.from_config(json.loads(json.dumps(model.get_config())))
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), want)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(ids, verbose=0), want, atol=1e-6)


def test_unsupported_activation_falls_back_to_the_cell_loop():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 4, 3))
    layer = LSTM(3, activation="gelu", dtype="float64")
    loop = RNN(LSTMCell(3, activation="gelu", dtype="float64"), dtype="float64")
    layer.build((None, 4, 3))
    loop.build((None, 4, 3))
    loop.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x).numpy(), loop(x).numpy(), atol=1e-12)
    hard = SimpleRNN(3, activation="relu", dtype="float64")
    hard.build((None, 4, 3))
    soft = RNN(SimpleRNNCell(3, activation="relu", dtype="float64"), dtype="float64")
    soft.build((None, 4, 3))
    soft.set_weights(hard.get_weights())
    np.testing.assert_allclose(hard(x).numpy(), soft(x).numpy(), atol=1e-12)


def test_rnn_rejects_objects_that_are_not_cells():
    with pytest.raises(ValueError, match="state_size"):
        RNN(layers.Dense(3))
