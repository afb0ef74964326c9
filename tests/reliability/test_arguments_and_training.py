"""Silent wrong results in training: thread-local gradient mode, argument checks, NaN and empty epochs, labels."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import shendu as sd
from shendu import losses
from shendu.callbacks import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from shendu.keras import Sequential, layers


def _model(seed: int = 0) -> Sequential:
    sd.random.seed(seed)
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, size=n)


def test_fit_and_predict_interleaved_in_threads_equal_the_serial_run():
    x, y = _data()
    serial = _model()
    serial.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected_weights = serial.get_weights()
    expected_pred = serial.predict(x, batch_size=8, verbose=0)

    model = _model()
    start = model.get_weights()
    for w0, w1 in zip(start, _model().get_weights()):
        np.testing.assert_array_equal(w0, w1)
    barrier = threading.Barrier(4)
    stop = threading.Event()
    errors: list[BaseException] = []

    def predicting() -> None:
        try:
            barrier.wait()
            while not stop.is_set():
                with sd.no_grad():
                    model.predict(x[:5], batch_size=1, verbose=0)
                model.predict(x[:5], batch_size=2, verbose=0)
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    def fitting() -> None:
        try:
            barrier.wait()
            model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        except BaseException as err:
            errors.append(err)
        finally:
            stop.set()

    threads = [threading.Thread(target=predicting) for _ in range(3)] + [threading.Thread(target=fitting)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sd.is_grad_enabled()
    for got, want in zip(model.get_weights(), expected_weights):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(model.predict(x, batch_size=8, verbose=0), expected_pred)


@pytest.mark.parametrize(("method", "kwargs", "name"), [
    ("fit", {"epochs": 0}, "epochs"),
    ("fit", {"epochs": -2}, "epochs"),
    ("fit", {"epochs": 2.5}, "epochs"),
    ("fit", {"epochs": True}, "epochs"),
    ("fit", {"epochs": None}, "epochs"),
    ("fit", {"initial_epoch": -1}, "initial_epoch"),
    ("fit", {"initial_epoch": 1.0}, "initial_epoch"),
    ("fit", {"steps_per_epoch": 0}, "steps_per_epoch"),
    ("fit", {"steps_per_epoch": 2.0}, "steps_per_epoch"),
    ("fit", {"validation_steps": -1, "validation_split": 0.25}, "validation_steps"),
    ("fit", {"validation_split": 1.0}, "validation_split"),
    ("fit", {"validation_split": -0.1}, "validation_split"),
    ("fit", {"validation_freq": 0}, "validation_freq"),
    ("fit", {"verbose": 1.0}, "verbose"),
    ("fit", {"verbose": True}, "verbose"),
    ("fit", {"batch_size": -7}, "batch_size"),
    ("evaluate", {"steps": 0}, "steps"),
    ("evaluate", {"steps": 1.5}, "steps"),
    ("evaluate", {"verbose": 3}, "verbose"),
    ("predict", {"steps": -3}, "steps"),
    ("predict", {"steps": False}, "steps"),
])
def test_bad_counts_are_refused_naming_the_argument_and_value(method, kwargs, name):
    x, y = _data(16)
    model = _model()
    args = (x,) if method == "predict" else (x, y)
    value = repr(kwargs[name])
    with pytest.raises(ValueError, match=rf"{name} must .*got {re.escape(value)}"):
        getattr(model, method)(*args, **kwargs)


def test_valid_counts_still_work():
    x, y = _data(16)
    model = _model()
    history = model.fit(x, y, epochs=np.int64(2), initial_epoch=1, steps_per_epoch=2, validation_split=0.25,
                        validation_steps=1, verbose=0)
    assert history.epoch == [1]
    assert model.evaluate(x, y, steps=1, verbose=0) > 0
    assert model.predict(x, steps=None, verbose=0).shape == (16, 3)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_empty_arrays_are_refused(method):
    model = _model()
    with pytest.raises(ValueError, match=rf"{method}: the data has 0 samples"):
        getattr(model, method)(np.zeros((0, 4), "float32"), np.zeros((0,), "int64"), verbose=0)


def test_epoch_without_batches_logs_no_loss_and_warns(tmp_path):
    x, y = _data(16)
    model = _model()

    def two_batches():
        yield x[:8], y[:8]
        yield x[8:], y[8:]

    best = ModelCheckpoint(str(tmp_path / "best.weights.shendu"), monitor="loss", save_best_only=True,
                           save_weights_only=True)
    with pytest.warns(UserWarning, match="Epoch 2/3 had no batches"):
        history = model.fit(two_batches(), epochs=3, steps_per_epoch=2, verbose=0, callbacks=[best])
    assert len(history.history["loss"]) == 1 and history.history["loss"][0] > 0
    assert best.best == history.history["loss"][0]


class _Scripted(Callback):
    """Replaces the monitored value of each epoch by the next of `values` (before the callbacks after it read it)."""

    def __init__(self, values: list[float]) -> None:
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["val_loss"] = self.values[epoch]


def test_nan_first_epoch_does_not_block_later_best_checkpoints(tmp_path):
    x, y = _data(16)
    model = _model()
    path = tmp_path / "best-{epoch}.weights.shendu"
    checkpoint = ModelCheckpoint(str(path), save_best_only=True, save_weights_only=True)
    with pytest.warns(UserWarning, match=r"ModelCheckpoint: val_loss is nan at epoch 1 \(not finite\)"):
        model.fit(x, y, epochs=4, validation_split=0.25, verbose=0,
                  callbacks=[_Scripted([float("nan"), 2.0, float("-inf"), 1.0]), checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-2.weights.shendu", "best-4.weights.shendu"]
    assert checkpoint.best == 1.0


def test_nan_never_counts_as_improvement_for_early_stopping():
    x, y = _data(16)
    model = _model()
    stop = EarlyStopping(patience=2)
    with pytest.warns(UserWarning, match=r"EarlyStopping: val_loss is nan at epoch 1"):
        history = model.fit(x, y, epochs=6, validation_split=0.25, verbose=0,
                            callbacks=[_Scripted([float("nan"), 3.0, 2.0, float("nan"), float("nan"), 1.0]), stop])
    assert stop.best == 2.0 and stop.best_epoch == 2
    assert history.epoch == [0, 1, 2, 3, 4]


def test_nan_never_counts_as_improvement_for_reduce_lr_on_plateau():
    x, y = _data(16)
    model = _model()
    plateau = ReduceLROnPlateau(patience=1, factor=0.5)
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau: val_loss is -inf at epoch 2"):
        model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                  callbacks=[_Scripted([1.0, float("-inf"), 0.5]), plateau])
    assert plateau.best == 0.5


@pytest.mark.parametrize(("labels", "shown"), [([0.0, 1.5, 2.0], "got 1.5"), ([0.0, np.nan, 2.0], "got NaN"),
                                               ([np.inf, 0.0, 1.0], "got inf")])
def test_sparse_labels_must_be_integers(labels, shown):
    loss = losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match=f"sparse_categorical_crossentropy: labels must be integers.*{shown}"):
        loss(np.array(labels), np.full((3, 3), 1 / 3, "float32"))


def test_integral_float_labels_still_work():
    loss = losses.SparseCategoricalCrossentropy()
    pred = np.full((3, 3), 1 / 3, "float32")
    np.testing.assert_allclose(float(loss(np.array([0.0, 1.0, 2.0]), pred)), np.log(3), rtol=1e-6)
