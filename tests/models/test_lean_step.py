"""The lean training step (shendu/models/lean_step.py) against the general train_step, its reference: the same
weights, optimizer state, gradients, logged loss and accuracy bit for bit; its compiled call for float32 stacks
against its ops' path, to rounding; and the configurations it leaves to the general step."""

import re

import numpy as np
import pytest

import shendu as sd
from shendu import regularizers
from shendu.keras import Sequential, layers
from shendu.models import lean_step


def _data(n=200, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6, 5), dtype=np.float32), rng.integers(0, classes, n)


def _stack(last="softmax", dropout=False, use_bias=True, hidden=None):
    stack = [layers.Flatten(input_shape=(6, 5)), layers.Dense(16, activation="relu", use_bias=use_bias)]
    if dropout:
        stack.append(layers.Dropout(0.3))
    stack += [layers.Dense(12, activation=hidden or "relu"), layers.Dense(10, activation=last)]
    return stack


def _train(lean, stack, loss="sparse_categorical_crossentropy", metrics=("accuracy",), optimizer="adam",
           sample_weight=None, epochs=2, fused=False, data=None):
    """Fit a fresh model (weights drawn from one seed) with the lean step on or off, and its compiled call (`fused`)
    allowed or not."""
    before, before_fused = lean_step.set_enabled(lean), lean_step.set_compiled(fused)
    try:
        sd.random.seed(0)
        model = Sequential(stack())
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
        x, y = data or _data()
        history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, sample_weight=sample_weight)
    finally:
        lean_step.set_enabled(before)
        lean_step.set_compiled(before_fused)
    return model, history.history


def _assert_same_training(a, b):
    (m1, h1), (m2, h2) = a, b
    assert h1 == h2
    for w1, w2 in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    for v1, v2 in zip(m1.trainable_weights, m2.trainable_weights):
        np.testing.assert_array_equal(v1.grad.data, v2.grad.data)
    s1, s2 = m1.optimizer.get_state(), m2.optimizer.get_state()
    for k1, k2 in zip(s1, s2):
        np.testing.assert_array_equal(s1[k1], s2[k2])


