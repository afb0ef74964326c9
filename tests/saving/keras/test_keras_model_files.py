"""Model files made by real Keras 3 (tests/fixtures/keras, made by make_keras_files.py) open in shendu and predict
what Keras predicted; shendu's .keras and .h5 files read back as they were written."""

import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import shendu as sd
from shendu import keras, layers

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras")
NAMES = ["mlp", "cnn", "text", "two_io", "transformer"]


def _arrays(name):
    data = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    x = data["x"] if "x" in data else [data["x0"], data["x1"]]
    y = data["y"] if "y" in data else [data["y0"], data["y1"]]
    return x, y


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_made_file_predicts_as_keras(h5py, name, ext):
    x, expected = _arrays(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras saved an optimizer not yet built: shendu's starts fresh
        model = keras.models.load_model(os.path.join(FIXTURES, name + ext))
    got = model.predict(x, verbose=0)
    if isinstance(expected, list):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-5, rtol=1e-5)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    assert model.compiled and model.name == name


def test_keras_made_file_fine_tunes(h5py):
    x, _ = _arrays("mlp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(os.path.join(FIXTURES, "mlp.keras"))
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_keras_weights_into_shendu_built_twin(h5py):
    x, expected = _arrays("cnn")
    twin = keras.Sequential([
        layers.Input((8, 8, 1)), layers.Conv2D(4, 3, padding="same", activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Conv2D(4, 3), layers.AveragePooling2D(2, padding="same"), layers.Flatten(),
        layers.Dropout(0.3), layers.Dense(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin.load_weights(os.path.join(FIXTURES, "cnn.keras"))
    np.testing.assert_allclose(twin.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5)


def _functional():
    a, b = layers.Input((5,), name="a"), layers.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(4, activation="relu")(a), b])
    model = keras.Model([a, b], [layers.Dense(1, name="o1")(h), layers.Dense(2, activation="softmax", name="o2")(h)])
    model.compile("adam", {"o1": "mse", "o2": "categorical_crossentropy"}, metrics={"o1": ["mae"]})
    return model


@pytest.mark.parametrize("ext", [".keras", ".h5", ".hdf5"])
def test_shendu_keras_files_round_trip(h5py, tmp_path, ext):
    model = _functional()
    x = [np.random.default_rng(0).normal(size=(4, 5)).astype("float32"),
         np.random.default_rng(1).normal(size=(4, 3)).astype("float32")]
    model.fit(x, [np.zeros((4, 1)), np.eye(2)[[0, 1, 0, 1]]], epochs=1, verbose=0)
    path = tmp_path / f"m{ext}"
    model.save(path)
    again = keras.models.load_model(path)
    for got, want in zip(again.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, want)
    assert again.compiled and type(again.optimizer).__name__ == "Adam"
    assert h5py.is_hdf5(path) == (ext != ".keras")


def test_keras_archive_layout(h5py, tmp_path):
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        metadata = json.loads(zf.read("metadata.json"))
    assert metadata["keras_version"].startswith("3.") and "date_saved" in metadata
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    dense = config["config"]["layers"][1]
    assert dense["module"] == "keras.layers" and dense["registered_name"] is None
    assert dense["config"]["dtype"]["class_name"] == "DTypePolicy"


def test_save_weights_by_extension(h5py, tmp_path):
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    for name in ("w.weights.h5", "w.h5", "ckpt/my_checkpoint", "w.weights.shendu"):
        model.save_weights(tmp_path / name)
        twin = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
        twin.load_weights(tmp_path / name)
        for a, b in zip(twin.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert h5py.is_hdf5(tmp_path / "w.weights.h5") and h5py.is_hdf5(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5") as f:
        assert "layer_names" in f.attrs
    assert not h5py.is_hdf5(tmp_path / "ckpt" / "my_checkpoint")


def test_earlier_shendu_files_named_keras_still_load(tmp_path):
    from shendu.saving import model_file

    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    model_file.save_model(model, tmp_path / "old.keras")  # how earlier versions wrote .keras files
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "old.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    model.load_weights(tmp_path / "old.keras")


def test_unknown_extension_refused(tmp_path):
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"must end in \.keras.*\.h5 or \.hdf5.*\.shendu"):
        model.save(tmp_path / "saved_model")
    assert not os.listdir(tmp_path)


def test_shendu_only_layer_refused_for_keras_file(h5py, tmp_path):
    inp = layers.Input((4, 8))
    model = keras.Model(inp, layers.TransformerEncoder(16, 2)(inp))
    with pytest.raises(ValueError, match=r"TransformerEncoder.*no Keras 3 equivalent.*\.shendu"):
        model.save(tmp_path / "t.keras")
    assert not os.listdir(tmp_path)
    model.save(tmp_path / "t.shendu")


def test_saving_namespace_routes(h5py, tmp_path):
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    sd.saving.save_model(model, tmp_path / "m.keras")
    keras.models.save_model(model, tmp_path / "m.h5")
    for name in ("m.keras", "m.h5"):
        assert isinstance(keras.saving.load_model(tmp_path / name), sd.keras.Model)
