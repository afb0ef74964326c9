"""Model configs between shendu and Keras (NumPy alone): Keras 3's config.json and tf.keras 2's model_config in,
Keras 3's wrappers out, and the refusals (Lambda code, Keras-only options, operation layers, oversized weights)."""

import json
import os

import numpy as np
import pytest

from shendu import keras, layers
from shendu.saving import ModelFileError
from shendu.saving.keras_config import from_keras_config, to_keras_config
from shendu.saving.model_file import json_default

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras")


def _configs():
    with open(os.path.join(FIXTURES, "configs.json")) as f:
        return json.load(f)


def test_keras3_functional_config_builds_and_compiles():
    model = from_keras_config(_configs()["keras3_functional"], "fn.keras")
    assert model.name == "fn" and model.input_names == ["a", "b"] and model.output_names == ["o1", "o2"]
    out = model.predict([np.ones((2, 4), "float32"), np.ones((2, 3), "float32")], verbose=0)
    assert [o.shape for o in out] == [(2, 1), (2, 2)]
    assert type(model.optimizer).__name__ == "SGD" and model.get_compile_config()["loss_weights"] == {"o1": 1.0,
                                                                                                     "o2": 0.5}


def test_keras3_bidirectional_and_legacy_sequential_configs():
    configs = _configs()
    bi = from_keras_config(configs["keras3_bidirectional"], "bi.keras")
    assert [type(v).__name__ for v in bi.layers] == ["Embedding", "Bidirectional", "Dense"]
    assert bi.layers[1].forward_layer.units == 3 and bi.layers[1].backward_layer.go_backwards
    seq = from_keras_config(configs["legacy_h5_sequential"], "seq.h5",
                            training_config=configs["legacy_h5_training_config"])
    assert [v.units for v in seq.layers if hasattr(v, "units")] == [3, 2] and seq.compiled
    assert seq.get_compile_config()["metrics"] == ["accuracy"]


def test_tf_keras_2_functional_config():
    """tf.keras 2's inbound nodes are lists [layer, node, index, kwargs]; its dtypes plain names."""
    dense = {"name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "relu",
             "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "dtype": "float32",
                                                    "sparse": False, "ragged": False, "name": "input_1"},
             "name": "input_1", "inbound_nodes": []},
            {"class_name": "Dense", "config": dense, "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"class_name": "Add", "config": {"name": "add", "trainable": True, "dtype": "float32"}, "name": "add",
             "inbound_nodes": [[["dense", 0, 0, {}], ["dense", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["add", 0, 0]]},
        "keras_version": "2.13.1", "backend": "tensorflow"}
    model = from_keras_config(config, "old.h5")
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    kernel, bias = model.get_layer("dense").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * np.maximum(x @ kernel + bias, 0), rtol=1e-6)


def _layer_models():
    q = layers.Input((4, 8))
    attention = keras.Model(q, layers.MultiHeadAttention(num_heads=2, key_dim=4)(q, q))
    seq = keras.Sequential([
        layers.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same", kernel_regularizer="l2"),
        layers.DepthwiseConv2D(3, padding="same"), layers.SeparableConv2D(3, 3), layers.BatchNormalization(),
        layers.Conv2DTranspose(2, 3, strides=2), layers.AveragePooling2D(), layers.SpatialDropout2D(0.1),
        layers.Rescaling(0.5), layers.Reshape((-1, 2)), layers.Conv1D(3, 2, bias_constraint="non_neg"),
        layers.GRU(3, return_sequences=True), layers.TimeDistributed(layers.Dense(2)), layers.LayerNormalization(),
        layers.Bidirectional(layers.SimpleRNN(2)), layers.RepeatVector(2), layers.Permute((2, 1)), layers.Flatten(),
        layers.Dense(3, activation="softmax")])
    return [attention, seq]