@pytest.mark.parametrize(("name", "stack", "loss"), [
    ("relu-softmax", lambda: _stack(), "sparse_categorical_crossentropy"),
    ("dropout-no-bias", lambda: _stack(dropout=True, use_bias=False), "sparse_categorical_crossentropy"),
    ("logits", lambda: _stack(last=None), sd.keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    ("linear-hidden", lambda: _stack(hidden="linear"), "sparse_categorical_crossentropy"),
])
def test_lean_step_trains_exactly_as_the_general_step(name, stack, loss, compiled):
    lean, general = _train(True, stack, loss), _train(False, stack, loss)
    assert isinstance(lean[0]._lean, lean_step.LeanStep) and general[0]._lean is False
    _assert_same_training(lean, general)
    assert lean[1]["loss"][1] < lean[1]["loss"][0]


def test_lean_step_runs_for_fit_batches_after_the_first(monkeypatch):
    runs = []
    run = lean_step.LeanStep.run
    monkeypatch.setattr(lean_step.LeanStep, "run", lambda self, x, y: runs.append(len(x)) or run(self, x, y))
    _train(True, _stack, epochs=1)
    assert runs == [32] * 5 + [8]  # 200 samples: the first of 7 batches ran the general step, which made the plan


@pytest.mark.parametrize(("why", "kwargs"), [
    ("another metric", {"metrics": ("accuracy", "sparse_top_k_categorical_accuracy")}),
    ("ignore_class", {"loss": sd.keras.losses.SparseCategoricalCrossentropy(ignore_class=0)}),
    ("a loss scale", {"optimizer": sd.keras.optimizers.Adam(loss_scale_factor=8.0)}),
    ("a regularizer", {"stack": lambda: [layers.Flatten(input_shape=(6, 5)),
                                         layers.Dense(10, "softmax", kernel_regularizer=regularizers.l2())]}),
    ("a hidden softmax", {"stack": lambda: _stack(hidden="softmax")}),
    ("a tanh", {"stack": lambda: _stack(hidden="tanh")}),
])
def test_unusual_configurations_keep_the_general_step(why, kwargs):
    model, _ = _train(True, **{"stack": _stack, **kwargs})
    assert model._lean is False, why


def test_sample_weights_run_the_general_step_with_the_same_results():
    weights = np.linspace(0.5, 1.5, 200)
    lean, general = _train(True, _stack, sample_weight=weights), _train(False, _stack, sample_weight=weights)
    _assert_same_training(lean, general)


def test_overridden_train_step_or_compute_loss_is_respected():
    class Scaled(Sequential):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return super().compute_loss(x, y, y_pred, sample_weight, training) * 2.0

    sd.random.seed(0)
    model = Scaled(_stack())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model._lean is False


def test_batches_of_another_dtype_or_tensors_fall_back():
    model, _ = _train(True, _stack, epochs=1)
    plan = model._lean
    x, y = _data(8)
    assert not plan.run(x.astype(np.float64), y)
    assert not plan.run(sd.constant(x), y)
    assert not plan.run(x, y.astype(np.float32))
    assert not plan.run(x[:, :5], y)
    with sd.no_grad():
        assert not plan.run(x, y)


def _assert_close_training(a, b):
    (m1, h1), (m2, h2) = a, b
    for key in h2:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5)
    for w1, w2 in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-4, atol=1e-6)
    for v1, v2 in zip(m1.trainable_weights, m2.trainable_weights):
        np.testing.assert_allclose(v1.grad.data, v2.grad.data, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize(("name", "stack", "loss"), [
    ("relu-softmax", lambda: _stack(), "sparse_categorical_crossentropy"),
    ("no-bias", lambda: _stack(use_bias=False), "sparse_categorical_crossentropy"),
    ("logits", lambda: _stack(last=None), sd.keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    ("linear-hidden", lambda: _stack(hidden="linear"), "sparse_categorical_crossentropy"),
    ("sum", lambda: _stack(), sd.keras.losses.SparseCategoricalCrossentropy(reduction="sum")),
    ("dropout", lambda: _stack(dropout=True), "sparse_categorical_crossentropy"),
])
def test_compiled_call_trains_as_the_ops(numba, monkeypatch, name, stack, loss):
    calls = []
    step = lean_step.dense_step
    monkeypatch.setattr(lean_step, "dense_step", lambda *a: calls.append(len(a[1])) or step(*a))
    fused = _train(True, stack, loss, fused=True)
    assert calls == [32] * 5 + [8] + [32] * 6 + [8], "the compiled call ran every batch after the first"
    ops = _train(True, stack, loss)
    _assert_close_training(fused, ops)
    assert fused[1]["loss"][1] < fused[1]["loss"][0]


def test_compiled_call_leaves_float64_and_other_dropouts_to_the_ops(numba, monkeypatch):
    calls = []
    monkeypatch.setattr(lean_step, "dense_step", lambda *a: calls.append(1))
    for stack in ([layers.Flatten(input_shape=(6, 5)), layers.Dropout(0.2), layers.Dense(10, activation="softmax")],
                  [layers.Flatten(input_shape=(6, 5)), layers.Dense(8), layers.Dropout(0.2), layers.Dropout(0.1),
                   layers.Dense(10, activation="softmax")]):
        model, _ = _train(True, lambda s=stack: s, fused=True, epochs=1)
        assert isinstance(model._lean, lean_step.LeanStep) and not calls  # dropout on the input; two in a row
    x, y = _data()
    before = sd.backend.floatx()
    sd.backend.set_floatx("float64")
    try:
        model, _ = _train(True, _stack, fused=True, epochs=1, data=(x.astype(np.float64), y))
    finally:
        sd.backend.set_floatx(before)
    assert isinstance(model._lean, lean_step.LeanStep) and not calls


@pytest.mark.parametrize("chunked", [False, True])
def test_compiled_call_names_a_label_out_of_range(numba, monkeypatch, chunked):
    if chunked:
        monkeypatch.setattr(lean_step, "COMPILED_MAX_WORK", 1000)
        monkeypatch.setattr(lean_step, "MIN_PRODUCT_WORK", 100)
    x, y = _data()
    y[100] = 10
    with pytest.raises(ValueError, match="label 10 is out of range for 10 classes"):
        _train(True, _stack, fused=True, data=(x, y))


def test_compiled_call_stops_on_a_nan_loss_with_the_weights_before(numba, capsys):
    x, y = _data()
    x[70] = np.nan
    model, history = _train(True, _stack, fused=True, data=(x, y))
    where = re.search(r"Epoch 1/2, batch (\d+): the loss is nan", capsys.readouterr().out)
    assert where and int(where.group(1)) > 1  # a batch after the first, which the general step runs
    assert len(history["loss"]) == 1
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_products_over_the_limit_run_as_compiled_calls_per_chunk(numba, monkeypatch):
    """Over COMPILED_MAX_WORK each chunk of rows is one compiled call on shendu's threads (two chunks of 16 here,
    forced by the set thread count and a small chunk size); the training follows the ops' path to rounding."""
    calls = []
    step = lean_step.dense_step
    monkeypatch.setattr(lean_step, "dense_step", lambda *a: calls.append(len(a[1])) or step(*a))
    monkeypatch.setattr(lean_step, "COMPILED_MAX_WORK", 1000)
    monkeypatch.setattr(lean_step, "MIN_PRODUCT_WORK", 100)
    with sd.parallel.num_threads(2):
        chunked = _train(True, _stack, fused=True)
        ops = _train(True, _stack)
    assert calls == [16, 16] * 5 + [4, 4] + [16, 16] * 6 + [4, 4]  # the fit's first batch: the general step
    _assert_close_training(chunked, ops)
    calls.clear()
    monkeypatch.setattr(lean_step, "BLOCK_ROWS", 6)  # each chunk of 16 rows in blocks of 6, 6 and 4
    with sd.parallel.num_threads(2):
        blocked = _train(True, _stack, fused=True)
    assert sorted(calls) == sorted([6, 6, 4] * 22 + [4] * 4)  # the two threads' interleaved
    _assert_close_training(blocked, ops)


def _images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12, 11, 2), dtype=np.float32), rng.integers(0, 10, n)


