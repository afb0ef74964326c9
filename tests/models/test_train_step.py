"""The one step path: fit, evaluate, predict and the *_on_batch methods go through train_step, test_step and
predict_step, overridden or not; the logs a step returns; loss scaling; steps_per_execution; masking in a custom
loop; the checks of batch_size and of loss and metric names."""

from collections.abc import Mapping

import numpy as np
import pytest

import shendu as sd
from shendu import layers, losses, metrics, optimizers
from shendu.callbacks import Callback, LambdaCallback
from shendu.models import Model, Sequential, lean_step
from tests.models.helpers import blobs, mlp


class Counting(Sequential):
    """Every step overridden through super(): counts the calls, adds a log entry, doubles the predictions."""

    def train_step(self, data):
        self.calls.append("train")
        logs = super().train_step(data)
        logs["twice_loss"] = 2 * logs["loss"]
        return logs

    def test_step(self, data):
        self.calls.append("test")
        return super().test_step(data)

    def predict_step(self, data):
        self.calls.append("predict")
        return super().predict_step(data) * 2.0


def counting_mlp():
    sd.random.seed(0)
    model = Counting([layers.Dense(16, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    model.calls = []
    return model


def test_every_entry_point_goes_through_the_overridden_steps():
    x, y = blobs(n=64)
    model = counting_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seen = []
    history = model.fit(x, y, batch_size=32, epochs=1, validation_data=(x[:16], y[:16]), verbose=0,
                        callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))])
    assert model.calls == ["train", "train", "test"]
    assert [set(logs) for logs in seen] == [{"loss", "accuracy", "twice_loss"}] * 2
    assert history.history["twice_loss"][0] == pytest.approx(2 * history.history["loss"][0])
    model.calls.clear()
    model.evaluate(x, y, batch_size=32, verbose=0)
    np.testing.assert_allclose(model.predict(x, batch_size=64, verbose=0), 2 * model(x).numpy(), rtol=1e-6)
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "accuracy", "twice_loss"}
    model.test_on_batch(x, y)
    np.testing.assert_allclose(model.predict_on_batch(x), 2 * model(x).numpy(), rtol=1e-6)
    assert model.calls == ["test", "test", "predict", "train", "test", "predict"]


def test_an_override_through_super_trains_exactly_as_the_default(monkeypatch):
    """Bit for bit against the default step's ops (its compiled call, `lean_step.set_compiled`, agrees to rounding)."""
    monkeypatch.setattr(lean_step, "_compiled", False)
    x, y = blobs(n=64)
    plain, custom = mlp(), counting_mlp()
    for model in (plain, custom):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = [m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history for m in (plain, custom)]
    assert logs[0]["loss"] == logs[1]["loss"] and logs[0]["accuracy"] == logs[1]["accuracy"]
    for a, b in zip(plain.get_weights(), custom.get_weights()):
        np.testing.assert_array_equal(a, b)


class CountedReads(metrics.Mean):
    """The mean of ones, counting how often its result is read."""

    def __init__(self):
        super().__init__(name="counted")
        self.reads = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(np.ones(len(y_true)))

    def result(self):
        self.reads += 1
        return super().result()


def test_a_steps_logs_are_computed_only_when_read():
    x, y = blobs(n=64)
    model = mlp()
    counted = CountedReads()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[counted])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert counted.reads == 2  # once per epoch, for the epoch's logs: no callback wanted the 8 steps' logs
    counted.reads = 0
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[LambdaCallback(on_train_batch_end=print)])
    assert counted.reads == 8  # once per step; the epoch's logs are its last step's
    logs = model.train_step((x, y))
    assert isinstance(logs, Mapping) and counted.reads == 8
    assert dict(logs) == {"loss": pytest.approx(logs["loss"]), "counted": 1.0} and counted.reads == 9


