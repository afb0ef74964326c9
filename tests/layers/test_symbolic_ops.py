"""Operators and tf.* functions on KerasTensors build TFOpLambda layers (tf.keras's functional API)."""

import numpy as np
import pytest

import shendu as tf
from shendu import layers
from shendu.layers.op_layer import TFOpLambda


def _x(n=6, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _round_trip(model, tmp_path):
    path = tmp_path / "model.shendu"
    model.save(path)
    return tf.keras.models.load_model(path)


def test_input_shape_is_a_tensor_shape():
    x = tf.keras.Input((None, 19))
    assert x.shape.as_list() == [None, None, 19]
    assert isinstance(x.shape, tf.TensorShape) and x.shape == (None, None, 19) and x.shape.rank == 3


def test_operators_build_layers_equal_to_the_eager_computation(tmp_path):
    inp = tf.keras.Input((4,))
    w = np.arange(8, dtype="float32").reshape(4, 2) / 10
    out = [inp * inp + 1, 2.0 - inp, -inp, inp ** 2, inp / 4.0, 1.0 / (inp * inp + 1), inp @ w, inp[:, 0],
           inp[..., None], inp[:, 1:3], tf.cast(inp > 0.5, "float32"), (inp <= 0) & (inp >= -1)]
    model = tf.keras.Model(inp, out)
    assert all(isinstance(layer, TFOpLambda) for layer in model.layers[1:])
    assert [tuple(t.shape) for t in model.outputs] == [(None, 4)] * 6 + [(None, 2), (None,), (None, 4, 1),
                                                                          (None, 2), (None, 4), (None, 4)]
    x = _x()
    t = tf.constant(x)
    eager = [t * t + 1, 2.0 - t, -t, t ** 2, t / 4.0, 1.0 / (t * t + 1), t @ w, t[:, 0], t[..., None], t[:, 1:3],
             tf.cast(t > 0.5, "float32"), (t <= 0) & (t >= -1)]
    got = model.predict(x, verbose=0)
    for a, b in zip(got, eager):
        np.testing.assert_array_equal(a, b.numpy())
    loaded = _round_trip(model, tmp_path)
    for a, b in zip(loaded.predict(x, verbose=0), got):
        np.testing.assert_array_equal(a, b)


def test_tf_functions_on_symbolic_tensors(tmp_path):
    inp = tf.keras.Input((6,))
    h = layers.Dense(6, activation="tanh")(inp)
    first, second = tf.split(h, 2, axis=1)
    y = tf.concat([tf.reduce_sum(first, axis=1, keepdims=True), tf.reduce_mean(second, axis=-1, keepdims=True),
                   tf.nn.relu(h), tf.reshape(tf.expand_dims(h, -1), (-1, 6))], axis=-1)
    y = tf.math.square(y) + tf.reduce_max(h, axis=1)[:, None]
    out = layers.Dense(1)(y)
    model = tf.keras.Model(inp, out)
    assert "tf.math.reduce_sum" in [layer.name for layer in model.layers]
    assert model.get_layer("tf.math.reduce_sum").get_config()["function"] == "math.reduce_sum"
    x = _x(8, 6)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    dense = model.layers[1]
    t = dense(tf.constant(x))
    a, b = tf.split(t, 2, axis=1)
    e = tf.concat([tf.reduce_sum(a, axis=1, keepdims=True), tf.reduce_mean(b, axis=-1, keepdims=True),
                   tf.nn.relu(t), tf.reshape(tf.expand_dims(t, -1), (-1, 6))], axis=-1)
    e = model.layers[-1](tf.math.square(e) + tf.reduce_max(t, axis=1)[:, None])
    np.testing.assert_allclose(model.predict(x, verbose=0), e.numpy(), rtol=1e-6, atol=1e-6)
    loaded = _round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_constants_in_arguments_survive_saving(tmp_path):
    inp = tf.keras.Input((3, 4))
    w = np.linspace(-1, 1, 4).astype("float32")
    out = tf.cast(inp[:, ::2, ...] * w, tf.float64) + tf.constant([1.0, 2.0, 3.0, 4.0], dtype=tf.float64)
    model = tf.keras.Model(inp, out)
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
    expected = (x[:, ::2] * w).astype("float64") + np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-7)
    assert model.outputs[0].dtype == np.float64 and model.outputs[0].shape == (None, 2, 4)
    loaded = _round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_add_loss_on_symbolic_tensors_is_computed_at_each_call(tmp_path):
    inp = tf.keras.Input((4,))
    h = layers.Dense(3, kernel_initializer="ones")(inp)
    model = tf.keras.Model(inp, layers.Dense(1)(h))
    model.add_loss(tf.reduce_mean(h) * 0.1)
    x = _x()
    model(x)
    h_val = x @ np.ones((4, 3), "float32")
    assert len(model.losses) == 1
    np.testing.assert_allclose(model.losses[0].numpy(), h_val.mean() * 0.1, rtol=1e-5, atol=1e-6)
    model(x[:2])
    np.testing.assert_allclose(model.losses[0].numpy(), h_val[:2].mean() * 0.1, rtol=1e-5, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    mse = float(np.mean((model.predict(x, verbose=0) - 1.0) ** 2))
    total = model.evaluate(x, np.ones((6, 1)), verbose=0)
    np.testing.assert_allclose(total, mse + h_val.mean() * 0.1, rtol=1e-5, atol=1e-6)
    model.fit(x, np.ones((6, 1)), epochs=1, verbose=0)
    loaded = _round_trip(model, tmp_path)
    loaded(x)
    model(x)
    np.testing.assert_array_equal(loaded.losses[0].numpy(), model.losses[0].numpy())


@pytest.mark.parametrize("use", [float, int, bool, np.asarray, len, list])
def test_a_symbolic_tensor_used_as_a_value_says_so(use):
    x = tf.keras.Input((3,))
    with pytest.raises(TypeError, match=r"symbolic tensor .* was used where a value was expected"):
        use(x)


def test_a_tf_function_that_fails_on_the_sample_names_itself():
    x = tf.keras.Input((3,))
    with pytest.raises(ValueError, match=r"tf\.reshape on symbolic tensors"):
        tf.reshape(x, (-1, 4))


def test_eager_calls_are_unchanged():
    t = tf.constant([[1.0, 2.0]])
    assert float(tf.reduce_sum(t)) == 3.0
    assert tf.reduce_sum.__name__ == "reduce_sum"


def test_a_layer_called_on_two_symbolic_arguments_adds_its_loss_and_metric():
    """The endpoint-layer pattern: call(targets, logits) with both symbolic; add_loss and add_metric inside."""
    keras = tf.keras

    class Endpoint(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits):
            self.add_loss(self.loss_fn(targets, logits))
            self.add_metric(tf.reduce_mean(tf.cast(logits > 0, "float32")), name="positive_rate")
            return tf.nn.sigmoid(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(2,), name="targets")
    predictions = Endpoint(name="endpoint")(targets, keras.layers.Dense(2)(inputs))
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    data = {"inputs": rng.normal(size=(16, 3)).astype("float32"),
            "targets": rng.integers(0, 2, size=(16, 2)).astype("float32")}
    history = model.fit(data, epochs=3, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "positive_rate"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(data, verbose=0).shape == (16, 2)
