"""train_step overrides as the "Customizing what happens in fit" guides write them: tf.keras 2's compiled_loss and
compiled_metrics, Keras 3's compute_loss, optimizer.apply and the loop over self.metrics."""

import numpy as np
import pytest

import shendu as sd
import shendu.tf as tf
from shendu import keras


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32") + 0.3).astype("float32")
    return x, y


class Keras2Step(keras.Model):
    """tf.keras 2's guide: compiled_loss with the regularization losses, compiled_metrics, the metrics' results."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class Keras3Step(keras.Model):
    """Keras 3's guide: compute_loss, optimizer.apply, and each metric updated in a loop over self.metrics."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def build(cls, regularizer=None):
    sd.random.seed(0)
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(1, kernel_regularizer=regularizer)(inputs)
    return cls(inputs, outputs)


def by_hand(model, x, y):
    """(mse, mae) of the model on the data, from its predictions."""
    err = model.predict(x, verbose=0) - y
    return float(np.mean(err ** 2)), float(np.mean(np.abs(err)))


@pytest.mark.parametrize("cls", [Keras2Step, Keras3Step])
def test_custom_step_logs_loss_and_metrics_of_the_epoch(cls):
    x, y = data()
    model = build(cls)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    mse, mae = by_hand(model, x, y)
    assert set(history.history) == {"loss", "mae"}
    for epoch in range(2):  # no update: every epoch logs the mean over the batches, reset between epochs
        assert history.history["loss"][epoch] == pytest.approx(mse, rel=1e-5)
        assert history.history["mae"][epoch] == pytest.approx(mae, rel=1e-5)


@pytest.mark.parametrize("cls", [Keras2Step, Keras3Step])
def test_custom_step_trains(cls):
    x, y = data(64)
    model = build(cls)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    before = by_hand(model, x, y)[0]
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert by_hand(model, x, y)[0] < before / 2


def test_compiled_loss_adds_the_regularization_losses_given():
    x, y = data()
    model = build(Keras2Step, keras.regularizers.L2(0.1))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    kernel = model.layers[-1].kernel.numpy()
    assert history.history["loss"][0] == pytest.approx(by_hand(model, x, y)[0] + 0.1 * np.sum(kernel ** 2), rel=1e-5)


def test_compiled_containers_list_their_metrics():
    x, y = data(8)
    model = build(Keras2Step)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert model.compiled_metrics.metrics == []  # resolved at the first batch, as tf.keras
    model.fit(x, y, batch_size=8, verbose=0)
    assert [m.name for m in model.compiled_metrics.metrics] == ["mae"]
    assert [m.name for m in model.compiled_loss.metrics] == ["loss"]
    assert set(model.compiled_metrics.result()) == {"mae"}
    model.compiled_metrics.reset_state()
    assert model.compiled_metrics.result()["mae"] == 0.0


def test_compiled_loss_without_a_loss_is_a_clear_error():
    model = build(Keras2Step)
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="compiled_loss has no loss"):
        model.compiled_loss(np.zeros((2, 1)), model(np.zeros((2, 4), "float32")))


class TrackerModel(keras.Model):
    """Keras 3's guide: the model's own loss tracker and metric, listed by overriding `metrics`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.losses.mean_squared_error(y, y_pred)
            loss = tf.reduce_mean(loss)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_own_trackers_reset_each_epoch_through_the_metrics_property():
    x, y = data()
    sd.random.seed(0)
    inputs = keras.Input(shape=(4,))
    model = TrackerModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    mse, mae = by_hand(model, x, y)
    assert history.history["loss"] == pytest.approx([mse, mse], rel=1e-5)
    assert history.history["mae"] == pytest.approx([mae, mae], rel=1e-5)
