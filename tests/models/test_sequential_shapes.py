"""A Sequential whose time axis is None (given, or relaxed from the first data as tf.keras does) runs on any length."""

import numpy as np
import pytest

import shendu as tf
from shendu import layers


def _seq(n, t, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, 19)).astype("float32")


def _eager(model, x):
    y = tf.constant(x)
    for layer in model.layers:
        y = layer(y)
    return y.numpy()


def test_none_time_steps_given_in_input_shape(tmp_path):
    model = tf.keras.Sequential([layers.LSTM(8, return_sequences=True, input_shape=(None, 19)), layers.Dense(3)])
    assert model.input_shape == (None, None, 19) and model.output_shape == (None, None, 3)
    model.compile(optimizer="adam", loss="mse")
    model.fit(_seq(4, 10), np.zeros((4, 10, 3)), epochs=1, verbose=0)
    long = _seq(3, 25, seed=1)
    np.testing.assert_allclose(model.predict(long, verbose=0), _eager(model, long), rtol=1e-5, atol=1e-6)
    path = tmp_path / "seq.shendu"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(long, verbose=0), model.predict(long, verbose=0))


def test_shape_inferred_from_data_is_relaxed_by_a_longer_sequence(tmp_path):
    model = tf.keras.Sequential([layers.Conv1D(4, 3, padding="same", activation="relu"),
                                 layers.GlobalMaxPooling1D(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(_seq(8, 10), np.zeros((8, 2)), epochs=1, verbose=0)
    assert model.input_shape == (None, 10, 19)
    long = _seq(5, 30, seed=2)
    pred = model.predict(long, verbose=0)
    assert model.input_shape == (None, None, 19) and model.output_shape == (None, 2)
    np.testing.assert_allclose(pred, _eager(model, long), rtol=1e-5, atol=1e-6)
    model.fit(long, np.zeros((5, 2)), epochs=1, verbose=0)
    path = tmp_path / "relaxed.shendu"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert loaded.input_shape == (None, None, 19)
    for x in (_seq(2, 10, seed=3), long):
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_fixed_length_or_another_rank_is_still_an_error():
    fixed = tf.keras.Sequential([layers.LSTM(4, input_shape=(10, 19))])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 10, 19\), found shape=\(2, 12, 19\)"):
        fixed.predict(_seq(2, 12), verbose=0)
    inferred = tf.keras.Sequential([layers.Dense(2)])
    inferred.predict(_seq(2, 10), verbose=0)
    with pytest.raises(ValueError, match="is incompatible with the data"):
        inferred.predict(np.zeros((2, 3, 10, 19), "float32"), verbose=0)
