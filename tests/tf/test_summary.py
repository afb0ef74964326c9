"""tf.summary: event files read back with TensorBoard's own reader (EventAccumulator), values compared with what
was written; the default writer, step and record_if rules of TensorFlow; the get_started tutorial's GradientTape
loop and the scalars tutorial's set_as_default pattern, unchanged."""

from __future__ import annotations

import glob
import io
import os
import sys

import numpy as np
import pytest

import shendu as tf
from shendu.tf import summary as summary_module


@pytest.fixture(autouse=True)
def fresh_summary_state():
    """Each test starts with no default writer, step or recording condition, as a new TensorFlow process."""
    state = summary_module._state
    saved = state.writer, state.step, state.is_recording
    state.writer = state.step = state.is_recording = None
    yield
    state.writer, state.step, state.is_recording = saved


def read_run(logdir):
    """{tag: [(step, array), ...]} of every tensor summary in the run, read by TensorBoard's EventAccumulator."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"tensors": 0, "images": 0,
                                                                          "histograms": 0})
    acc.Reload()
    return {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}, acc


def plugin_of(acc, tag):
    return acc.SummaryMetadata(tag).plugin_data.plugin_name


def decode_png(blob, pillow):
    return np.asarray(pillow.open(io.BytesIO(blob)))


# Without the tensorboard package: one line saying what to install; the writer-free parts still work.

def test_without_tensorboard_create_file_writer_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"^tf.summary.create_file_writer needs the tensorboard package: "
                                          r"pip install 'shendu\[tensorboard\]'$"):
        tf.summary.create_file_writer(tmp_path)
    assert not os.listdir(tmp_path)


def test_without_a_default_writer_summaries_write_nothing_and_return_false(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    assert tf.summary.scalar("loss", 1.0, step=0) is False
    assert tf.summary.histogram("w", np.ones(3), step=0) is False
    assert tf.summary.image("im", np.zeros((1, 2, 2, 1)), step=0) is False
    assert tf.summary.text("t", "hello", step=0) is False
    assert tf.summary.should_record_summaries() is False
    noop = tf.summary.create_noop_writer()
    with noop.as_default(step=3):
        assert tf.summary.experimental.get_step() is None
        assert tf.summary.scalar("loss", 1.0, step=0) is False
    tf.summary.experimental.set_step(5)
    assert tf.summary.experimental.get_step() == 5


# Writing and reading back.

def test_event_file_name_and_the_none_logdir(tensorboard, tmp_path):
    writer = tf.summary.create_file_writer(tmp_path / "run")
    writer.close()
    (name,) = os.listdir(tmp_path / "run")
    assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
    with pytest.raises(ValueError, match="logdir cannot be None"):
        tf.summary.create_file_writer(None)


def test_scalar_round_trip_with_steps_from_argument_as_default_and_set_step(tensorboard, tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        assert tf.summary.scalar("a", 0.25, step=1) is True
        assert tf.summary.scalar("a", tf.constant(0.5), step=tf.Variable(2, dtype="int64")) is True
    with writer.as_default(step=7):
        tf.summary.scalar("b", np.float64(3.0))
        tf.summary.scalar("c", 4, step=8)
    assert tf.summary.experimental.get_step() is None
    tf.summary.experimental.set_step(9)
    with writer.as_default():
        tf.summary.scalar("d", True)
    writer.close()
    tags, acc = read_run(tmp_path)
    assert [(s, float(v)) for s, v in tags["a"]] == [(1, 0.25), (2, 0.5)]
    assert [(s, float(v)) for s, v in tags["b"]] == [(7, 3.0)]
    assert [(s, float(v)) for s, v in tags["c"]] == [(8, 4.0)]
    assert [(s, float(v)) for s, v in tags["d"]] == [(9, 1.0)]
    assert tags["a"][0][1].dtype == np.float32 and plugin_of(acc, "a") == "scalars"


def test_no_step_and_bad_data_raise_clear_errors(tensorboard, tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        with pytest.raises(ValueError, match="no step set"):
            tf.summary.scalar("a", 1.0)
        with pytest.raises(ValueError, match="expects one real number"):
            tf.summary.scalar("a", [1.0, 2.0], step=0)
        with pytest.raises(ValueError, match=r"shape \[k, h, w, c\]"):
            tf.summary.image("im", np.zeros((4, 4)), step=0)
        with pytest.raises(ValueError, match="the step must be a scalar"):
            tf.summary.scalar("a", 1.0, step=[1, 2])
    writer.close()
    with pytest.raises(RuntimeError, match="is closed"), writer.as_default():
        tf.summary.scalar("a", 1.0, step=0)


def test_histogram_matches_tensorboards_reference_bucketing(tensorboard, tmp_path):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util

    data = np.random.default_rng(0).normal(size=(40, 25)).astype("float32")
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default(step=3):
        tf.summary.histogram("w", data)
        tf.summary.histogram("w5", tf.constant(data), buckets=5)
        tf.summary.histogram("same", np.full(7, 2.5))
        tf.summary.histogram("empty", np.zeros(0))
    writer.close()
    tags, acc = read_run(tmp_path)
    for tag, buckets, values in (("w", None, data), ("w5", 5, data), ("same", None, np.full(7, 2.5)),
                                 ("empty", None, np.zeros(0))):
        ((step, got),) = tags[tag]
        want = tensor_util.make_ndarray(histogram_pb(tag, values, buckets).value[0].tensor)
        assert step == 3 and got.shape == want.shape and plugin_of(acc, tag) == "histograms"
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        assert got[:, 2].sum() == np.size(values)


def test_images_are_pngs_of_the_data_and_max_outputs_limits_them(tensorboard, pillow, tmp_path):
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (5, 6, 4, 1)).astype(np.uint8)
    rgba = rng.integers(0, 256, (2, 3, 5, 4)).astype(np.uint8)
    floats = np.array([[[[0.0], [0.5]], [[1.0], [1.7]]]], dtype=np.float32)  # clipped to [0, 1], scaled by 255.5
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default(step=0):
        tf.summary.image("grey", grey)
        tf.summary.image("rgba", rgba, max_outputs=10)
        tf.summary.image("floats", floats)
    writer.close()
    tags, acc = read_run(tmp_path)
    (_, grey_t), (_, rgba_t), (_, float_t) = tags["grey"][0], tags["rgba"][0], tags["floats"][0]
    assert list(grey_t[:2]) == [b"4", b"6"] and len(grey_t) == 2 + 3
    for blob, want in zip(grey_t[2:], grey[:3], strict=True):
        np.testing.assert_array_equal(decode_png(blob, pillow), want[..., 0])
    assert len(rgba_t) == 2 + 2
    for blob, want in zip(rgba_t[2:], rgba, strict=True):
        np.testing.assert_array_equal(decode_png(blob, pillow), want)
    np.testing.assert_array_equal(decode_png(float_t[2], pillow), [[0, 127], [255, 255]])
    assert plugin_of(acc, "grey") == "images"


def test_text_strings_and_tables(tensorboard, tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        tf.summary.text("note", "loss went **down**", step=1)
        tf.summary.text("table", np.array([["a", "b"], ["c", "d"]]), step=2)
    writer.close()
    tags, acc = read_run(tmp_path)
    assert tags["note"][0][0] == 1 and tags["note"][0][1].item() == b"loss went **down**"
    np.testing.assert_array_equal(tags["table"][0][1], np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object))
    assert plugin_of(acc, "note") == "text"


def test_record_if_and_nested_writers_follow_tensorflow(tensorboard, tmp_path):
    a = tf.summary.create_file_writer(tmp_path / "a")
    b = tf.summary.create_file_writer(tmp_path / "b")
    step = tf.Variable(0, dtype="int64")
    with a.as_default(step=step):
        for i in range(6):
            step.assign(i)
            with tf.summary.record_if(lambda: int(step.numpy()) % 2 == 0):
                tf.summary.scalar("even", float(i))
            with tf.summary.record_if(False):
                assert tf.summary.scalar("never", 1.0) is False
        with b.as_default(step=20):
            tf.summary.scalar("inner", 1.0)
        tf.summary.scalar("outer", 2.0)
    a.close()
    b.close()
    tags_a, _ = read_run(tmp_path / "a")
    tags_b, _ = read_run(tmp_path / "b")
    assert [s for s, _ in tags_a["even"]] == [0, 2, 4] and "never" not in tags_a
    assert [(s, float(v)) for s, v in tags_a["outer"]] == [(5, 2.0)]
    assert [(s, float(v)) for s, v in tags_b["inner"]] == [(20, 1.0)]


def test_as_default_flushes_on_exit_so_the_file_is_readable_while_the_writer_is_open(tensorboard, tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, flush_millis=10**9)
    with writer.as_default():
        tf.summary.scalar("x", 1.5, step=0)
    tags, _ = read_run(tmp_path)
    assert [(s, float(v)) for s, v in tags["x"]] == [(0, 1.5)]
    writer.close()


def test_graph_writes_a_graph_def(tensorboard, tmp_path):
    from tensorboard.compat.proto.graph_pb2 import GraphDef

    graph = GraphDef()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="y", op="Relu", input=["x"])
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        assert tf.summary.graph(graph) is True
        with pytest.raises(ValueError, match="expected a GraphDef"):
            tf.summary.graph("not a graph")
    writer.close()
    _, acc = read_run(tmp_path)
    assert [(n.name, n.op, list(n.input)) for n in acc.Graph().node] == [("x", "Placeholder", []), ("y", "Relu", ["x"])]


# The tutorials' patterns, run unchanged with `import shendu as tf`.

def test_get_started_gradient_tape_loop_logs_the_metrics_per_epoch(tensorboard, tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = rng.random((48, 28, 28)).astype("float32"), rng.integers(0, 10, 48)
    x_test, y_test = rng.random((16, 28, 28)).astype("float32"), rng.integers(0, 10, 16)
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(60000).batch(16)
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(16)

    def create_model():
        return tf.keras.models.Sequential([
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])

    loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
    optimizer = tf.keras.optimizers.Adam()
    train_loss = tf.keras.metrics.Mean("train_loss", dtype=tf.float32)
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy("train_accuracy")
    test_loss = tf.keras.metrics.Mean("test_loss", dtype=tf.float32)
    test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy("test_accuracy")

    def train_step(model, optimizer, x_train, y_train):
        with tf.GradientTape() as tape:
            predictions = model(x_train, training=True)
            loss = loss_object(y_train, predictions)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_loss(loss)
        train_accuracy(y_train, predictions)

    def test_step(model, x_test, y_test):
        predictions = model(x_test)
        loss = loss_object(y_test, predictions)
        test_loss(loss)
        test_accuracy(y_test, predictions)

    train_log_dir = str(tmp_path / "gradient_tape" / "train")
    test_log_dir = str(tmp_path / "gradient_tape" / "test")
    train_summary_writer = tf.summary.create_file_writer(train_log_dir)
    test_summary_writer = tf.summary.create_file_writer(test_log_dir)

    model = create_model()
    expected = {"train": [], "test": []}
    for epoch in range(3):
        for (x_train, y_train) in train_dataset:
            train_step(model, optimizer, x_train, y_train)
        with train_summary_writer.as_default():
            tf.summary.scalar("loss", train_loss.result(), step=epoch)
            tf.summary.scalar("accuracy", train_accuracy.result(), step=epoch)
        for (x_test, y_test) in test_dataset:
            test_step(model, x_test, y_test)
        with test_summary_writer.as_default():
            tf.summary.scalar("loss", test_loss.result(), step=epoch)
            tf.summary.scalar("accuracy", test_accuracy.result(), step=epoch)
        expected["train"].append((float(train_loss.result()), float(train_accuracy.result())))
        expected["test"].append((float(test_loss.result()), float(test_accuracy.result())))
        train_loss.reset_states()
        test_loss.reset_states()
        train_accuracy.reset_states()
        test_accuracy.reset_states()

    for run in ("train", "test"):
        tags, _ = read_run(tmp_path / "gradient_tape" / run)
        assert [s for s, _ in tags["loss"]] == [0, 1, 2]
        got = [(float(loss), float(acc)) for (_, loss), (_, acc) in zip(tags["loss"], tags["accuracy"], strict=True)]
        np.testing.assert_allclose(got, expected[run], rtol=1e-6)


def test_scalars_tutorial_set_as_default_logs_a_custom_learning_rate_from_a_scheduler(tensorboard, tmp_path):
    file_writer = tf.summary.create_file_writer(str(tmp_path / "metrics"))
    file_writer.set_as_default()

    def lr_schedule(epoch):
        learning_rate = 0.2
        if epoch > 1:
            learning_rate = 0.02
        tf.summary.scalar("learning rate", data=learning_rate, step=epoch)
        return learning_rate

    lr_callback = tf.keras.callbacks.LearningRateScheduler(lr_schedule)
    model = tf.keras.models.Sequential([tf.keras.layers.Dense(4, input_dim=1), tf.keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer=tf.keras.optimizers.SGD())
    data = np.linspace(-1, 1, 32).astype("float32")
    model.fit(data, 0.5 * data + 2, epochs=3, batch_size=16, verbose=0, callbacks=[lr_callback])
    file_writer.flush()
    tags, _ = read_run(tmp_path / "metrics")
    assert [(s, round(float(v), 6)) for s, v in tags["learning rate"]] == [(0, 0.2), (1, 0.2), (2, 0.02)]
    file_writer.close()


def test_files_match_what_tensorflow_writes(tensorboard, tmp_path):
    """The tags, plugins, steps, dtypes and shapes TensorFlow 2.21's tf.summary wrote for the same calls (recorded
    from a run of TensorFlow: scalars float32 (), histograms float64 (30, 3), images strings (2 + k,), text ())."""
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        tf.summary.scalar("s", 1.5, step=3)
        tf.summary.histogram("h", np.arange(10.0), step=1)
        tf.summary.image("im", np.zeros((2, 5, 4, 1), "float32"), step=0)
        tf.summary.text("t", "hello", step=0)
    writer.close()
    tags, acc = read_run(tmp_path)
    got = {t: (plugin_of(acc, t), s, v.dtype.str, v.shape) for t, [(s, v)] in tags.items()}
    assert got == {"s": ("scalars", 3, "<f4", ()), "h": ("histograms", 1, "<f8", (30, 3)),
                   "im": ("images", 0, "|O", (4,)), "t": ("text", 0, "|O", ())}
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*.v2"))) == 1
