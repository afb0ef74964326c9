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
