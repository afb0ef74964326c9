"""StackedRNNCells and RNN over a list of cells: the same numbers as the equivalent stack of layers, Keras's
nesting of the states, gradients, training, configs, saving, and the Keras names."""

from __future__ import annotations

import json
import tempfile

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from shendu.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from shendu.layers.stacked_rnn_cells import StackedRNNCells
from tests.layers.harness import call_with_weights, check_save_load

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 2)).astype("float32")
MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)


def _layered_twin(stacked: RNN) -> tuple[LSTM, LSTM]:
    """LSTM(8, return_sequences=True) -> LSTM(4) holding the weights of RNN([LSTMCell(8), LSTMCell(4)])."""
    first = LSTM(8, return_sequences=True, return_state=True)
    second = LSTM(4, return_sequences=stacked.return_sequences, return_state=True)
    first.build((None, None, 2))
    second.build((None, None, 8))
    weights = stacked.get_weights()
    assert [w.shape for w in weights] == [(2, 32), (8, 32), (32,), (8, 16), (4, 16), (16,)]
    first.set_weights(weights[:3])
    second.set_weights(weights[3:])
    return first, second


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("mask", [None, MASK])
def test_stacked_lstm_cells_equal_two_lstm_layers(return_sequences, mask):
    stacked = RNN([LSTMCell(8), LSTMCell(4)], return_sequences=return_sequences, return_state=True)
    out, (h1, c1), (h2, c2) = stacked(X, mask=mask)
    first, second = _layered_twin(stacked)
    seq, h1_want, c1_want = first(X, mask=mask)
    want, h2_want, c2_want = second(seq, mask=mask)
    assert out.shape == ((3, 5, 4) if return_sequences else (3, 4))
    for got, expected in ((out, want), (h1, h1_want), (c1, c1_want), (h2, h2_want), (c2, c2_want)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)
    if mask is not None:  # padding does not matter: the padded steps keep every cell's state
        noisy = X + 3.0 * (~mask)[..., None]
        np.testing.assert_allclose(stacked(noisy, mask=mask)[0].numpy(), out.numpy(), atol=1e-6)


def test_keras_nesting_of_state_size_shapes_and_initial_states():
    stacked = RNN([LSTMCell(8), LSTMCell(4)], return_state=True)
    assert isinstance(stacked.cell, StackedRNNCells)
    assert stacked.state_size == [[8, 8], [4, 4]] and stacked.cell.output_size == 4
    assert stacked.compute_output_shape((None, 5, 2)) == [(None, 4), [(None, 8), (None, 8)], [(None, 4), (None, 4)]]
    zeros = stacked.cell.get_initial_state(3)
    assert [[t.shape for t in s] for s in zeros] == [[(3, 8), (3, 8)], [(3, 4), (3, 4)]]
    np.testing.assert_allclose(stacked(X, initial_state=zeros)[0].numpy(), stacked(X)[0].numpy())
    _, s1, s2 = stacked(X)
    flat = [t.numpy() * 0.5 for t in (*s1, *s2)]
    nested = stacked(X, initial_state=[flat[:2], flat[2:]])
    np.testing.assert_allclose(stacked(X, initial_state=flat)[0].numpy(), nested[0].numpy())
    assert not np.allclose(nested[0].numpy(), stacked(X)[0].numpy(), atol=1e-4)
    with pytest.raises(ValueError, match=r"expected 4 initial state\(s\), got 2"):
        stacked(X, initial_state=flat[:2])
    single = RNN([SimpleRNNCell(3), GRUCell(2)], return_state=True)  # one state per cell: not nested (Keras)
    out, h1, h2 = single(X)
    assert single.state_size == [3, 2] and h1.shape == (3, 3) and h2.shape == (3, 2)
    np.testing.assert_allclose(out.numpy(), h2.numpy())


def test_symbolic_call_and_functional_model_with_stacked_states():
    inputs = layers.Input((None, 2))
    stacked = RNN([LSTMCell(8), LSTMCell(4)], return_sequences=True, return_state=True)
    seq, (h1, c1), (h2, c2) = stacked(inputs)
    assert seq.shape == (None, None, 4) and h1.shape == (None, 8) and c2.shape == (None, 4)
    model = sd.models.Model(inputs, [layers.Dense(1)(seq), c1, h2])
    got = model.predict(X, verbose=0)
    _, (_, eager_c1), (eager_h2, _) = stacked(X)
    np.testing.assert_allclose(got[1], eager_c1.numpy(), atol=1e-6)
    np.testing.assert_allclose(got[2], eager_h2.numpy(), atol=1e-6)
    with tempfile.TemporaryDirectory() as folder:
        model.save(f"{folder}/m.shendu")
        loaded = sd.models.load_model(f"{folder}/m.shendu")
    for a, b in zip(loaded.predict(X, verbose=0), got):
        np.testing.assert_array_equal(a, b)


