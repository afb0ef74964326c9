"""keras.callbacks.TensorBoard: the event files of a fit read back with TensorBoard's own reader (EventAccumulator)
and compared with History, the batch logs, the weights and the model; Keras 3's tags and directory layout."""

from __future__ import annotations

import io
import json
import os
import sys

import numpy as np
import pytest

import shendu as tf
from shendu.callbacks.tensorboard import weight_image
from shendu.tf.summary import histogram_buckets

keras = tf.keras


def read_run(logdir):
    """({tag: [(step, array)]}, accumulator) of one run directory, every event kept."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"tensors": 0, "images": 0,
                                                                          "histograms": 0})
    acc.Reload()
    return {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}, acc


def scalars(tags, tag):
    return [(step, float(value)) for step, value in tags[tag]]


def regression_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 1))).astype("float32")


def small_mlp():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def test_without_tensorboard_the_callback_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"^keras.callbacks.TensorBoard needs the tensorboard package: "
                                          r"pip install 'shendu\[tensorboard\]'$"):
        keras.callbacks.TensorBoard("logs")


def test_bad_arguments_and_profiling_raise(tensorboard):
    with pytest.raises(ValueError, match="update_freq must be"):
        keras.callbacks.TensorBoard("logs", update_freq="often")
    with pytest.raises(ValueError, match="profiling needs TensorFlow's profiler"):
        keras.callbacks.TensorBoard("logs", profile_batch=(10, 20))
    with pytest.raises(ValueError, match="histogram_freq must be a non-negative integer"):
        keras.callbacks.TensorBoard("logs", histogram_freq=-1)


def test_epoch_scalars_equal_history_in_train_and_validation_runs(tensorboard, tmp_path):
    x, y = regression_data()
    model = small_mlp()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path, write_steps_per_second=True)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, _ = read_run(tmp_path / "train")
    val, _ = read_run(tmp_path / "validation")
    for name in ("loss", "mae"):
        np.testing.assert_allclose([v for _, v in scalars(train, f"epoch_{name}")], history.history[name], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in scalars(val, f"epoch_{name}")], history.history[f"val_{name}"],
                                   rtol=1e-6)
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        # evaluation_<name>_vs_iterations: the validation result at the optimizer's step count (3 batches an epoch)
        assert [s for s, _ in val[f"evaluation_{name}_vs_iterations"]] == [3, 6, 9]
    assert scalars(train, "epoch_learning_rate") == [(0, pytest.approx(0.01)), (1, pytest.approx(0.01)),
                                                     (2, pytest.approx(0.01))]
    assert all(v > 0 for _, v in scalars(train, "epoch_steps_per_second"))
    assert not any(tag.startswith("batch_") for tag in train)  # update_freq="epoch"


def test_learning_rate_under_a_schedule_is_the_current_value(tensorboard, tmp_path):
    x, y = regression_data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True)
    model.compile(keras.optimizers.SGD(schedule), "mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train, _ = read_run(tmp_path / "train")
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_learning_rate")], [0.05, 0.025], rtol=1e-6)


@pytest.mark.parametrize("update_freq, kept", [("batch", [1, 2, 3, 4, 5, 6]), (2, [2, 4, 6])])
def test_batch_scalars_equal_the_batch_logs(tensorboard, tmp_path, update_freq, kept):
    x, y = regression_data()
    batch_logs = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs)))
    model = small_mlp()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq=update_freq), record])
    train, _ = read_run(tmp_path / "train")
    for name in ("loss", "mae"):
        want = [(step, batch_logs[step - 1][name]) for step in kept]  # global batch steps count from 1
        got = scalars(train, f"batch_{name}")
        assert [s for s, _ in got] == kept
        np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-6)
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]


def test_weight_histograms_every_histogram_freq_epochs_count_the_weights(tensorboard, tmp_path):
    x, y = regression_data()
    model = small_mlp()
    snapshots = {}
    keep = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.update({epoch: [w.numpy().copy() for w in model.weights]}))
    model.fit(x, y, epochs=3, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=2), keep])
    train, acc = read_run(tmp_path / "train")
    names = [f"{model.name}/{layer.name}/{w}" for layer in model.layers for w in ("kernel", "bias")]
    for i, name in enumerate(names):
        tag = f"{name}/histogram"
        assert [s for s, _ in train[tag]] == [0, 2]
        assert acc.SummaryMetadata(tag).plugin_data.plugin_name == "histograms"
        for step, buckets in train[tag]:
            assert buckets[:, 2].sum() == snapshots[step][i].size
            np.testing.assert_allclose(buckets, histogram_buckets(snapshots[step][i]), rtol=1e-12, atol=1e-12)


def test_weight_paths_follow_keras_for_recurrent_and_functional_models(tensorboard, tmp_path):
    seq = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(2, name="rnn"), keras.layers.Dense(1, name="out")],
                           name="seq")
    seq.compile("adam", "mse")
    x = np.zeros((4, 5, 3), "float32")
    seq.fit(x, np.zeros((4, 1)), epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path / "s", 1)])
    inputs = keras.Input((3,))
    fun = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
    fun.compile("adam", "mse")
    fun.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0,
            callbacks=[keras.callbacks.TensorBoard(tmp_path / "f", 1)])
    seq_tags, _ = read_run(tmp_path / "s" / "train")
    fun_tags, _ = read_run(tmp_path / "f" / "train")
    # Keras 3's variable paths: the Sequential's name, the layer, the cell; a Functional model adds no prefix
    assert {t for t in seq_tags if t.endswith("/histogram")} == {
        "seq/rnn/lstm_cell/kernel/histogram", "seq/rnn/lstm_cell/recurrent_kernel/histogram",
        "seq/rnn/lstm_cell/bias/histogram", "seq/out/kernel/histogram", "seq/out/bias/histogram"}
    assert {t for t in fun_tags if t.endswith("/histogram")} == {"d/kernel/histogram", "d/bias/histogram"}


def test_write_images_logs_kernels_as_keras_does(tensorboard, pillow, tmp_path):
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="out")], name="cnn")
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
    model.fit(x, np.zeros((8, 2)), epochs=1, batch_size=8, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    train, acc = read_run(tmp_path / "train")

    def images(tag):
        ((_, value),) = train[tag]
        return [np.asarray(pillow.open(io.BytesIO(blob))) for blob in value[2:]]

    kernel = model.get_layer("conv").kernel.numpy()  # (3, 3, 1, 3): one 3x3 image per filter
    conv = images("cnn/conv/kernel/image")
    assert len(conv) == 3
    for f, img in enumerate(conv):
        np.testing.assert_array_equal(img, (np.clip(kernel[:, :, 0, f], 0, 1) * 255.5).astype(np.uint8))
    dense = images("cnn/out/kernel/image")  # (48, 2) is taller than wide: shown transposed, 2 x 48
    assert len(dense) == 1 and dense[0].shape == (2, 48)
    assert images("cnn/out/bias/image")[0].shape == (2, 1)  # a bias is one column
    assert acc.SummaryMetadata("cnn/conv/kernel/image").plugin_data.plugin_name == "images"
    assert weight_image(np.zeros((3, 3, 3, 8))) is None  # a colour conv kernel is no picture, as in Keras


def test_graph_has_one_node_per_layer_with_its_class_and_inputs(tensorboard, tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    merged = keras.layers.Concatenate(name="merge")([a, b])
    out = keras.layers.Dense(1, name="head")(keras.layers.Dense(4, name="hidden")(merged))
    model = keras.Model([a, b], out, name="two_in")
    model.compile("adam", "mse")
    keras.callbacks.TensorBoard(tmp_path).set_model(model)
    train, acc = read_run(tmp_path / "train")
    nodes = {n.name: (n.op, list(n.input)) for n in acc.Graph().node}
    assert nodes == {"two_in/a": ("InputLayer", []), "two_in/b": ("InputLayer", []),
                     "two_in/merge": ("Concatenate", ["two_in/a", "two_in/b"]),
                     "two_in/hidden": ("Dense", ["two_in/merge"]), "two_in/head": ("Dense", ["two_in/hidden"])}
    assert len(nodes) == len(model.layers)
    ((step, config),) = train["keras"]  # Keras's conceptual-graph summary: the model's JSON
    assert step == 0 and json.loads(config.item()) == json.loads(model.to_json())
    assert acc.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"


def test_evaluate_alone_logs_evaluation_scalars_at_the_iteration_count(tensorboard, tmp_path):
    x, y = regression_data()
    model = small_mlp()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    result = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    val, _ = read_run(tmp_path / "validation")
    assert scalars(val, "evaluation_loss_vs_iterations") == [(3, pytest.approx(result["loss"], rel=1e-6))]


def test_embeddings_are_written_for_tensorboards_projector(tensorboard, tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins import projector

    model = keras.Sequential([keras.Input((4,), dtype="int32"), keras.layers.Embedding(10, 3, name="emb"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).integers(0, 10, (8, 4))
    with pytest.raises(ValueError, match=r"names no Embedding layer of the model: \['nope'\]"):
        keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"}).set_model(model)
    callback = keras.callbacks.TensorBoard(tmp_path, embeddings_freq=1, embeddings_metadata={"emb": "words.tsv"})
    model.fit(x, np.zeros((8, 1)), epochs=2, verbose=0, callbacks=[callback])
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), projector.ProjectorConfig())
    (embedding,) = config.embeddings
    assert (embedding.tensor_name, embedding.tensor_path, embedding.metadata_path) == (
        "emb/embeddings", "emb_embeddings.tsv", "words.tsv")
    np.testing.assert_allclose(np.loadtxt(tmp_path / "emb_embeddings.tsv", delimiter="\t"),
                               model.get_layer("emb").embeddings.numpy(), rtol=1e-6)


def test_get_started_tutorial_fit_with_histograms_runs_unchanged(tensorboard, tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = rng.random((64, 28, 28)).astype("float32"), rng.integers(0, 10, 64)
    x_test, y_test = rng.random((16, 28, 28)).astype("float32"), rng.integers(0, 10, 16)

    def create_model():
        return tf.keras.models.Sequential([
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])

    model = create_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    log_dir = str(tmp_path / "logs" / "fit" / "20240101-000000")
    tensorboard_callback = tf.keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1)
    history = model.fit(x=x_train, y=y_train, epochs=2, verbose=0, validation_data=(x_test, y_test),
                        callbacks=[tensorboard_callback])
    train, acc = read_run(os.path.join(log_dir, "train"))
    val, _ = read_run(os.path.join(log_dir, "validation"))
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_accuracy")], history.history["accuracy"],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars(val, "epoch_loss")], history.history["val_loss"], rtol=1e-6)
    histograms = [t for t in train if t.endswith("/histogram")]
    assert len(histograms) == 4 and all(len(train[t]) == 2 for t in histograms)
    assert [n.op for n in acc.Graph().node] == ["InputLayer", "Flatten", "Dense", "Dropout", "Dense"]


def test_sample_images_of_an_image_model_with_tf_summary_image_in_a_callback(tensorboard, pillow, tmp_path):
    """The image_summaries tutorial's pattern: a file writer beside the callback logs input images each epoch."""
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    file_writer = tf.summary.create_file_writer(str(tmp_path / "images"))

    def log_samples(epoch, logs):
        with file_writer.as_default():
            tf.summary.image("Training data", x, step=epoch, max_outputs=4)

    model.fit(x, np.zeros(8, "int64"), epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path / "fit"),
                         keras.callbacks.LambdaCallback(on_epoch_end=log_samples)])
    file_writer.close()
    tags, _ = read_run(tmp_path / "images")
    assert [s for s, _ in tags["Training data"]] == [0, 1]
    blobs = tags["Training data"][1][1][2:]
    assert len(blobs) == 4
    for blob, image in zip(blobs, x[:4], strict=True):
        np.testing.assert_array_equal(np.asarray(pillow.open(io.BytesIO(blob))),
                                      (image[..., 0] * 255.5).astype(np.uint8))
