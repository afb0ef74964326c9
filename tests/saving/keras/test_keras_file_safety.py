"""Damaged or hostile Keras files are refused with a ModelFileError naming the file, before anything is built or
read past what the file declares; without h5py, one line says what to install."""

import json
import os
import shutil
import sys
import zipfile

import pytest

from shendu import keras, layers
from shendu.saving import ModelFileError

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras")


def _entries(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["mlp.keras", "mlp.h5"])
def test_truncated_file_refused(h5py, tmp_path, name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        data = f.read()
    bad = tmp_path / name
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=str(bad).replace(".", r"\.")):
        keras.models.load_model(bad)


def test_corrupted_config_refused(h5py, tmp_path):
    entries = _entries(os.path.join(FIXTURES, "mlp.keras"))
    bad = _write(tmp_path / "bad.keras", {**entries, "config.json": b"{not json"})
    with pytest.raises(ModelFileError, match=r"bad\.keras: config\.json is corrupted"):
        keras.models.load_model(bad)


def test_weights_entry_larger_than_it_can_inflate_refused(h5py, tmp_path):
    entries = _entries(os.path.join(FIXTURES, "mlp.keras"))
    bomb = _write(tmp_path / "bomb.keras", {**entries, "model.weights.h5": b"\0" * 3_000_000}, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("model.weights.h5")
    raw = bytearray(bomb.read_bytes())
    for offset in (raw.find(b"model.weights.h5") - 30 + 22, raw.rfind(b"model.weights.h5") - 46 + 24):
        assert int.from_bytes(raw[offset:offset + 4], "little") == info.file_size
        raw[offset:offset + 4] = (2**31).to_bytes(4, "little")
    bomb.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match=r"bomb\.keras: model\.weights\.h5 declares 2147483648 bytes"):
        keras.models.load_model(bomb)


def test_weights_not_matching_config_refused(h5py, tmp_path):
    entries = _entries(os.path.join(FIXTURES, "mlp.keras"))
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 9  # the file holds a Dense(8)
    bad = _write(tmp_path / "swapped.keras", {**entries, "config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match=r"swapped\.keras.*dense"):
        keras.models.load_model(bad)


def test_not_hdf5_weights_entry_refused(h5py, tmp_path):
    entries = _entries(os.path.join(FIXTURES, "mlp.keras"))
    bad = _write(tmp_path / "junk.keras", {**entries, "model.weights.h5": b"junk" * 100})
    with pytest.raises(ModelFileError, match=r"junk\.keras: model\.weights\.h5 is not a readable HDF5 file"):
        keras.models.load_model(bad)


def test_weights_file_is_not_a_model(h5py, tmp_path):
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ModelFileError, match=r"w\.h5 is a Keras weights file, not a model file.*load_weights"):
        keras.models.load_model(tmp_path / "w.h5")


def test_legacy_lambda_refused(h5py, tmp_path):
    shutil.copy(os.path.join(FIXTURES, "mlp.h5"), tmp_path / "lambda.h5")
    with h5py.File(tmp_path / "lambda.h5", "a") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][2] = {"class_name": "Lambda", "config": {
            "name": "dropout", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ModelFileError, match=r"lambda\.h5.*Lambda layer 'dropout'.*never executed"):
        keras.models.load_model(tmp_path / "lambda.h5")


def test_without_h5py_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    for call, what in ((lambda: model.save(tmp_path / "m.keras"), "Saving .keras files"),
                       (lambda: model.save(tmp_path / "m.h5"), "Saving Keras .h5 files"),
                       (lambda: model.save_weights(tmp_path / "m.weights.h5"), "Saving Keras .weights.h5 files"),
                       (lambda: keras.models.load_model(os.path.join(FIXTURES, "mlp.keras")), "Reading .keras")):
        with pytest.raises(ImportError, match=rf"^{what}.* needs h5py: pip install 'shendu\[keras\]' \(or use shendu's "
                                              r"own format, which needs NumPy alone: [^\n]*\)$"):
            call()
    assert os.listdir(tmp_path) == []
