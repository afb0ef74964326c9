"""Structured pruning: a smaller model whose predictions equal the original with those units zeroed."""

import numpy as np
import pytest

import shendu as sd
from shendu.compression import prune_structured
from shendu.compression.structured import kept_units
from shendu.keras import Input, Model, Sequential, layers


def _zeroed(model, fraction, names):
    """The original model with the dropped units' kernel slices and biases set to zero (the masked model)."""
    for layer in model.layers:
        if layer.name in names:
            keep = kept_units(layer, fraction)
            kernel, bias = layer.get_weights()
            drop = np.setdiff1d(np.arange(kernel.shape[-1]), keep)
            kernel[..., drop], bias[drop] = 0, 0
            layer.set_weights([kernel, bias])


def test_cnn_shrinks_and_predicts_as_the_masked_model(tmp_path):
    sd.random.seed(0)
    model = Sequential([
        layers.Conv2D(8, 3, activation="relu", input_shape=(10, 10, 1), name="c1"), layers.MaxPooling2D(2),
        layers.Conv2D(6, 3, activation="relu", name="c2"), layers.Flatten(),
        layers.Dense(12, activation="relu", name="d1"), layers.Dropout(0.2), layers.Dense(4, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((5, 10, 10, 1), dtype=np.float32)
    smaller = prune_structured(model, 0.5)
    assert [getattr(layer, "filters", getattr(layer, "units", None)) for layer in smaller.layers] == \
        [4, None, 3, None, 6, None, 4]
    assert smaller.count_params() < model.count_params() / 3
    assert smaller.compiled
    _zeroed(model, 0.5, {"c1", "c2", "d1"})
    np.testing.assert_allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    smaller.save(tmp_path / "small.shendu")
    again = sd.keras.models.load_model(tmp_path / "small.shendu")
    np.testing.assert_array_equal(again.predict(x, verbose=0), smaller.predict(x, verbose=0))


def test_functional_chain_and_chosen_layers():
    sd.random.seed(1)
    inputs = Input((6,))
    h = layers.Dense(10, activation="tanh", name="a")(inputs)
    h = layers.Dense(8, activation="relu", name="b")(h)
    model = Model(inputs, layers.Dense(2, name="c")(h))
    x = np.random.default_rng(1).random((4, 6), dtype=np.float32)
    smaller = prune_structured(model, 0.25, layers=["b"])
    assert [layer.units for layer in smaller.layers[1:]] == [10, 6, 2]
    _zeroed(model, 0.25, {"b"})
    np.testing.assert_allclose(smaller.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_refuses_what_it_cannot_shrink():
    sd.random.seed(2)
    inputs = Input((4,))
    a = layers.Dense(3)(inputs)
    branched = Model(inputs, layers.Add()([a, layers.Dense(3)(inputs)]))
    with pytest.raises(ValueError, match="not a chain"):
        prune_structured(branched, 0.5)
    sigmoid = Sequential([layers.Dense(4, activation="sigmoid", input_shape=(3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="f\\(0\\) = 0"):
        prune_structured(sigmoid, 0.5)
    normed = Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization(), layers.Dense(2)])
    with pytest.raises(ValueError, match="BatchNormalization"):
        prune_structured(normed, 0.5)
    with pytest.raises(ValueError, match="no Dense/Conv layer named"):
        prune_structured(normed, 0.5, layers=["nope"])
