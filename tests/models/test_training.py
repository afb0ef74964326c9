"""fit/evaluate/predict: convergence, History keys and values, validation, weights, losses, NaN, *_on_batch."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import shendu as sd
from shendu import layers, optimizers, regularizers
from shendu.data import Dataset
from shendu.models import Model, Sequential
from tests.models.helpers import blobs, mlp


def _quiet_fit(model, *args, **kwargs):
    kwargs.setdefault("verbose", 0)
    return model.fit(*args, **kwargs)


def test_regression_converges():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 2))
    y = x @ np.array([[2.0], [-3.0]]) + 0.5  # float64 data: converted per batch
    sd.random.seed(0)
    model = Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=optimizers.Adam(0.1), loss="mse", metrics=["mae"])
    history = _quiet_fit(model, x, y, epochs=60, batch_size=64)
    assert history.history["loss"][-1] < 1e-3 < history.history["loss"][0]
    w, b = model.get_weights()
    np.testing.assert_allclose(w.ravel(), [2.0, -3.0], atol=0.05)
    np.testing.assert_allclose(b, [0.5], atol=0.05)
    assert model.predict(x[:3], verbose=0).dtype == np.float32


def test_binary_classification_converges():
    x, y = blobs(classes=2)
    model = mlp(outputs=1, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = _quiet_fit(model, x, y.astype("float32"), epochs=20, batch_size=32)
    assert history.history["accuracy"][-1] > 0.95
    probs = model.predict(x, verbose=0)
    assert probs.shape == (len(x), 1)
    assert ((probs[:, 0] > 0.5) == y).mean() > 0.95


@pytest.mark.parametrize("one_hot", [False, True])
def test_multiclass_converges_with_either_label_kind(one_hot):
    x, y = blobs(classes=3)
    labels = np.eye(3, dtype="float32")[y] if one_hot else y
    loss = "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"
    model = mlp()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    history = _quiet_fit(model, x, labels, epochs=15, batch_size=32)
    assert history.history["accuracy"][-1] > 0.95
    loss_value, acc = model.evaluate(x, labels, verbose=0)
    assert acc > 0.95 and loss_value < history.history["loss"][0]


def test_history_keys_and_running_means():
    x, y = blobs()
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = _quiet_fit(model, x, y, epochs=3, validation_split=0.2)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert model.history is history
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_logged_training_loss_is_the_sample_weighted_mean_over_the_epoch():
    x, y = blobs(n=100)
    model = mlp()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = _quiet_fit(model, x, y, batch_size=32, epochs=1)  # batches of 32, 32, 32, 4
    loss, acc = model.evaluate(x, y, batch_size=100, verbose=0)
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(acc)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = blobs(n=100)
    model = mlp()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    history = _quiet_fit(model, x, y, epochs=1, validation_split=0.25, shuffle=True)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[75:], y[75:], verbose=0), rel=1e-5)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x[:75], y[:75], verbose=0), rel=1e-5)


def test_validation_split_errors():
    x, y = blobs(n=10)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="validation_split"):
        _quiet_fit(model, x, y, validation_split=1.5)
    with pytest.raises(ValueError, match="only supported for arrays"):
        _quiet_fit(model, Dataset.from_tensor_slices((x, y)).batch(4), validation_split=0.2)


def test_validation_data_and_validation_freq():
    x, y = blobs(n=120)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = _quiet_fit(model, x[:100], y[:100], validation_data=(x[100:], y[100:]), epochs=4, validation_freq=2)
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2


def test_evaluate_return_types():
    x, y = blobs(n=50)
    plain = mlp()
    plain.compile(loss="sparse_categorical_crossentropy")
    assert isinstance(plain.evaluate(x, y, verbose=0), float)
    with_metrics = mlp()
    with_metrics.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out = with_metrics.evaluate(x, y, verbose=0)
    assert isinstance(out, list) and len(out) == 2
    logs = with_metrics.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy"]
    assert logs["loss"] == pytest.approx(out[0])
    assert with_metrics.metrics_names == ["loss", "accuracy"]


def test_predict_shapes_batches_and_no_graph():
    x, _ = blobs(n=70)
    model = mlp()
    out = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (70, 3)
    np.testing.assert_allclose(out, model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert all(w.grad is None for w in model.weights)


def test_predict_accepts_a_dataset_of_pairs():
    x, y = blobs(n=40)
    model = mlp()
    out = model.predict(Dataset.from_tensor_slices((x, y)).batch(16), verbose=0)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_fit_on_dataset_generator_and_steps_per_epoch():
    x, y = blobs(n=96)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = Dataset.from_tensor_slices((x, y)).shuffle(96, seed=0).batch(32)
    seen = []
    from shendu.callbacks import LambdaCallback

    count = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    _quiet_fit(model, ds, epochs=2, callbacks=[count])
    assert seen == [0, 1, 2, 0, 1, 2]
    seen.clear()
    _quiet_fit(model, x, y, batch_size=32, epochs=2, steps_per_epoch=5, callbacks=[count])
    assert seen == [0, 1, 2, 3, 4] * 2

    def gen():
        for i in range(0, 96, 32):
            yield x[i:i + 32], y[i:i + 32]

    seen.clear()
    with pytest.warns(UserWarning, match="ran out of data"), pytest.warns(UserWarning, match="had no batches"):
        _quiet_fit(model, gen(), epochs=3, callbacks=[count])
    assert seen == [0, 1, 2]
    with pytest.raises(ValueError, match="batch_size must not be given"):
        _quiet_fit(model, ds, batch_size=8)
    with pytest.raises(ValueError, match="infinitely repeating"):
        _quiet_fit(model, ds.repeat())


def test_class_weight_scales_the_loss_per_class():
    x, y = blobs(n=60, classes=2)
    model = mlp(outputs=2)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    base = _quiet_fit(model, x, y, batch_size=60).history["loss"][0]
    weighted = _quiet_fit(model, x, y, batch_size=60, class_weight={0: 0.0, 1: 2.0}).history["loss"][0]
    manual = model.evaluate(x, y, sample_weight=np.where(y == 1, 2.0, 0.0), batch_size=60, verbose=0)
    assert weighted == pytest.approx(manual, rel=1e-5)
    assert weighted != pytest.approx(base)


def test_class_weight_changes_what_is_learned():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = np.zeros(200, dtype="int64")
    y[:20] = 1  # same features for both classes: only the weights decide
    model = mlp(inputs=2, outputs=2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _quiet_fit(model, x, y, epochs=10, class_weight={0: 1.0, 1: 20.0})
    assert model.predict(x, verbose=0)[:, 1].mean() > 0.5


def test_sample_weight_zero_ignores_samples():
    x, y = blobs(n=40)
    model = mlp()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    w = np.r_[np.ones(20), np.zeros(20)]
    loss = _quiet_fit(model, x, y, sample_weight=w, batch_size=40, shuffle=False).history["loss"][0]
    half = model.evaluate(x[:20], y[:20], verbose=0)
    assert loss == pytest.approx(half / 2, rel=1e-5)  # sum(l * w) / batch size, Keras's reduction


def test_regularization_joins_the_loss():
    x, _ = blobs(n=32)
    sd.random.seed(0)
    model = Sequential([layers.Dense(3, input_shape=(4,), kernel_regularizer=regularizers.l2(0.1))])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    loss = _quiet_fit(model, x, np.zeros((32, 3)), batch_size=32).history["loss"][0]
    w = model.layers[0].kernel.numpy()
    expected = float((model.predict(x, verbose=0) ** 2).mean() + 0.1 * (w ** 2).sum())
    assert loss == pytest.approx(expected, rel=1e-4)


def test_add_loss_alone_trains_without_compiled_loss():
    class Shrink(layers.Layer):
        def call(self, inputs):
            self.add_loss((inputs ** 2).mean())
            return inputs

    sd.random.seed(0)
    inputs = layers.Input((3,))
    model = Model(inputs, Shrink()(layers.Dense(3)(inputs)))
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1))
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    history = _quiet_fit(model, x, epochs=20, batch_size=64)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_previous_weights():
    x, y = blobs(n=64)
    x[40] = np.nan  # the second batch of 32 holds a NaN
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    message = out.getvalue()
    assert "Epoch 1/3, batch 2" in message and "nan" in message
    assert len(history.history["loss"]) == 1
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_on_batch_methods():
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    after = model.get_weights()
    model.test_on_batch(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(after, model.get_weights()))
    assert model.predict_on_batch(x).shape == (32, 3)


def test_errors_before_compile_and_without_loss():
    x, y = blobs(n=8)
    model = mlp()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="no loss to compute"):
        model.fit(x, y, verbose=0)


def test_cardinality_mismatch_is_reported():
    x, y = blobs(n=10)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(x, y[:9], verbose=0)


def test_frozen_layer_is_not_updated_and_gets_no_gradient():
    x, y = blobs(n=32)
    model = mlp()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    frozen = model.layers[0].get_weights()
    _quiet_fit(model, x, y, epochs=2)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert all(w.grad is None for w in model.layers[0].weights)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_initial_epoch_and_stop_training():
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = _quiet_fit(model, x, y, epochs=5, initial_epoch=3)
    assert history.epoch == [3, 4]


def test_float64_data_is_converted_per_batch_not_refused():
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _quiet_fit(model, x.astype("float64"), y)
    assert all(w.dtype == np.float32 for w in model.weights)
    assert model.predict(x.astype("float64"), verbose=0).dtype == np.float32


def test_lists_of_numbers_are_accepted():
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse")
    history = _quiet_fit(model, [[-1.0], [0.0], [1.0], [2.0]], [[-3.0], [-1.0], [1.0], [3.0]], epochs=2)
    assert len(history.history["loss"]) == 2


def test_compile_config_round_trip_with_objects():
    import json

    from shendu import losses, metrics

    x, y = blobs(n=16)
    model = mlp()
    model.compile(optimizer=optimizers.Adam(0.01), loss=losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2)])
    config = json.loads(json.dumps(model.get_compile_config()))
    clone = mlp()
    clone.compile_from_config(config)
    assert clone.optimizer.learning_rate == pytest.approx(0.01)
    assert clone.evaluate(x, y, verbose=0, return_dict=True).keys() == model.evaluate(
        x, y, verbose=0, return_dict=True).keys()


def test_fit_on_a_keras_style_sequence():
    x, y = blobs(n=64)

    class Batches:
        def __init__(self):
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

        def on_epoch_end(self):
            self.epochs_ended += 1

    data = Batches()
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = _quiet_fit(model, data, epochs=2)
    assert len(history.history["loss"]) == 2 and data.epochs_ended == 2
    assert model.predict(data, verbose=0).shape == (64, 3)
    with pytest.raises(TypeError, match="Unrecognized data type"):
        _quiet_fit(model, object())