def test_gradients_reach_every_cell_and_a_short_fit_lowers_the_loss():
    layer = RNN([SimpleRNNCell(2, dtype="float64"), LSTMCell(2, dtype="float64")], dtype="float64")
    x = RNG.normal(size=(2, 3, 2))
    layer(x)
    for w in layer.weights:
        w.assign(RNG.uniform(-0.8, 0.8, w.shape))
    assert len(layer.weights) == 6

    def f(inputs, *weights):
        return call_with_weights(layer, inputs, weights)

    assert sd.gradcheck(f, [x, *[w.data for w in layer.weights]])
    sd.random.seed(3)
    model = sd.models.Sequential([layers.Input((5, 2)), RNN([LSTMCell(8), GRUCell(4)]), layers.Dense(1)])
    model.compile(optimizer=sd.optimizers.Adam(0.02), loss="mse")
    y = X.sum(axis=(1, 2))[:, None]
    hist = model.fit(np.tile(X, (4, 1, 1)), np.tile(y, (4, 1)), epochs=8, batch_size=12, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]


def test_config_round_trip_and_save_load():
    stacked = RNN([LSTMCell(8, dropout=0.1), GRUCell(4, reset_after=False)], return_sequences=True,
                  go_backwards=True)
    want = stacked(X).numpy()
    config = json.loads(json.dumps(stacked.get_config()))
    cell = config["cell"]
    assert cell["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in cell["config"]["cells"]] == ["LSTMCell", "GRUCell"]
    assert cell["config"]["cells"][1]["config"]["reset_after"] is False
    clone = RNN.from_config(config)
    assert clone.get_config() == config and isinstance(clone.cell, StackedRNNCells)
    clone(X)
    clone.set_weights(stacked.get_weights())
    np.testing.assert_allclose(clone(X).numpy(), want, atol=1e-6)
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(stacked.cell))))
    assert type(again) is StackedRNNCells and [type(c) for c in again.cells] == [LSTMCell, GRUCell]
    inputs = layers.Input((5, 2))
    model = sd.models.Model(inputs, layers.Dense(2)(RNN([LSTMCell(8), LSTMCell(4)])(inputs)))
    check_save_load(model, X)
    check_save_load(sd.models.Sequential([layers.Input((5, 2)), RNN([SimpleRNNCell(3), LSTMCell(2)])]), X)


def test_stateful_stack_continues_and_dropout_masks_are_cleared():
    whole = RNN([LSTMCell(3), SimpleRNNCell(2)], return_sequences=True)
    expected = whole(X).numpy()
    layer = RNN([LSTMCell(3), SimpleRNNCell(2)], return_sequences=True, stateful=True)
    layer(X[:, :1])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    got = np.concatenate([layer(X[:, :2]).numpy(), layer(X[:, 2:]).numpy()], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [s.shape for s in layer.states] == [(3, 3), (3, 3), (3, 2)]
    dropped = RNN([LSTMCell(3, dropout=0.5, recurrent_dropout=0.5), GRUCell(2, dropout=0.5)])
    a, b = dropped(X, training=True).numpy(), dropped(X, training=True).numpy()
    assert not np.allclose(a, b)  # fresh masks for each sequence
    for cell in dropped.cell.cells:
        assert cell._dropout_mask is None and cell._recurrent_dropout_mask is None
    np.testing.assert_array_equal(dropped(X).numpy(), dropped(X, training=False).numpy())


def test_keras_names_and_errors():
    from shendu.keras import layers as keras_layers

    assert keras_layers.StackedRNNCells is StackedRNNCells and "StackedRNNCells" in layers.__all__
    assert layers.StackedRNNCells is StackedRNNCells
    with pytest.raises(ValueError, match="non-empty list"):
        StackedRNNCells([])
    with pytest.raises(ValueError, match="state_size"):
        RNN([LSTMCell(2), layers.Dense(2)])
    for cls in (SimpleRNN, GRU):  # the fused layers keep their flat states
        assert cls(3).state_size == [3]
