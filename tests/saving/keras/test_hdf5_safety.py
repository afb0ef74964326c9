"""Reading HDF5 weight files is bounded and refuses what is not plain weights: truncated or damaged files, datasets
larger than the weight they fill, non-numeric or integer data for float weights, links out of the file, huge
attributes. Without h5py, one line says what to install."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from shendu import keras
from shendu.saving.file_utils import ModelFileError
from shendu.saving.hdf5 import MAX_ATTR_ITEMS, is_hdf5, load_weights_file, read_names, require_h5py
from tests.saving.keras.weight_models import dense_bn, fixture


def test_require_h5py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError) as err:
        require_h5py("Reading Keras .h5 files")
    assert str(err.value) == "Reading Keras .h5 files needs h5py: pip install 'shendu[keras]'"
    model = dense_bn(keras)
    with pytest.raises(ImportError, match="needs h5py"):
        load_weights_file(model, fixture("dense_bn.weights.h5"))


def test_is_hdf5_reads_the_signature(tmp_path):
    assert is_hdf5(fixture("dense_bn.weights.h5")) and is_hdf5(fixture("legacy_full.h5"))
    assert not is_hdf5(fixture("dense_bn.npz"))
    (tmp_path / "short").write_bytes(b"\x89HD")
    assert not is_hdf5(tmp_path / "short") and not is_hdf5(tmp_path / "absent")
    (tmp_path / "user_block").write_bytes(b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert is_hdf5(tmp_path / "user_block")


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _unchanged(before, model):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_truncated_file_is_refused_naming_it(h5py, tmp_path):
    with open(fixture("dense_bn.weights.h5"), "rb") as f:
        data = f.read()
    model = dense_bn(keras)
    before = _weights(model)
    for cut in (100, len(data) // 2, len(data) - 100):
        path = tmp_path / f"cut{cut}.weights.h5"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=f"cut{cut}.weights.h5"):
            load_weights_file(model, path)
    _unchanged(before, model)


def test_flipped_bytes_give_a_model_file_error_or_a_checked_load(h5py, tmp_path):
    """Damage anywhere in the metadata: only ModelFileError may come out, never another exception."""
    with open(fixture("dense_bn.weights.h5"), "rb") as f:
        data = bytearray(f.read())
    rng = np.random.default_rng(1)
    outcomes = set()
    for i, pos in enumerate(list(range(8, 96, 8)) + list(rng.integers(96, len(data), 30))):
        damaged = bytearray(data)
        damaged[pos] ^= 0xFF
        path = tmp_path / f"flip{i}.weights.h5"
        path.write_bytes(bytes(damaged))
        try:
            load_weights_file(dense_bn(keras), path)
            outcomes.add("loaded")
        except ModelFileError as err:
            assert str(path) in str(err)
            outcomes.add("refused")
    assert "refused" in outcomes


def _keras3_file(h5py, path, shape=(4, 3), dtype="float32", **dataset):
    """A dense_bn-shaped Keras 3 file whose first Dense kernel is replaced as asked."""
    shutil.copy(fixture("dense_bn.weights.h5"), path)
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/0"]
        if dataset:
            f["layers/dense/vars"].create_dataset("0", **dataset)
        else:
            f["layers/dense/vars"].create_dataset("0", shape=shape, dtype=dtype)


def test_oversized_dataset_is_refused_unread(h5py, tmp_path):
    """A declared 4e10-byte dataset (a few KB on disk) is refused from its shape, before any read."""
    path = tmp_path / "big.weights.h5"
    _keras3_file(h5py, path, shape=(100_000, 100_000), dtype="float32")
    model = dense_bn(keras)
    before = _weights(model)
    with pytest.raises(ModelFileError, match=r"layers/dense/vars/0.*model \(4, 3\), file \(100000, 100000\)"):
        load_weights_file(model, path)
    _unchanged(before, model)


@pytest.mark.parametrize("dtype, match", [("int32", "a float weight accepts only float data"),
                                          ("S4", "not numbers"),
                                          ([("a", "f4"), ("b", "f4")], "not numbers")])
def test_wrong_kinds_of_data_are_refused(h5py, tmp_path, dtype, match):
    path = tmp_path / "kind.weights.h5"
    _keras3_file(h5py, path, dtype=dtype)
    with pytest.raises(ModelFileError, match=match):
        load_weights_file(dense_bn(keras), path)


def test_variable_length_data_is_refused(h5py, tmp_path):
    path = tmp_path / "vlen.weights.h5"
    _keras3_file(h5py, path, shape=(4, 3), dtype=h5py.vlen_dtype(np.float32))
    with pytest.raises(ModelFileError, match="not numbers"):
        load_weights_file(dense_bn(keras), path)


def test_links_and_external_storage_are_refused(h5py, tmp_path):
    (tmp_path / "outside.bin").write_bytes(np.zeros(12, np.float32).tobytes())
    cases = {"soft": lambda g: g.__setitem__("0", h5py.SoftLink("/layers/dense/vars/1")),
             "external_link": lambda g: g.__setitem__("0", h5py.ExternalLink("other.h5", "/x")),
             "external_data": lambda g: g.create_dataset("0", shape=(4, 3), dtype="f4",
                                                         external=[(str(tmp_path / "outside.bin"), 0, 48)])}
    for kind, make in cases.items():
        path = tmp_path / f"{kind}.weights.h5"
        shutil.copy(fixture("dense_bn.weights.h5"), path)
        with h5py.File(path, "a") as f:
            del f["layers/dense/vars/0"]
            make(f["layers/dense/vars"])
        with pytest.raises(ModelFileError, match="not allowed"):
            load_weights_file(dense_bn(keras), path)


def test_huge_name_attribute_is_refused(h5py, tmp_path):
    path = tmp_path / "names.h5"
    with h5py.File(path, "w", libver="latest") as f:  # the latest format keeps large attributes
        f.attrs.create("layer_names", np.zeros(MAX_ATTR_ITEMS + 1, dtype="S1"))
    with pytest.raises(ModelFileError, match=r"attribute 'layer_names'.*too large"):
        load_weights_file(dense_bn(keras), path)


def test_legacy_dataset_mismatch_is_refused_unread(h5py, tmp_path):
    path = tmp_path / "legacy.h5"
    shutil.copy(fixture("legacy_dense_bn.h5"), path)
    with h5py.File(path, "a") as f:
        name = read_names(f["dense"], "weight_names", "legacy.h5")[0]
        del f["dense"][name]
        f["dense"].create_dataset(name, shape=(50_000, 50_000), dtype="f8")
    with pytest.raises(ModelFileError, match=r"file: 'dense'.*kernel.*model \(4, 3\), file \(50000, 50000\)"):
        load_weights_file(dense_bn(keras), path)


def test_other_hdf5_files_and_missing_files(h5py, tmp_path):
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(ModelFileError, match="not a Keras weights file"):
        load_weights_file(dense_bn(keras), tmp_path / "plain.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ModelFileError, match=r"text\.h5 is not a readable HDF5 file"):
        load_weights_file(dense_bn(keras), tmp_path / "text.h5")
    with pytest.raises(FileNotFoundError):
        load_weights_file(dense_bn(keras), tmp_path / "absent.h5")
    with pytest.raises(ValueError, match="no weights yet"):
        load_weights_file(keras.Sequential([keras.layers.Dense(2)]), fixture("dense_bn.weights.h5"))
