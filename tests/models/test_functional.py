"""Functional models: several inputs/outputs (lists and dicts), per-output losses and names, graph checks, config."""

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers, optimizers
from shendu.models import Functional, Model


def _two_in_two_out():
    sd.random.seed(0)
    a = layers.Input((4,), name="a")
    b = layers.Input((3,), name="b")
    h = layers.concatenate([layers.Dense(8, activation="relu", name="hidden")(a), b])
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    return Model([a, b], [reg, cls], name="two")


def _data(n=120):
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(n, 4)).astype("float32")
    xb = rng.normal(size=(n, 3)).astype("float32")
    y_reg = (xa.sum(axis=1, keepdims=True) - xb[:, :1]).astype("float32")
    y_cls = (xa[:, 0] > 0).astype("int64") + (xb[:, 0] > 0)
    return xa, xb, y_reg, y_cls


def test_model_call_returns_a_functional_model():
    model = _two_in_two_out()
    assert type(model) is Functional and isinstance(model, Model)
    assert model.input_names == ["a", "b"] and model.output_names == ["reg", "cls"]
    assert model.input_shape == [(None, 4), (None, 3)]
    assert model.output_shape == [(None, 1), (None, 3)]
    # Keras's order: deepest first, then as a walk back from the outputs meets them (checked against Keras 3.15)
    assert [layer.name for layer in model.layers] == ["a", "hidden", "b", model.layers[3].name, "reg", "cls"]


def test_multi_output_training_logs_keras_names_and_learns():
    model = _two_in_two_out()
    xa, xb, y_reg, y_cls = _data()
    model.compile(optimizer=optimizers.Adam(0.02), loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy"]], loss_weights=[1.0, 0.5])
    history = model.fit([xa, xb], [y_reg, y_cls], epochs=40, batch_size=32, verbose=0, validation_split=0.25)
    keys = ["loss", "reg_mae", "cls_accuracy", "reg_loss", "cls_loss"]
    assert list(history.history) == keys + [f"val_{k}" for k in keys]
    h = {k: v[-1] for k, v in history.history.items()}
    assert h["cls_accuracy"] > 0.8 and h["reg_loss"] < 0.5 * history.history["reg_loss"][0]
    results = model.evaluate([xa, xb], [y_reg, y_cls], verbose=0, return_dict=True)
    assert results["loss"] == pytest.approx(results["reg_loss"] + 0.5 * results["cls_loss"], rel=1e-4)
    assert model.metrics_names == keys


def test_dicts_by_input_and_output_name():
    model = _two_in_two_out()
    xa, xb, y_reg, y_cls = _data(40)
    model.compile(optimizer="adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": "accuracy"})
    history = model.fit({"a": xa, "b": xb}, {"reg": y_reg, "cls": y_cls}, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "cls_accuracy", "reg_loss", "cls_loss"]
    by_list = model.predict([xa, xb], verbose=0)
    by_dict = model.predict({"b": xb, "a": xa}, verbose=0)
    for p, q in zip(by_list, by_dict):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="missing input"):
        model.predict({"a": xa}, verbose=0)


def test_output_without_loss_is_not_trained_on():
    model = _two_in_two_out()
    xa, xb, _, y_cls = _data(32)
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy"})
    before = model.get_layer("reg").get_weights()
    model.fit([xa, xb], {"cls": y_cls}, epochs=1, verbose=0)
    for w0, w1 in zip(before, model.get_layer("reg").get_weights()):
        np.testing.assert_array_equal(w0, w1)


def test_dict_outputs_predict_a_dict():
    sd.random.seed(0)
    inputs = layers.Input((2,))
    model = Model(inputs, {"sum": layers.Dense(1)(inputs), "pair": layers.Dense(2)(inputs)})
    out = model.predict(np.ones((5, 2)), verbose=0)
    assert set(out) == {"sum", "pair"} and out["pair"].shape == (5, 2)
    model.compile(optimizer="adam", loss={"sum": "mse", "pair": "mse"})
    history = model.fit(np.ones((8, 2)), {"sum": np.ones((8, 1)), "pair": np.zeros((8, 2))}, verbose=0)
    assert {"sum_loss", "pair_loss"} <= set(history.history)