CNN_STACKS = [
    ("chain", lambda: [layers.Conv2D(6, 3, activation="relu", input_shape=(12, 11, 2)), layers.MaxPooling2D(),
                       layers.Conv2D(5, 2, use_bias=False), layers.MaxPooling2D(), layers.Flatten(),
                       layers.Dense(10, activation="softmax")]),
    ("pair-dropout", lambda: [layers.Conv2D(4, 3, activation="relu", padding="same", input_shape=(12, 11, 2)),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(16, activation="relu"),
                              layers.Dropout(0.25), layers.Dense(10, activation="softmax")]),
]


def _train_cnn(stack, lean=True, fused=False, optimizer="adam"):
    before, before_fused = lean_step.set_enabled(lean), lean_step.set_compiled(fused)
    try:
        sd.random.seed(0)
        model = Sequential(stack())
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(*_images(), batch_size=32, epochs=2, verbose=0)
    finally:
        lean_step.set_enabled(before)
        lean_step.set_compiled(before_fused)
    return model, history.history


@pytest.mark.parametrize(("name", "stack"), CNN_STACKS)
def test_lean_step_runs_fused_conv_pool_stacks_exactly_as_the_general_step(name, stack, compiled):
    results = [_train_cnn(stack, lean) for lean in (True, False)]
    plan = results[0][0]._lean
    assert isinstance(plan, lean_step.LeanStep) and plan.stages[0][0] == lean_step.CONV
    assert len(plan.stages[0][1]) == (4 if name == "chain" else 2)
    _assert_same_training(*results)
    assert results[0][1]["loss"][1] < results[0][1]["loss"][0]


@pytest.mark.parametrize(("name", "stack"), CNN_STACKS)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_cnns_dense_layers_run_as_the_compiled_call_after_the_conv_ops(numba, monkeypatch, name, stack, optimizer):
    """The Dense layers after the conv head are one compiled call that also gives the head its gradient (and, for
    plain Adam, updates the Dense weights inside while apply_gradients updates the head's at the same step); the
    first Dense layer's weight gradient (and update) is a second call, `weight_step`, on a worker thread."""
    calls, deferred = [], []
    step, weights = lean_step.dense_step, lean_step.weight_step
    monkeypatch.setattr(lean_step, "dense_step", lambda *a: calls.append(a[10].shape) or step(*a))
    monkeypatch.setattr(lean_step, "weight_step", lambda *a: deferred.append(a[5]) or weights(*a))
    fused = _train_cnn(stack, fused=True, optimizer=optimizer)
    assert len(calls) == 5 and all(shape[0] == 32 for shape in calls)  # 2 epochs of 3 batches; the first: general
    assert deferred == [optimizer == "adam"] * 5  # with Adam's update inside, else the gradient alone
    ops = _train_cnn(stack, optimizer=optimizer)
    _assert_close_training(fused, ops)
    assert int(fused[0].optimizer.iterations.data) == int(ops[0].optimizer.iterations.data) == 6


def test_a_regularized_or_unfused_conv_keeps_the_general_step():
    for conv in (layers.Conv2D(4, 3, kernel_regularizer="l2", input_shape=(12, 11, 2)),
                 layers.Conv2D(4, 3, activation="tanh", input_shape=(12, 11, 2))):
        sd.random.seed(0)
        model = Sequential([conv, layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(*_images(64), batch_size=32, epochs=1, verbose=0)
        assert model._lean is False
