"""layers.Dot: Keras's batched dot product along given axes, with optional L2 normalization."""

import numpy as np
import pytest

import shendu as tf
from shendu import layers


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_keras_documented_example():
    x = np.arange(10, dtype="float32").reshape(1, 5, 2)
    y = np.arange(10, 20, dtype="float32").reshape(1, 2, 5)
    out = layers.Dot(axes=(1, 2))([tf.constant(x), tf.constant(y)])
    np.testing.assert_array_equal(out.numpy(), [[[260, 360], [320, 445]]])


@pytest.mark.parametrize("shapes, axes, spec", [
    (((4, 3), (4, 3)), 1, "bi,bi->b"),
    (((4, 3), (4, 3)), -1, "bi,bi->b"),
    (((4, 5, 3), (4, 3)), (2, 1), "bxi,bi->bx"),
    (((4, 5, 3), (4, 3, 6)), (2, 1), "bxi,biy->bxy"),
    (((4, 5, 3), (4, 7, 3)), (-1, -1), "bxi,byi->bxy"),
    (((4, 3, 5), (4, 3, 6)), 1, "bix,biy->bxy"),
])
def test_against_numpy_einsum(shapes, axes, spec):
    x, y = _rand(*shapes[0]), _rand(*shapes[1], seed=1)
    expected = np.einsum(spec, x, y)
    if expected.ndim == 1:
        expected = expected[:, None]
    layer = layers.Dot(axes=axes)
    out = layer([tf.constant(x), tf.constant(y)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape([(None, *shapes[0][1:]), (None, *shapes[1][1:])]) == (None, *expected.shape[1:])


def test_normalize_gives_the_cosine_similarity():
    x, y = _rand(5, 4), _rand(5, 4, seed=2)
    out = layers.Dot(axes=1, normalize=True)([tf.constant(x), tf.constant(y)]).numpy()
    cosine = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(out[:, 0], cosine, rtol=1e-5, atol=1e-6)


def test_gradient_matches_numpy():
    x, y = tf.Variable(_rand(3, 4)), tf.Variable(_rand(3, 4, seed=3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layers.Dot(axes=1, normalize=True)([x, y]))
    gx, _ = tape.gradient(loss, [x, y])
    xv, yv = x.numpy().astype("float64"), y.numpy().astype("float64")
    nx, ny = np.linalg.norm(xv, axis=1, keepdims=True), np.linalg.norm(yv, axis=1, keepdims=True)
    cos = (xv * yv).sum(1, keepdims=True) / nx / ny
    expected = yv / (nx * ny) - cos * xv / nx ** 2
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-4, atol=1e-6)


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="Dot 'd1': incompatible input shapes"):
        layers.Dot(axes=1, name="d1")([tf.keras.Input((3,)), tf.keras.Input((4,))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Dot(axes=1)([tf.keras.Input((3,))] * 3)
    with pytest.raises(TypeError, match="axes must be an int or a list of two ints"):
        layers.Dot(axes="last")
    with pytest.raises(ValueError, match="non-batch axis"):
        layers.Dot(axes=0)([tf.keras.Input((3,)), tf.keras.Input((3,))])


def test_in_a_model_fit_predict_save_load(tmp_path):
    a, b = tf.keras.Input((6,)), tf.keras.Input((6,))
    ea, eb = layers.Dense(4)(a), layers.Dense(4)(b)
    sim = layers.dot([ea, eb], axes=1, normalize=True)
    model = tf.keras.Model([a, b], layers.Dense(1, activation="sigmoid")(sim))
    assert model.get_layer(index=4).output.shape == (None, 1)
    xa, xb = _rand(16, 6), _rand(16, 6, seed=4)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit([xa, xb], (np.arange(16) % 2).reshape(-1, 1), epochs=2, verbose=0)
    pred = model.predict([xa, xb], verbose=0)
    va, vb = model.layers[2](tf.constant(xa)).numpy(), model.layers[3](tf.constant(xb)).numpy()
    cos = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    np.testing.assert_allclose(pred, model.layers[-1](tf.constant(cos[:, None])).numpy(), rtol=1e-5, atol=1e-6)
    path = tmp_path / "dot.shendu"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert loaded.layers[4].get_config()["axes"] == [1, 1] and loaded.layers[4].normalize
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0), pred)
