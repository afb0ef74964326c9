"""Custom metrics as the Keras guides write them: state made with add_weight/add_variable after super().__init__."""

import numpy as np
import pytest

import shendu.tf as tf
from shendu import keras
from shendu.tensor import Tensor


class BinaryTruePositives(keras.metrics.Metric):
    """The tf.keras 2 API page's example (add_weight with the name first)."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.bool)
        y_pred = tf.cast(y_pred, tf.bool)
        values = tf.cast(tf.logical_and(tf.equal(y_true, True), tf.equal(y_pred, True)), self.dtype)
        if sample_weight is not None:
            values = tf.multiply(values, tf.cast(sample_weight, self.dtype))
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives


class CategoricalTruePositives(keras.metrics.Metric):
    """The Keras 3 training guide's example (add_variable by keyword, its own reset_state)."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.reshape(tf.argmax(y_pred, axis=1), (-1, 1))
        values = tf.cast(tf.cast(y_true, "int32") == tf.cast(y_pred, "int32"), "float32")
        if sample_weight is not None:
            values = tf.multiply(values, tf.cast(sample_weight, "float32"))
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives.value()

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_guide_metric_accumulates_weighted_counts_and_resets():
    m = BinaryTruePositives()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert float(m.result()) == 2.0
    m.update_state([1, 1, 1, 1], [0, 1, 1, 0], sample_weight=[0.2, 0.3, 0.4, 0.5])
    assert float(m.result()) == pytest.approx(2.0 + 0.3 + 0.4)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert [v.name for v in m.variables] == ["tp"] and not m.variables[0].trainable


def test_base_reset_state_zeroes_variables_as_keras_3():
    class Counter(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.count = self.add_variable((2,), initializer="ones", name="count")
            self.total = self.add_weight((), initializer="zeros")  # Keras 3: shape first

        def update_state(self, values):
            self.count.assign_add(np.ones(2))
            self.total.assign_add(np.sum(values))

        def result(self):
            return {"count": self.count[0], "total": self.total}

    m = Counter(name="counter")
    np.testing.assert_array_equal(m.count.numpy(), [1.0, 1.0])  # the initializer's value
    m.update_state([1.0, 2.0])
    assert float(m.result()["total"]) == 3.0 and float(m.result()["count"]) == 2.0
    m.reset_state()
    np.testing.assert_array_equal(m.count.numpy(), [0.0, 0.0])
    assert float(m.total) == 0.0


def test_state_before_super_init_is_a_clear_error():
    class Early(keras.metrics.Metric):
        def __init__(self):
            self.v = self.add_variable((), "zeros")

    with pytest.raises(RuntimeError, match=r"super\(\)\.__init__\(\)"):
        Early()


def test_subclass_of_a_builtin_adds_state_and_metrics_held_as_attributes_reset():
    class MeanWithMax(keras.metrics.Mean):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.largest = self.add_variable((), "zeros", name="largest")
            self.inner = keras.metrics.Sum()

        def update_state(self, values, sample_weight=None):
            super().update_state(values, sample_weight)
            self.inner.update_state(values)
            self.largest.assign(max(float(self.largest), float(np.max(values))))

    m = MeanWithMax(name="mm")
    m.update_state([1.0, 5.0])
    assert m.result() == 3.0 and float(m.largest) == 5.0 and m.inner.result() == 6.0
    assert m.variables == [m.largest]
    m.reset_state()
    assert m.result() == 0.0 and float(m.largest) == 0.0 and m.inner.result() == 0.0


def _classifier(seed=0):
    np.random.seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    return model


def test_custom_metric_in_compile_is_logged_and_matches_the_count_by_hand():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = rng.integers(0, 3, size=(40, 1))
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[CategoricalTruePositives()])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["categorical_true_positives"]) == 2
    assert [m.name for m in model.metrics] == ["loss", "categorical_true_positives"]
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    by_hand = np.sum(np.argmax(model.predict(x, verbose=0), axis=1) == y[:, 0])
    assert isinstance(logs["categorical_true_positives"], float)
    assert logs["categorical_true_positives"] == by_hand


def test_custom_metric_in_a_custom_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 4)).astype("float32")
    y = rng.integers(0, 3, size=(24, 1))
    model = _classifier()
    metric = CategoricalTruePositives()
    for _ in range(2):
        for i in range(0, 24, 8):
            metric.update_state(y[i:i + 8], model(x[i:i + 8]))
        assert float(metric.result()) == np.sum(np.argmax(model.predict(x, verbose=0), axis=1) == y[:, 0])
        metric.reset_state()
        assert float(metric.result()) == 0.0


class CountingDense(keras.layers.Layer):
    """A layer that holds a metric as an attribute and updates it in call() (Keras 3's replacement of add_metric)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)
        self.mean_output = keras.metrics.Mean(name="mean_output")

    def call(self, inputs):
        out = self.dense(inputs)
        self.mean_output.update_state(out)
        return out


def test_layer_and_model_metrics_list_the_metrics_held_by_layers():
    layer = CountingDense()
    assert layer.metrics == [layer.mean_output]
    model = keras.Sequential([keras.Input((2,)), layer])
    model.compile("sgd", "mse", metrics=["mae"])
    x, y = np.ones((6, 2), "float32"), np.zeros((6, 1), "float32")
    history = model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "mae", "mean_output"]
    assert set(history.history) == {"loss", "mae", "mean_output"}
    model.reset_metrics()
    assert layer.mean_output.result() == 0.0
    out = model.predict(x, verbose=0)
    assert layer.mean_output.result() == pytest.approx(float(out.mean()))


def test_add_metric_from_call_is_logged_as_the_epoch_mean():
    """tf.keras 2's `self.add_metric(value, name, aggregation)` inside call() (the training guide's std metric)."""

    class StdOfActivation(keras.layers.Layer):
        def call(self, inputs):
            self.add_metric(keras.backend.std(inputs), name="std_of_activation", aggregation="mean")
            self.add_metric(1.0, name="calls", aggregation="sum")
            return inputs

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)), StdOfActivation(), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    hidden = model.layers[0](x).numpy()
    want = np.mean([hidden[i:i + 8].std() for i in range(0, 32, 8)])
    assert history.history["std_of_activation"] == pytest.approx([want, want], rel=1e-5)
    assert history.history["calls"] == [4.0, 4.0]
    with pytest.raises(ValueError, match="needs a name"):
        StdOfActivation().add_metric(1.0)


def test_a_metric_result_may_be_a_tensor_or_a_dict():
    class Both(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n = self.add_variable((), "zeros", name="n")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(float(np.shape(y_true)[0]))

        def result(self):
            return {"seen": Tensor(self.n.data), "twice": self.n * 2}

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=[Both(name="both")])
    logs = model.evaluate(np.ones((5, 2)), np.ones((5, 1)), batch_size=2, verbose=0, return_dict=True)
    assert logs["seen"] == 5.0 and logs["twice"] == 10.0 and isinstance(logs["seen"], float)
