"""Callbacks: hook order, History, progress output, EarlyStopping, LR callbacks, CSVLogger, ModelCheckpoint, ..."""

import csv
import io
import os
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

import shendu as sd
from shendu import layers, optimizers
from shendu.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from shendu.models import Sequential


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x.sum(axis=1, keepdims=True) > 0).astype("float32")


def _model(lr=0.01):
    sd.random.seed(0)
    model = Sequential([layers.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _scripted(key, values):
    """A callback that writes values[epoch] into the epoch logs under key (runs before the callbacks after it)."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


def _recording_hook(name):
    return lambda self, *args, **kwargs: self.calls.append(name)


for _hook in [h for h in vars(Callback) if h.startswith("on_") and h not in ("on_batch_begin", "on_batch_end")]:
    setattr(Recorder, _hook, _recording_hook(_hook))


def test_hook_order_in_fit_evaluate_predict():
    x, y = _data(8)
    model = _model()
    rec = Recorder()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), callbacks=[rec], verbose=0)
    assert rec.calls == [
        "on_train_begin", "on_epoch_begin",
        "on_train_batch_begin", "on_train_batch_end", "on_train_batch_begin", "on_train_batch_end",
        "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_batch_begin", "on_test_batch_end",
        "on_test_end", "on_epoch_end", "on_train_end",
    ]
    assert rec.params == {"verbose": 0, "epochs": 1, "steps": 2}
    assert rec.model is model
    rec.calls.clear()
    model.predict(x, batch_size=8, callbacks=[rec], verbose=0)
    assert rec.calls == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end", "on_predict_end"]


def test_batch_logs_and_epoch_logs():
    x, y = _data(16)
    model = _model()
    batches, epochs = [], []
    cb = LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(dict(logs)),
                        on_epoch_end=lambda e, logs: epochs.append(dict(logs)))
    model.fit(x, y, batch_size=8, epochs=2, callbacks=[cb], verbose=0)
    assert len(batches) == 4 and set(batches[0]) == {"loss", "accuracy"}
    assert epochs[0]["loss"] == pytest.approx(batches[1]["loss"])  # running mean at the last batch


def test_stop_training_is_honoured():
    x, y = _data(16)
    model = _model()
    stopper = LambdaCallback(on_epoch_end=lambda e, logs: setattr(model, "stop_training", e == 1))
    history = model.fit(x, y, epochs=10, callbacks=[stopper], verbose=0)
    assert history.epoch == [0, 1]


def test_history_records_every_epoch():
    history = History()
    x, y = _data(16)
    model = _model()
    out = model.fit(x, y, epochs=3, callbacks=[history], verbose=0)
    assert out is history and list(history.history) == ["loss", "accuracy"] and history.epoch == [0, 1, 2]


def _capture(fn):
    out = io.StringIO()
    with redirect_stdout(out):
        fn()
    return out.getvalue()


def test_verbose_output_formats():
    x, y = _data(32)
    model = _model()
    assert _capture(lambda: model.fit(x, y, batch_size=8, epochs=2, verbose=0)) == ""
    two = _capture(lambda: model.fit(x, y, batch_size=8, epochs=2, verbose=2, validation_data=(x, y))).splitlines()
    assert two[0] == "Epoch 1/2" and two[2] == "Epoch 2/2" and len(two) == 4
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - "
                        r"val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}", two[1]), two[1]
    one = _capture(lambda: model.fit(x, y, batch_size=8, epochs=1, verbose=1)).splitlines()
    assert "Epoch" not in one[0]  # a single epoch has no "Epoch 1/1" line, as in Keras 3
    assert re.match(r"4/4 ━+ \d+s \d+(us|ms)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$", one[-1]), one[-1]
    ev = _capture(lambda: model.evaluate(x, y, batch_size=8, verbose=1)).splitlines()
    assert ev[-1].startswith("4/4 ") and "loss:" in ev[-1]
    pred = _capture(lambda: model.predict(x, batch_size=8)).splitlines()
    assert pred[-1].startswith("4/4 ") and "loss" not in pred[-1]


def test_progbar_logger_is_not_duplicated():
    cbs = CallbackList([ProgbarLogger()], add_history=True, add_progbar=True)
    assert sum(isinstance(cb, ProgbarLogger) for cb in cbs) == 1
    assert any(isinstance(cb, History) for cb in cbs)


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    x, y = _data(16)
    model = _model(lr=0.5)
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights()))
    scores = [1.0, 0.5, 0.6, 0.55, 0.7, 0.2]
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, callbacks=[_scripted("score", scores), record, stop], verbose=0)
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 0.5 and stop.best_epoch == 1
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_modes_min_delta_baseline_and_start():
    x, y = _data(8)
    model = _model()
    acc = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[_scripted("val_accuracy", [0.5, 0.52, 0.53, 0.9, 0.9]), acc])
    assert history.epoch == [0, 1] and acc.best == 0.5  # +0.02 is below min_delta
    worse = [0.5, 0.6, 0.7, 0.8, 0.9]
    free = EarlyStopping(monitor="score", patience=2)
    assert model.fit(x, y, epochs=5, verbose=0, callbacks=[_scripted("score", worse), free]).epoch == [0, 1, 2]
    base = EarlyStopping(monitor="score", baseline=0.1, patience=2)  # the first epoch does not reset the wait
    assert model.fit(x, y, epochs=5, verbose=0, callbacks=[_scripted("score", worse), base]).epoch == [0, 1]
    late = EarlyStopping(monitor="score", patience=0, start_from_epoch=3)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[_scripted("score", [1, 2, 3, 1, 2, 3]), late])
    assert history.epoch == [0, 1, 2, 3, 4]
    with pytest.warns(UserWarning, match="not available"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping(monitor="nope")])
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_reduce_lr_on_plateau():
    x, y = _data(8)
    model = _model(lr=1.0)
    scores = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    reduce = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1, min_lr=0.3)
    history = model.fit(x, y, epochs=8, verbose=0, callbacks=[_scripted("score", scores), reduce])
    # logged before the epoch's reduction, as Keras logs it; one epoch of cooldown after each reduction
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.3])
    assert model.optimizer.learning_rate == pytest.approx(0.3)  # floored at min_lr
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_both_signatures_and_verbose():
    x, y = _data(8)
    model = _model(lr=1.0)
    seen = []
    sched = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    probe = LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(model.optimizer.learning_rate))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, probe])
    assert seen == pytest.approx([1.0, 0.5, 0.25])
    assert history.history["learning_rate"] == pytest.approx([1.0, 0.5, 0.25])
    out = _capture(lambda: model.fit(x, y, epochs=1, verbose=0,
                                     callbacks=[LearningRateScheduler(lambda epoch: 0.01, verbose=1)]))
    assert "LearningRateScheduler setting learning rate to 0.01" in out
    with pytest.raises(ValueError, match="float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: "fast")])


def test_csv_logger_writes_and_appends(tmp_path):
    x, y = _data(16)
    model = _model()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[CSVLogger(path)])
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert float(rows[2][2]) == pytest.approx(model.history.history["loss"][1])
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[CSVLogger(path, append=True)])
    assert len(path.read_text().splitlines()) == 4
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;accuracy;loss;val_accuracy;val_loss" and lines[1].endswith(";NA;NA")


def test_model_checkpoint_weights_every_epoch_and_best_only(tmp_path):
    x, y = _data(16)
    model = _model()
    pattern = str(tmp_path / "w-{epoch:02d}-{loss:.2f}.weights.safetensors")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(pattern, save_weights_only=True)])
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2 and names[0].startswith("w-01-") and names[1].startswith("w-02-")
    best = str(tmp_path / "best.weights.safetensors")
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights()))
    ckpt = ModelCheckpoint(best, monitor="score", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[_scripted("score", [0.9, 0.3, 0.5, 0.4]), record, ckpt])
    assert ckpt.best == 0.3
    model.load_weights(best)
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_full_model_and_batch_frequency(tmp_path):
    from shendu.models import load_model

    x, y = _data(16)
    model = _model()
    path = str(tmp_path / "model-{epoch}-{batch}.shendu")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["model-1-2.shendu", "model-1-4.shendu"]
    restored = load_model(str(tmp_path / "model-1-4.shendu"))
    assert int(restored.optimizer.iterations) == 4
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(KeyError, match="val_acc"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "{val_acc}"))])


def test_model_checkpoint_counts_the_steps_of_each_execution(tmp_path):
    x, y = _data(40)
    model = _model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", steps_per_execution=3)
    path = str(tmp_path / "w-{epoch}-{batch}.weights.shendu")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0,
              callbacks=[ModelCheckpoint(path, save_freq=4, save_weights_only=True)])
    # the hook runs at steps 2, 5, 8, 9 of each epoch (after 3, 3, 3, 1 steps): 6 >= 4 at step 5, 3 + 1 at step 9
    assert sorted(os.listdir(tmp_path)) == ["w-1-10.weights.shendu", "w-1-6.weights.shendu",
                                            "w-2-10.weights.shendu", "w-2-6.weights.shendu"]


def test_terminate_on_nan():
    class FakeModel:
        stop_training = False

    cb = TerminateOnNaN()
    cb.set_model(FakeModel())
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not cb.model.stop_training
    out = _capture(lambda: cb.on_train_batch_end(3, {"loss": float("inf")}))
    assert cb.model.stop_training and "Batch 3: Invalid loss" in out


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hook"):
        LambdaCallback(on_banana=print)
    calls = []
    cb = LambdaCallback(on_test_end=lambda logs: calls.append(logs))
    x, y = _data(8)
    _model().evaluate(x, y, callbacks=[cb], verbose=0)
    assert calls and "loss" in calls[0]
