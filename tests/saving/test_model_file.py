"""Saving and loading: identical predictions, exact resumption, checked names and shapes, refused bad files."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import shendu as sd
from shendu.keras import Input, Model, Sequential, layers
from shendu.saving import ModelFileError, load_model, load_weights, safetensors_format, save_weights


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("int64") + (x[:, 3] > 1)
    return x, y


def _mlp():
    return Sequential([Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.1),
                       layers.Dense(3, activation="softmax")])


def _trained(tmp_path=None):
    sd.random.seed(0)
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model, x, y


def test_saved_model_predicts_exactly_the_same(tmp_path):
    model, x, _ = _trained()
    path = tmp_path / "m.shendu"
    model.save(path)
    loaded = load_model(path)
    assert [type(la).__name__ for la in loaded.layers] == [type(la).__name__ for la in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_training_resumes_exactly_where_it_stopped(tmp_path):
    model, x, y = _trained()
    model.save(tmp_path / "m.shendu")
    loaded = load_model(tmp_path / "m.shendu")
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) > 0
    for m in (model, loaded):
        sd.random.seed(7)
        m.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_model_with_two_inputs_round_trips(tmp_path):
    a, b = Input((4,), name="a"), Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(5, activation="tanh")(a), b])
    model = Model([a, b], layers.Dense(2)(h))
    model.compile(optimizer="sgd", loss="mse")
    xa, xb = np.ones((6, 4), "float32"), np.arange(18, dtype="float32").reshape(6, 3)
    model.save(tmp_path / "f.shendu")
    loaded = load_model(tmp_path / "f.shendu")
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0))


def test_file_holds_json_config_and_safetensors_only(tmp_path):
    model, _, _ = _trained()
    model.save(tmp_path / "m.shendu")
    with zipfile.ZipFile(tmp_path / "m.shendu") as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("config.json"))
    assert names == {"metadata.json", "config.json", "model.weights.safetensors", "optimizer.safetensors"}
    assert config["class_name"] == "Sequential"
    assert config["compile_config"]["loss"] is not None


def test_truncated_file_is_refused_clearly(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "m.shendu"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"corrupted|truncated"):
        load_model(path)


def test_flipped_bytes_are_refused_clearly(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "m.shendu"
    model.save(path)
    data = bytearray(path.read_bytes())
    start = data.find(b"model.weights.safetensors") + 200
    data[start:start + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupted"):
        load_model(path)


def test_not_a_model_file_is_refused(tmp_path):
    path = tmp_path / "x.shendu"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="not a shendu model file"):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="no file"):
        load_model(tmp_path / "missing.shendu")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    model, _, _ = _trained()
    path = tmp_path / "m.shendu"
    model.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.shendu"]


def test_load_weights_names_missing_unexpected_and_misshapen(tmp_path):
    model, _, _ = _trained()
    save_weights(model, tmp_path / "w.safetensors")
    other = Sequential([Input((8,)), layers.Dense(17), layers.Dense(3, name="head")])  # no Dropout at index 1
    with pytest.raises(ValueError) as err:
        load_weights(other, tmp_path / "w.safetensors")
    text = str(err.value)
    assert "missing from the file: ['layers/1/kernel (head/kernel)', 'layers/1/bias (head/bias)']" in text
    assert "unexpected in the file: ['layers/2/bias', 'layers/2/kernel']" in text
    assert "shape mismatch: ['layers/0/kernel" in text and "model (8, 17), file (8, 16)" in text


def test_weights_round_trip_through_save_weights(tmp_path):
    model, x, _ = _trained()
    model.save_weights(tmp_path / "w.weights.safetensors")
    twin = _mlp()  # a fresh twin: its automatic layer names differ, its structure does not
    assert twin.layers[0].name != model.layers[0].name
    twin.load_weights(tmp_path / "w.weights.safetensors")
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


def test_custom_layer_needs_registration(tmp_path):
    @sd.keras.utils.register_keras_serializable(package="Tests")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = Sequential([Input((3,)), Scale(3.0), layers.Dense(2)])
    model.save(tmp_path / "c.shendu")
    loaded = load_model(tmp_path / "c.shendu")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    class Unregistered(layers.Layer):
        def call(self, x):
            return x

    Sequential([Input((3,)), Unregistered(), layers.Dense(2)]).save(tmp_path / "u.shendu")
    with pytest.raises(ValueError, match="Unregistered"):
        load_model(tmp_path / "u.shendu")


def test_unbuilt_model_cannot_be_saved(tmp_path):
    model = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="no weights yet"):
        model.save(tmp_path / "m.shendu")


def test_without_safetensors_numpy_saves_and_loads_the_same_model(tmp_path, monkeypatch):
    model, x, _ = _trained()
    monkeypatch.setattr(safetensors_format, "_st", None)
    model.save(tmp_path / "m.shendu")
    model.save_weights(tmp_path / "w.weights.safetensors")
    loaded = load_model(tmp_path / "m.shendu")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    twin = _mlp()
    twin.load_weights(tmp_path / "w.weights.safetensors")
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_files_cross_between_numpy_and_the_safetensors_package(safetensors, tmp_path, monkeypatch):
    model, x, _ = _trained()
    with monkeypatch.context() as patch:
        patch.setattr(safetensors_format, "_st", None)
        model.save(tmp_path / "numpy.shendu")
    model.save(tmp_path / "package.shendu")
    from_numpy = load_model(tmp_path / "numpy.shendu")
    monkeypatch.setattr(safetensors_format, "_st", None)
    from_package = load_model(tmp_path / "package.shendu")
    for loaded in (from_numpy, from_package):
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_numpy_only_install_trains_saves_and_loads_a_cnn(tmp_path):
    """A fresh interpreter with numba and safetensors hidden: import, fit a small CNN, save, load, same output."""
    script = f"""
import sys
sys.modules["safetensors"] = sys.modules["numba"] = None
import numpy as np
import shendu as sd
from shendu.keras import Input, Sequential, layers
from shendu.saving import load_model, safetensors_format
assert safetensors_format._st is None
sd.random.seed(0)
x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype("float32")
y = np.arange(16) % 3
model = Sequential([Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                    layers.Flatten(), layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=1, batch_size=8, verbose=0)
model.save({str(tmp_path / "cnn.shendu")!r})
loaded = load_model({str(tmp_path / "cnn.shendu")!r})
np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
