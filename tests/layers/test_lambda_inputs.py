"""Lambda over several symbolic inputs infers its output shapes and dtypes by running the function on zeros."""

import numpy as np

import shendu as tf
from shendu import layers


@layers.register_keras_serializable(package="LambdaInputs")
def gated_sum(t):
    return tf.reduce_sum(t[0] * tf.nn.sigmoid(t[1]), axis=-1, keepdims=True)


@layers.register_keras_serializable(package="LambdaInputs")
def pick_columns(t):
    return tf.gather(t[0], t[1][0], axis=1)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_list_of_inputs_without_output_shape():
    a, b = tf.keras.Input((5,)), tf.keras.Input((5,))
    out = layers.Lambda(gated_sum)([a, b])
    assert out.shape == (None, 1) and out.dtype == np.float32
    pair = layers.Lambda(lambda t: [t[0] - t[1], tf.concat(t, axis=-1)])([a, b])
    assert [p.shape.as_list() for p in pair] == [[None, 5], [None, 10]]


def test_dtypes_of_the_inputs_are_kept_in_the_sample():
    x, idx = tf.keras.Input((4,)), tf.keras.Input((2,), dtype="int32")
    out = layers.Lambda(pick_columns)([x, idx])
    assert out.shape == (None, 2) and out.dtype == np.float32
    doubled = layers.Lambda(lambda t: t[1] * 2)([x, idx])
    assert doubled.dtype == np.int32


def test_dict_of_inputs():
    a, b = tf.keras.Input((3,), name="a"), tf.keras.Input((3,), name="b")
    out = layers.Lambda(lambda t: t["a"] * t["b"])({"a": a, "b": b})
    model = tf.keras.Model({"a": a, "b": b}, out)
    xa, xb = _rand(4, 3), _rand(4, 3, seed=1)
    np.testing.assert_allclose(model.predict({"a": xa, "b": xb}, verbose=0), xa * xb, rtol=1e-6, atol=1e-6)


def test_model_fit_predict_save_load(tmp_path):
    a, b = tf.keras.Input((5,)), tf.keras.Input((5,))
    hidden = layers.Dense(5)
    h = hidden(a)
    out = layers.Dense(1)(layers.Lambda(gated_sum)([h, b]))
    model = tf.keras.Model([a, b], out)
    xa, xb = _rand(12, 5), _rand(12, 5, seed=2)
    model.compile(optimizer="adam", loss="mse")
    model.fit([xa, xb], _rand(12, 1, seed=3), epochs=2, verbose=0)
    hv = hidden(tf.constant(xa)).numpy()
    gated = (hv / (1 + np.exp(-xb))).sum(-1, keepdims=True)
    pred = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(pred, model.layers[-1](tf.constant(gated)).numpy(), rtol=1e-5, atol=1e-6)
    path = tmp_path / "lambda.shendu"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0), pred)
