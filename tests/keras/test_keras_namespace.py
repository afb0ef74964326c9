"""Tutorial code runs by swapping the import: `import shendu as tf`, `from shendu.keras import layers`."""

import os

import numpy as np
import pytest

import shendu as tf


def test_tf_style_tensor_functions():
    x = tf.constant([[1, 2], [3, 4]], dtype=tf.float32)
    assert x.dtype == np.float32 and not x.requires_grad
    assert tf.cast(x, tf.int32).dtype == np.int32
    assert tf.convert_to_tensor(x) is x
    np.testing.assert_array_equal(tf.constant(0.5, shape=(2, 3)).numpy(), np.full((2, 3), 0.5, "float32"))


def test_keras_import_paths_tutorials_use():
    from shendu.keras import Input, Model, Sequential, layers, losses, metrics, optimizers
    from shendu.keras.callbacks import EarlyStopping
    from shendu.keras.layers import Dense, Dropout, Flatten
    from shendu.keras.models import load_model
    from shendu.keras.optimizers.schedules import ExponentialDecay
    from shendu.keras.utils import normalize, to_categorical

    assert Dense is tf.layers.Dense and Sequential is tf.models.Sequential and Model is tf.models.Model
    assert callable(load_model) and callable(Input) and Dropout and Flatten and EarlyStopping and ExponentialDecay
    assert optimizers.Adam is tf.optimizers.Adam and losses.MeanSquaredError and metrics.Precision
    assert layers is tf.keras.layers and tf.keras.datasets.mnist.load_data
    np.testing.assert_array_equal(to_categorical([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(np.linalg.norm(normalize(np.array([[3.0, 4.0]])), axis=-1), [1.0])


def test_keras_2_preprocessing_paths():
    """The time-series tutorial's first versions read tf.keras.preprocessing.timeseries_dataset_from_array."""
    from shendu.keras import preprocessing

    assert preprocessing.timeseries_dataset_from_array is tf.keras.utils.timeseries_dataset_from_array
    assert preprocessing.image_dataset_from_directory is tf.keras.utils.image_dataset_from_directory
    assert preprocessing.text_dataset_from_directory is tf.keras.utils.text_dataset_from_directory


def test_tutorial_regression_fits_with_the_tf_spelling():
    tf.keras.utils.set_random_seed(0)
    x = np.linspace(-1, 1, 64).reshape(-1, 1).astype("float32")
    y = 3 * x + 0.5
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    history = model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    w, b = model.layers[0].get_weights()
    assert history.history["loss"][-1] < 1e-4
    np.testing.assert_allclose([w.item(), b.item()], [3.0, 0.5], atol=0.01)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")
def test_issue_snippet_mnist_mlp(tmp_path):
    from shendu.keras import layers

    (x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()
    model = tf.keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                                 layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x / 255.0, y, epochs=5, batch_size=64, validation_split=0.1, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.97
    loss, acc = model.evaluate(xt / 255.0, yt, verbose=0)
    assert loss < 0.1
    assert acc > 0.97
    assert model.predict(xt[:5] / 255.0, verbose=0).shape == (5, 10)
    model.save(tmp_path / "mnist.shendu")
    again = tf.keras.models.load_model(tmp_path / "mnist.shendu")
    np.testing.assert_array_equal(again.predict(xt[:50] / 255.0, verbose=0), model.predict(xt[:50] / 255.0, verbose=0))


def test_layer_input_and_output_of_a_functional_graph():
    from shendu.keras import Input, Model, layers

    inputs = Input((4,))
    dense = layers.Dense(3)
    outputs = dense(inputs)
    assert dense.output is outputs and dense.input is inputs
    encoder = Model(inputs, dense.output)  # the Keras idiom: a sub-model from a layer's output
    assert encoder.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 3)
    with pytest.raises(AttributeError, match="has not been called"):
        _ = layers.Dense(2).output


def test_string_input_dtype_spelling():
    from shendu.keras import Input

    assert Input((1,), dtype="string").dtype == np.dtype(object)