@pytest.mark.parametrize("index", [0, 1])
def test_to_keras_and_back_is_the_same_model(index):
    model = _layer_models()[index]
    model.compile(keras.optimizers.Adam(1e-3), "mse", metrics=["mae"])
    config = json.loads(json.dumps(to_keras_config(model), default=json_default))
    again = from_keras_config(config, "m.keras")
    assert [type(v).__name__ for v in again.layers] == [type(v).__name__ for v in model.layers]
    for ours, theirs in zip(model.layers, again.layers):
        mine, back = ours.get_config(), theirs.get_config()
        assert {k: v for k, v in back.items() if k != "name"} == {k: v for k, v in mine.items() if k != "name"}
    assert again.count_params() == model.count_params() and again.get_compile_config()["metrics"] == ["mae"]


def test_to_keras_config_has_keras_3_wrappers():
    model = keras.Sequential([layers.Dense(2, kernel_regularizer="l2", input_shape=(3,))], name="s")
    model.compile("adam", "mse")
    config = to_keras_config(model)
    assert config["module"] == "keras" and config["build_config"] == {"input_shape": [None, 3]}
    first, dense = config["config"]["layers"]
    assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"] == [None, 3]
    assert dense["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}, "registered_name": None}
    assert dense["config"]["kernel_regularizer"]["module"] == "keras.regularizers"
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert config["compile_config"]["optimizer"]["module"] == "keras.optimizers"
    a = layers.Input((3,), name="a")
    functional = to_keras_config(keras.Model(a, layers.Dense(1)(a)))
    assert functional["class_name"] == "Functional" and functional["config"]["input_layers"] == ["a", 0, 0]


def _with_layer(entry):
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "in"}},
        entry]}}


def test_lambda_code_is_refused():
    entry = {"module": "keras.layers", "class_name": "Lambda", "config": {
        "name": "square", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA", "defaults": None,
                                                                            "closure": None}}}}
    with pytest.raises(ModelFileError, match=r"m\.keras.*Lambda layer 'square'.*never executed.*custom_objects"):
        from_keras_config(_with_layer(entry), "m.keras")
    model = from_keras_config(_with_layer(entry), "m.keras", custom_objects={"square": lambda x: x * x})
    np.testing.assert_allclose(model.predict(np.full((1, 3), 3.0, "float32"), verbose=0), [[9.0, 9.0, 9.0]])


def test_keras_only_option_and_unknown_layer_refused():
    dense = {"module": "keras.layers", "class_name": "Dense",
             "config": {"name": "d", "units": 2, "quantization_config": {"mode": "int8"}}}
    with pytest.raises(ModelFileError, match=r"m\.keras.*layer 'd' \(Dense\).*quantization_config"):
        from_keras_config(_with_layer(dense), "m.keras")
    dense["config"]["quantization_config"] = None
    assert from_keras_config(_with_layer(dense), "m.keras").layers[0].units == 2
    unknown = {"module": "keras.layers", "class_name": "Conv3DTranspose", "config": {"name": "c"}}
    with pytest.raises(ModelFileError, match=r"layer 'c' \(Conv3DTranspose\) is not a layer shendu has"):
        from_keras_config(_with_layer(unknown), "m.keras")
    op = {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"}}
    with pytest.raises(ModelFileError, match=r"Keras operation"):
        from_keras_config(_with_layer(op), "m.keras")


def test_weight_budget_refuses_oversized_config():
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 50_000_000}}
    with pytest.raises(ModelFileError, match=r"m\.keras.*weight 'd/kernel'.*holds 10 numbers"):
        from_keras_config(_with_layer(dense), "m.keras", max_weights=10)


def test_not_a_model_config_refused():
    with pytest.raises(ModelFileError, match=r"m\.keras.*'layers' list"):
        from_keras_config({"class_name": "Sequential", "config": {"name": "s"}}, "m.keras")
    with pytest.raises(ModelFileError, match=r"input_layers"):
        from_keras_config({"class_name": "Functional", "config": {"layers": [], "input_layers": 3}}, "m.keras")