def test_loss_scale_factor_multiplies_the_loss_before_backward():
    x, y = blobs(n=64)

    def trained(factor):
        model = mlp()
        model.compile(optimizer=optimizers.SGD(0.1, loss_scale_factor=factor), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    start, plain, scaled = mlp().get_weights(), trained(None), trained(8.0)
    assert not np.allclose(start[0], plain[0])
    for a, b in zip(plain, scaled):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class BatchHooks(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("end", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.events.append(("predict", batch, logs["outputs"].shape))


def test_steps_per_execution_runs_every_step_and_the_batch_callbacks_once_per_group():
    x, y = blobs(n=40)
    grouped, single = mlp(), mlp()
    grouped.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=4)
    single.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hooks = BatchHooks()
    grouped.fit(x, y, batch_size=4, shuffle=False, verbose=0, callbacks=[hooks])  # 10 steps
    single.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert hooks.events == [("begin", 0), ("end", 3), ("begin", 4), ("end", 7), ("begin", 8), ("end", 9)]
    for a, b in zip(grouped.get_weights(), single.get_weights()):
        np.testing.assert_array_equal(a, b)
    hooks.events.clear()
    assert grouped.evaluate(x, y, batch_size=4, verbose=0, callbacks=[hooks]) == pytest.approx(
        single.evaluate(x, y, batch_size=4, verbose=0))
    grouped.predict(x, batch_size=4, verbose=0, callbacks=[hooks])
    assert hooks.events == [("test", 3), ("test", 7), ("test", 9),
                            ("predict", 3, (16, 3)), ("predict", 7, (16, 3)), ("predict", 9, (8, 3))]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="steps_per_execution must be a positive integer"):
            grouped.compile(loss="mse", steps_per_execution=bad)


def test_a_custom_loop_masks_the_loss_as_fit_does():
    ids = np.array([[3, 5, 2, 0, 0], [1, 0, 0, 0, 0], [4, 4, 7, 9, 2]])
    y = np.random.default_rng(1).normal(size=(3, 5, 1)).astype("float32")

    def model():
        sd.random.seed(0)
        inputs = layers.Input((5,), dtype="int64")
        return Model(inputs, layers.Dense(1)(layers.Embedding(10, 4, mask_zero=True)(inputs)))

    fitted = model()
    fitted.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    logged = fitted.fit(ids, y, batch_size=3, verbose=0).history["loss"][0]
    custom, optimizer = model(), optimizers.SGD(0.1)
    y_pred = custom(ids, training=True)
    loss = losses.MeanSquaredError()(y, y_pred)
    assert loss.item() == pytest.approx(logged, rel=1e-6)
    assert loss.item() == pytest.approx(((y_pred.numpy() - y) ** 2)[ids != 0].mean(), rel=1e-6)
    loss.backward()
    optimizer.apply_gradients([(v.grad, v) for v in custom.trainable_weights if v.grad is not None])
    for a, b in zip(fitted.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "32"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused(bad):
    x, y = blobs(n=8)
    model = mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    for call in (lambda: model.fit(x, y, batch_size=bad, verbose=0), lambda: model.evaluate(x, y, batch_size=bad),
                 lambda: model.predict(x, batch_size=bad)):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            call()
    with pytest.raises(ValueError, match="fit: validation_batch_size must be a positive integer"):
        model.fit(x, y, validation_data=(x, y), validation_batch_size=bad, verbose=0)


def test_unknown_loss_and_metric_names_fail_at_compile_with_the_close_matches():
    model = mlp()
    with pytest.raises(ValueError, match="Unknown loss 'msee'; did you mean 'mse'"):
        model.compile(loss="msee")
    with pytest.raises(ValueError, match="Unknown loss 'sparse_categorical_crossentrop'; did you mean "
                                         "'sparse_categorical_crossentropy'"):
        model.compile(loss={"dense_1": "sparse_categorical_crossentrop"})
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'; did you mean 'accuracy'"):
        model.compile(loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="Unknown metric 'maee'; did you mean 'mae'"):
        model.compile(loss="mse", weighted_metrics=["mse", "maee"])
    assert not model.compiled


def test_a_custom_step_returning_a_non_finite_loss_stops_fit_at_that_step(capsys):
    class Diverging(Sequential):
        def train_step(self, data):
            self.steps += 1
            return {"loss": sd.tensor(np.float32(np.nan if self.steps == 3 else 1.0))}

    x, y = blobs(n=64)
    model = Diverging([layers.Dense(3, input_shape=(4,))])
    model.steps = 0
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert model.steps == 3
    assert "Epoch 1/2, batch 3: the loss is nan" in capsys.readouterr().out
