"""layer.trainable as Keras 3 sets it: on every nested layer and on the weights created trainable; True unfreezes."""

import numpy as np

import shendu as sd
import shendu.tf as tf
from shendu import keras


def nested():
    sd.random.seed(0)
    inner = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="relu")])
    model = keras.Sequential([keras.Input(shape=(3,)), inner, keras.layers.Dense(3, activation="sigmoid")])
    return inner, model


def test_freezing_a_layer_moves_its_weights_to_non_trainable():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    layer.trainable = False
    assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (2, 0, 2)
    assert not any(v.trainable or v.requires_grad for v in layer.weights)


def test_freezing_the_outer_model_freezes_every_nested_layer():
    inner, model = nested()
    model.trainable = False
    assert inner.trainable is False
    assert all(layer.trainable is False for layer in [*inner.layers, *model.layers])
    assert len(model.trainable_weights) == 0
    assert len(model.non_trainable_weights) == len(model.weights) == 10


def test_unfreezing_restores_every_layer_and_only_the_weights_created_trainable():
    inner, model = nested()
    model.trainable = False
    model.trainable = True
    assert all(layer.trainable for layer in [inner, *inner.layers, *model.layers])
    assert len(model.trainable_weights) == 8  # 2 Dense kernels and biases, BN gamma and beta, the last Dense
    bn = inner.layers[1]
    assert [v.trainable for v in bn.weights] == [True, True, False, False]  # moving statistics stay non-trainable


def test_a_frozen_base_gets_no_gradient_and_keeps_its_weights_in_fit():
    inner, model = nested()
    inner.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    frozen = [w.copy() for w in inner.get_weights()]
    head = model.layers[-1].get_weights()
    model.fit(np.random.default_rng(0).normal(size=(16, 3)), np.ones((16, 3)), batch_size=8, verbose=0)
    for before, after in zip(frozen, inner.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(head[0], model.layers[-1].get_weights()[0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(np.ones((2, 3), "float32")))
    assert [g is None for g in tape.gradient(loss, inner.weights[:2])] == [True, True]


class _Linear(keras.Model):
    """The basic training loops guide's model: weights assigned as tf.Variable attributes, not add_weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = sd.Variable(5.0)
        self.b = sd.Variable(0.0)
        self.steps = sd.Variable(0, trainable=False)
        self.pair = [sd.Variable(1.0), self.w]  # a list is tracked too, and w only once

    def call(self, x):
        return self.w * x + self.b


def test_variables_assigned_as_attributes_are_tracked_and_trained(tmp_path):
    """Variables set as attributes of a layer or model are its weights, as in Keras: trainable ones in
    trainable_weights once each (fit then updates them), the others in non_trainable_weights; they save and load."""
    model = _Linear()
    assert [v is w for v, w in zip(model.trainable_weights, (model.w, model.b, model.pair[0]))] == [True] * 3
    assert len(model.trainable_weights) == 3 and model.non_trainable_weights == [model.steps]
    x = np.linspace(-2, 2, 201).astype(np.float32)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(x, 3 * x + 2, epochs=5, batch_size=1000, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert float(model.w.numpy()) != 5.0 and float(model.b.numpy()) != 0.0
    model.save_weights(tmp_path / "linear.weights.safetensors")
    other = _Linear()
    other.load_weights(tmp_path / "linear.weights.safetensors")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_weight_referred_to_by_another_layer_stays_its_owners():
    """A layer that keeps another layer's weight (tied weights) does not make it its own: the model counts it once."""
    dense = keras.layers.Dense(2)
    dense.build((None, 2))

    class Tied(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.tied = dense.kernel

        def call(self, x):
            return x @ self.tied

    tied = Tied()
    assert tied.weights == []
    model = keras.Sequential([keras.Input((2,)), dense, tied])
    assert len(model.trainable_weights) == 2
