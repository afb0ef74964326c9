"""Sequential: construction paths, lazy building, layers/pop/get_layer, input checks, config round trip."""

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers import serialize
from shendu.models import Model, Sequential


def _stack(**first):
    return [layers.Flatten(**first), layers.Dense(8, activation="relu"), layers.Dense(3)]


@pytest.mark.parametrize("how", ["input_shape", "Input", "InputLayer", "add"])
def test_built_at_once_when_the_input_shape_is_known(how):
    if how == "input_shape":
        model = Sequential(_stack(input_shape=(4, 5)))
    elif how == "Input":
        model = Sequential([layers.Input((4, 5)), *_stack()])
    elif how == "InputLayer":
        model = Sequential([layers.InputLayer(shape=(4, 5)), *_stack()])
    else:
        model = Sequential()
        model.add(layers.Input((4, 5)))
        for layer in _stack():
            model.add(layer)
    assert model.built
    assert model.input_shape == (None, 4, 5)
    assert model.output_shape == (None, 3)
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense"]
    assert model.count_params() == 20 * 8 + 8 + 8 * 3 + 3
    assert model.predict(np.zeros((2, 4, 5)), verbose=0).shape == (2, 3)


def test_built_lazily_on_first_data():
    model = Sequential(_stack())
    assert not model.built and model.weights == []
    with pytest.raises(AttributeError):
        _ = model.input_shape
    out = model(np.ones((2, 4, 5), dtype="float32"))
    assert out.shape == (2, 3)
    assert model.built and model.input_shape == (None, 4, 5)
    assert len(model.weights) == 4


def test_build_with_explicit_shape():
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    model.build((None, 3))
    assert model.built and model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_pop_get_layer_and_names():
    model = Sequential(_stack(input_shape=(4, 5)), name="stack")
    assert model.name == "stack"
    last = model.pop()
    assert isinstance(last, layers.Dense) and len(model.layers) == 2
    assert model.output_shape == (None, 8)
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(model.layers[1].name) is model.layers[1]
    with pytest.raises(ValueError, match="no layer named"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="unique names"):
        model.add(model.layers[1])
    with pytest.raises(TypeError, match="only Layer instances"):
        model.add("dense")


def test_rank_adaptation_adds_a_trailing_channel_axis():
    sd.random.seed(0)
    model = Sequential([layers.Input((6, 6, 1)), layers.Flatten(), layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(3, 6, 6)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[..., None], verbose=0))


def test_rank_adaptation_drops_a_trailing_unit_axis():
    model = Sequential([layers.Input((6,)), layers.Dense(2)])
    x = np.ones((3, 6, 1), dtype="float32")
    assert model.predict(x, verbose=0).shape == (3, 2)


def test_wrong_input_shape_names_model_input_and_shapes():
    model = Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(2)], name="net")
    with pytest.raises(ValueError) as err:
        model.predict(np.zeros((2, 30, 30)), verbose=0)
    text = str(err.value)
    assert "net" in text and "(None, 28, 28, 1)" in text and "(2, 30, 30)" in text


def test_config_round_trip_is_json_and_predicts_the_same():
    sd.random.seed(0)
    model = Sequential([layers.Input((5,)), layers.Dense(4, activation="tanh"), layers.Dropout(0.5),
                        layers.Dense(2)], name="seq")
    config = json.loads(json.dumps(model.get_config()))
    clone = Sequential.from_config(config)
    assert clone.name == "seq" and clone.built
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    again = layers.deserialize(json.loads(json.dumps(serialize(model))))
    assert isinstance(again, Sequential) and len(again.layers) == 3


def test_nested_models_as_layers():
    sd.random.seed(0)
    inner = Sequential([layers.Input((4,)), layers.Dense(3)])
    outer = Sequential([inner, layers.Dense(2)])
    assert outer.built and outer.input_shape == (None, 4) and outer.output_shape == (None, 2)
    assert len(outer.weights) == 4
    inputs = layers.Input((4,))
    functional = Model(inputs, layers.Dense(1)(inner(inputs)))
    assert functional.output_shape == (None, 1)
    x = np.ones((2, 4), dtype="float32")
    expected = inner.predict(x, verbose=0) @ functional.layers[-1].get_weights()[0] + functional.layers[-1].bias.numpy()
    np.testing.assert_allclose(functional.predict(x, verbose=0), expected, rtol=1e-5)


def test_dropout_only_in_training():
    sd.random.seed(0)
    model = Sequential([layers.Input((100,)), layers.Dropout(0.5)])
    x = np.ones((2, 100), dtype="float32")
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()
