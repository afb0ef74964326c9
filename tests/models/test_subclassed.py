"""Subclassed models: attribute tracking, fit, nesting, custom train_step, Model(inputs, outputs) subclasses."""

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.models import Model
from tests.models.helpers import blobs


class TwoLayer(Model):
    def __init__(self, units=16, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(units, activation="relu")
        self.blocks = [layers.Dense(units, activation="relu")]
        self.head = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=None):
        return self.head(self.blocks[0](self.hidden(inputs)))


def test_layers_assigned_as_attributes_are_tracked_and_trained():
    x, y = blobs()
    sd.random.seed(0)
    model = TwoLayer()
    assert model.name.startswith("two_layer") and not model.built
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"] * 3
    assert len(model.trainable_weights) == 6
    assert model.predict(x[:2], verbose=0).shape == (2, 3)


def test_build_creates_weights():
    model = TwoLayer()
    model.build((None, 4))
    assert model.built and model.count_params() == 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3


def test_missing_call_is_explained():
    with pytest.raises(NotImplementedError, match="call"):
        Model()(np.zeros((1, 2)))


def test_subclassed_model_nests_as_a_layer():
    sd.random.seed(0)
    inputs = layers.Input((4,))
    outer = Model(inputs, layers.Dense(1)(TwoLayer()(inputs)))
    assert outer.output_shape == (None, 1)
    assert len(outer.weights) == 8


class CustomStep(Model):
    """The keras.io 'customizing fit' pattern: own train_step, compiled loss and metrics."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.apply_gradients([(v.grad, v) for v in self.trainable_weights if v.grad is not None])
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred.numpy())
        return {m.name: m.result() for m in self.metrics}


def test_custom_train_step_on_a_functional_subclass():
    x, y = blobs()
    sd.random.seed(0)
    inputs = layers.Input((4,))
    outputs = layers.Dense(3, activation="softmax")(layers.Dense(16, activation="relu")(inputs))
    model = CustomStep(inputs, outputs)
    assert type(model) is CustomStep and model.input_shape == (None, 4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert all(isinstance(v, float) for v in history.history["loss"] + history.history["accuracy"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_add_loss_in_a_subclassed_call():
    class WithPenalty(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(10.0 * (out ** 2).mean())
            return out

    model = WithPenalty()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), dtype="float32")
    y = np.zeros((8, 2), dtype="float32")
    model(x)
    penalty = float(model.losses[0].data)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(penalty + penalty / 10.0, rel=1e-5)


def test_training_flag_reaches_layers_called_without_it():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5)

        def call(self, inputs):  # no training argument passed down, as in many tutorials
            return self.drop(inputs)

    sd.random.seed(0)
    net = Net()
    x = np.ones((2, 100), dtype="float32")
    assert not (net(x).numpy() == 0).any()
    assert (net(x, training=True).numpy() == 0).any()
    assert not (net(x).numpy() == 0).any()  # the flag does not leak past the call
    net.compile(optimizer="sgd", loss="mse")
    seen = []
    original = net.drop.call
    net.drop.call = lambda inputs, training=None: seen.append(training) or original(inputs, training)
    net.fit(x, x, verbose=0)
    net.predict(x, verbose=0)
    assert seen == [True, False]
