"""Model utilities of Keras's guides: to_json/model_from_json, clone_model, from_config with custom layers,
Layer.add_variable and the status object load_weights returns."""

import json

import numpy as np
import pytest

import shendu as tf
from shendu import keras
from shendu.keras import layers
from shendu.keras.models import clone_model, model_from_json


class CustomDense(layers.Layer):
    """The functional-API guide's custom layer: get_config returns only its own argument (no name)."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def _functional():
    inputs = keras.Input((4,), name="features")
    x = layers.Dense(5, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(2)(x), name="net")


def _same_predictions(a, b, n_features=4):
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).normal(size=(3, n_features)).astype("float32")
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


# --- from_config with custom layers -----------------------------------------------------------------------------
def test_from_config_with_custom_objects_rebuilds_a_custom_layer_chain():
    """The guide's code: two calls of a custom layer whose config has no name (was: inputs 'missing')."""
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(CustomDense(10)(inputs))
    model = keras.Model(inputs, outputs)
    new_model = keras.Model.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert [type(layer).__name__ for layer in new_model.layers] == ["InputLayer", "CustomDense", "CustomDense"]
    assert new_model.output_shape == (None, 10)
    _same_predictions(model, new_model)


def test_from_config_without_the_custom_class_names_it():
    model = keras.Model(inputs := keras.Input((4,)), CustomDense(3)(inputs))
    with pytest.raises(ValueError, match=r"Unknown layer: 'CustomDense'.*custom_objects"):
        keras.Model.from_config(model.get_config())


def test_subclassed_from_config_that_cannot_work_says_why():
    class Net(keras.Model):
        def __init__(self, units):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(TypeError, match=r"Unable to revive model from config.*Net\.__init__"):
        Net.from_config(Net(3).get_config())


# --- to_json / model_from_json ----------------------------------------------------------------------------------
def test_functional_to_json_round_trip():
    model = _functional()
    text = model.to_json()
    config = json.loads(text)
    assert config["class_name"] == "Functional" and config["config"]["name"] == "net"
    clone = model_from_json(text)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.input_shape == (None, 4) and clone.output_shape == (None, 2)
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    _same_predictions(model, clone)


def test_sequential_to_json_takes_json_dumps_arguments():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="tanh")])
    text = model.to_json(indent=2)
    assert "\n  " in text
    clone = keras.models.model_from_json(text)
    assert isinstance(clone, keras.Sequential) and clone.layers[0].activation is model.layers[0].activation
    _same_predictions(model, clone, n_features=3)


def test_model_from_json_needs_custom_objects_for_custom_layers():
    model = keras.Model(inputs := keras.Input((4,)), CustomDense(3)(inputs))
    text = model.to_json()
    with pytest.raises(ValueError, match="Unknown layer: 'CustomDense'"):
        model_from_json(text)
    assert model_from_json(text, custom_objects={"CustomDense": CustomDense}).output_shape == (None, 3)


def test_subclassed_model_json_is_built_from_its_build_config():
    class Net(keras.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Net(2)
    model(np.zeros((1, 5), "float32"))
    clone = model_from_json(model.to_json(), custom_objects={"Net": Net})
    assert clone.built and [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_model_from_json_rejects_what_is_not_a_model():
    with pytest.raises(ValueError, match="model_from_json: expected the JSON string"):
        model_from_json("{not json")
    with pytest.raises(ValueError, match="describes a Dense, not a model"):
        model_from_json(json.dumps({"class_name": "Dense", "config": {"units": 2}}))


# --- clone_model ------------------------------------------------------------------------------------------------
def test_clone_sequential_has_new_weights_same_architecture():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)], name="seq")
    clone = clone_model(model)
    assert isinstance(clone, keras.Sequential) and clone.name == "seq"
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])
    assert not clone.compiled
    _same_predictions(model, clone)


def test_clone_functional_keeps_shared_layers_shared():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = layers.Dense(3)
    model = keras.Model([a, b], layers.Add()([shared(a), shared(b)]))
    clone = clone_model(model)
    assert len(clone.weights) == 2 and clone.input_names == ["a", "b"]
    x = [np.ones((2, 4), "float32"), np.zeros((2, 4), "float32")]
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_clone_function_is_applied_to_each_layer_but_the_inputs():
    model = _functional()
    seen = []

    def clone_function(layer):
        seen.append(type(layer).__name__)
        config = layer.get_config()
        if isinstance(layer, layers.Dense):
            config["activation"] = "sigmoid"
        return layer.__class__.from_config(config)

    clone = clone_model(model, clone_function=clone_function)
    assert seen == ["Dense", "Dense"]
    assert all(layer.get_config()["activation"] == "sigmoid" for layer in clone.layers[1:])
    reused = clone_model(model, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(reused.weights, model.weights))


def test_clone_with_input_tensors_and_call_function():
    model = _functional()
    new_input = keras.Input((4,), name="other")
    clone = clone_model(model, input_tensors=new_input)
    assert clone.input_names == ["other"]

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        return layers.Dropout(0.5)(out) if isinstance(layer, layers.Dense) else out

    wrapped = clone_model(model, clone_function=lambda layer: layer, call_function=call_function)
    assert [type(layer).__name__ for layer in wrapped.layers].count("Dropout") == 2


def test_clone_recursive_clones_a_nested_model_with_clone_model():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3)], name="inner")
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, layers.Dense(1)(inner(inputs)))
    cloned = []

    def clone_function(layer):
        cloned.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone = clone_model(outer, clone_function=clone_function, recursive=True)
    assert "inner" not in cloned and isinstance(clone.layers[1], keras.Sequential)
    assert clone.layers[1].weights[0] is not inner.weights[0]


def test_clone_of_a_compiled_model_is_compiled_with_a_new_optimizer():
    model = _functional()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    clone = clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert clone.optimizer.learning_rate == pytest.approx(0.01)
    history = clone.fit(np.ones((4, 4), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}


def test_clone_subclassed_model_refuses_clone_function():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="only supported for Sequential and Functional models"):
        clone_model(Net(), clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="expected a Model instance"):
        clone_model(layers.Dense(2))


# --- add_variable and the load_weights status -------------------------------------------------------------------
def test_add_variable_takes_keras_3_argument_order():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_variable((input_shape[-1],), "ones", name="scale")
            self.count = self.add_variable((), "zeros", dtype="int64", trainable=False, name="count")

        def call(self, x):
            return x * self.scale

    layer = Scale()
    out = layer(np.full((2, 3), 2.0, "float32"))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 2.0))
    assert layer.scale.name.endswith("/scale") and layer.scale.dtype == np.float32
    assert layer.trainable_weights == [layer.scale] and layer.non_trainable_weights == [layer.count]
    assert layer.count.dtype == np.int64


def test_load_weights_returns_a_status_whose_checks_pass(tmp_path):
    model = _functional()
    model.save_weights(tmp_path / "w.weights.safetensors")
    twin = _functional()
    status = twin.load_weights(tmp_path / "w.weights.safetensors")
    assert status.assert_consumed() is status
    assert status.expect_partial() is status
    status.assert_existing_objects_matched().assert_nontrivial_match()
    np.testing.assert_array_equal(twin.get_weights()[0], model.get_weights()[0])