def test_wrong_number_of_targets_is_explained():
    model = _two_in_two_out()
    xa, xb, y_reg, _ = _data(8)
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match="2 outputs"):
        model.fit([xa, xb], y_reg, verbose=0)
    with pytest.raises(ValueError, match="expects 2 input"):
        model.predict([xa], verbose=0)


def test_graph_disconnected_and_bad_inputs():
    a = layers.Input((2,))
    b = layers.Input((2,))
    out = layers.add([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, out)
    with pytest.raises(ValueError, match="must come from Input"):
        Model(layers.Dense(2)(a), out)
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model(a, np.zeros(2))


def test_shared_layer_counts_its_weights_once():
    sd.random.seed(0)
    shared = layers.Dense(3)
    a, b = layers.Input((3,)), layers.Input((3,))
    model = Model([a, b], layers.add([shared(a), shared(b)]))
    assert len(model.weights) == 2
    x = np.eye(3, dtype="float32")
    w, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([x, x], verbose=0), 2 * (x @ w + bias), rtol=1e-6)


def test_rank_adaptation_and_shape_error():
    sd.random.seed(0)
    inputs = layers.Input((28, 28, 1), name="image")
    model = Model(inputs, layers.Dense(2)(layers.Flatten()(inputs)), name="cnnish")
    x = np.random.default_rng(0).random((3, 28, 28)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[..., None], verbose=0))
    with pytest.raises(ValueError, match=r"'image' of model 'cnnish'.*\(None, 28, 28, 1\).*\(3, 28, 27\)"):
        model.predict(x[:, :, :27], verbose=0)


def test_integer_data_is_cast_to_the_input_dtype():
    inputs = layers.Input((2,))
    model = Model(inputs, layers.Dense(1)(inputs))
    assert model.predict(np.array([[1, 2]]), verbose=0).dtype == np.float32


def test_config_round_trip_with_shared_layers_and_nested_model():
    sd.random.seed(0)
    inner_in = layers.Input((3,))
    inner = Model(inner_in, layers.Dense(3, activation="relu")(inner_in), name="inner")
    a, b = layers.Input((3,), name="left"), layers.Input((3,), name="right")
    shared = layers.Dense(3, name="shared")
    merged = layers.concatenate([shared(a), shared(inner(b))])
    model = Model([a, b], [layers.Dense(1, name="out")(merged), merged], name="outer")
    config = json.loads(json.dumps(model.get_config()))
    clone = Model.from_config(config)
    assert clone.name == "outer" and clone.input_names == ["left", "right"]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    for p, q in zip(model.predict([x, x], verbose=0), clone.predict([x, x], verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-6)
    single = Model(inner_in, inner.output)
    assert not isinstance(Model.from_config(single.get_config()).output, list)


def test_layer_called_with_training_explicitly_keeps_it():
    sd.random.seed(0)
    inputs = layers.Input((200,))
    model = Model(inputs, layers.Dropout(0.5)(inputs, training=True))  # Monte-Carlo dropout
    assert (model.predict(np.ones((1, 200)), verbose=0) == 0).any()


def test_traced_output_shape_of_a_layer_on_several_inputs():
    """A layer without compute_output_shape finds it by running on zeros, for a list or dict of input shapes too."""
    pair = layers.Lambda(lambda xs: layers.concatenate([xs[0], xs[1]]))
    assert pair.compute_output_shape([(None, 3), (None, 2)]) == (None, 5)
    keyed = layers.Lambda(lambda xs: xs["a"] * 2.0)
    assert keyed.compute_output_shape({"a": (None, 4), "b": (None, 1)}) == (None, 4)


def test_nested_inputs_and_outputs_keep_their_structure():
    a, b, c = layers.Input((2,), name="a"), layers.Input((3,), name="b"), layers.Input((1,), name="c")
    model = Model([a, b, c], {"sum": layers.Dense(1, name="s")(layers.concatenate([a, b, c])), "b": b})
    xs = [np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), np.ones((4, 1), "float32")]
    out = model.predict(xs, verbose=0)
    assert set(out) == {"sum", "b"} and out["sum"].shape == (4, 1)
    np.testing.assert_array_equal(out["b"], xs[1])
