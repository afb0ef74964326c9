"""tf.keras.backend as tutorials use it (`from tensorflow.keras import backend as K`)."""

import numpy as np
import pytest

import shendu as tf
from shendu.keras import backend as K
from shendu.keras import layers


@pytest.fixture
def restore_settings():
    eps, fx = K.epsilon(), K.floatx()
    yield
    K.set_epsilon(eps)
    K.set_floatx(fx)


def test_floatx_epsilon_and_their_setters(restore_settings):
    assert K.floatx() == "float32" and isinstance(K.floatx(), str)
    assert K.epsilon() == pytest.approx(1e-7)
    K.set_epsilon(1e-5)
    assert K.epsilon() == pytest.approx(1e-5)
    K.set_floatx("float64")
    assert K.floatx() == "float64"
    assert layers.Dense(2)(np.ones((1, 3))).dtype == np.float64


def test_image_data_format_is_channels_last():
    assert K.image_data_format() == "channels_last"
    K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="'channels_first' is not supported"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="must be one of"):
        K.set_image_data_format("nhwc")


def test_get_value_and_set_value():
    v = tf.Variable([[1.0, 2.0]])
    K.set_value(v, np.array([[3.0, 4.0]]))
    value = K.get_value(v)
    assert isinstance(value, np.ndarray) and value.dtype == np.float32
    np.testing.assert_array_equal(value, [[3.0, 4.0]])
    value[0, 0] = 9.0  # a copy: the variable does not change
    assert v.numpy()[0, 0] == 3.0
    assert K.get_value(0.5) == 0.5
    with pytest.raises(TypeError, match=r"optimizer\.learning_rate = value"):
        K.set_value(0.001, 0.01)
    with pytest.raises(ValueError, match="symbolic tensor"):
        K.get_value(tf.keras.Input((2,)))


def test_random_normal_moments_dtype_and_seed():
    x = K.random_normal((20000,), mean=2.0, stddev=3.0)
    assert x.dtype == np.float32 and x.shape == (20000,)
    assert abs(float(x.numpy().mean()) - 2.0) < 0.1 and abs(float(x.numpy().std()) - 3.0) < 0.1
    assert K.random_normal((2, 3), dtype="float64").dtype == np.float64
    tf.keras.utils.set_random_seed(5)
    a = K.random_normal((4,), seed=1).numpy()
    tf.keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(a, K.random_normal((4,), seed=1).numpy())


def test_int_shape_count_params_is_keras_tensor():
    symbolic = tf.keras.Input((28, 28, 1))
    assert K.int_shape(symbolic) == (None, 28, 28, 1)
    assert K.int_shape(tf.zeros((2, 3))) == (2, 3) and K.int_shape(np.zeros((4,))) == (4,)
    dense = layers.Dense(5)
    dense.build((None, 3))
    assert K.count_params(dense.kernel) == 15 and K.count_params(dense.bias) == 5
    assert K.is_keras_tensor(symbolic) and K.is_keras_tensor(layers.Dense(2)(symbolic))
    assert not K.is_keras_tensor(tf.zeros((2,))) and not K.is_keras_tensor(np.zeros(2))
    with pytest.raises(TypeError, match="int_shape"):
        K.int_shape([1, 2])


def test_clear_session_restarts_layer_and_model_names():
    assert layers.Dense(1).name != layers.Dense(1).name
    K.clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name] == ["dense", "dense_1"]
    tf.keras.Sequential([layers.Dense(1)])
    K.clear_session(free_memory=False)
    assert tf.keras.Sequential().name == "sequential" and layers.Dense(1).name == "dense"


def test_an_optimizers_learning_rate_is_set_in_place_as_tf_keras_code_does():
    """The custom-callbacks guide: K.get_value(optimizer.learning_rate), K.set_value(optimizer.lr, v)."""
    keras = tf.keras
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    seen = []

    class Halve(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            lr = float(K.get_value(self.model.optimizer.learning_rate))
            seen.append(lr)
            K.set_value(self.model.optimizer.lr, lr / 2)

    model.fit(x, y, epochs=3, verbose=0, callbacks=[Halve()])
    assert seen == [0.1, 0.05, 0.025]
    assert model.optimizer.learning_rate.numpy() == np.float32(0.0125)
    model.optimizer.learning_rate.assign(0.5)
    assert model.optimizer.learning_rate == 0.5 and model.optimizer.get_config()["learning_rate"] == 0.5
