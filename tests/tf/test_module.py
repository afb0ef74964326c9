"""tf.Module: variables and sub-modules found through the attributes, as the TensorFlow guides use them."""

import numpy as np
import pytest

import shendu as tf


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.random.normal([in_features, out_features]), name="w")
        self.b = tf.Variable(tf.zeros([out_features]), name="b")

    def __call__(self, x):
        return tf.nn.relu(x @ self.w + self.b)


class Sequential(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(3, 3)
        self.dense_2 = Dense(3, 2)
        self.steps = tf.Variable(0, trainable=False)

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_variables_and_submodules_are_found_through_the_attributes():
    model = Sequential(name="the_model")
    assert model.name == "the_model" and Dense(1, 1).name == "dense"
    assert [m.name for m in model.submodules] == ["dense", "dense"]
    assert len(model.variables) == 5 and len(model.trainable_variables) == 4
    assert model.non_trainable_variables == (model.steps,)
    assert model.trainable_variables[:2] == (model.dense_1.b, model.dense_1.w)  # attribute-name order


def test_a_module_trains_with_a_tape():
    tf.random.set_seed(0)
    model = Sequential()
    x = tf.constant(np.random.default_rng(0).normal(size=(8, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    assert [g.shape for g in grads] == [v.shape for v in model.trainable_variables]


def test_lists_dicts_and_keras_layers_count_once():
    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.layer = tf.keras.layers.Dense(2)
            self.layer.build((None, 3))
            self.parts = [Dense(2, 2), {"b": Dense(2, 1)}]
            self.again = self.parts[0]

    holder = Holder()
    assert len(holder.submodules) == 3
    assert len(holder.variables) == 6 and len({id(v) for v in holder.variables}) == 6


def test_name_scope_and_bad_names():
    model = Sequential()
    with model.name_scope as scope:
        assert scope == "sequential/"
    with tf.name_scope("block") as scope:
        assert scope == "block/"
    with pytest.raises(ValueError, match="not a valid module name"):
        tf.Module(name="1 bad")


def test_a_module_checkpoint_round_trip(tmp_path):
    model = Sequential()
    model.note = "not state"
    ckpt = tf.train.Checkpoint(model=model)
    path = ckpt.write(str(tmp_path / "module"))
    saved = [v.numpy() for v in model.variables]
    for v in model.trainable_variables:
        v.assign(tf.zeros(v.shape))
    tf.train.Checkpoint(model=model).read(path).assert_consumed()
    for v, want in zip(model.variables, saved):
        np.testing.assert_array_equal(v.numpy(), want)
    names = [name for name, _ in tf.train.list_variables(path)]
    assert "model/dense_1/w" in names and "model/steps" in names
