"""Dataset.cache(filename): the first complete pass is written to a safetensors file (no pickle) that a later
pipeline reads instead of running its input."""

import numpy as np
import pytest

from shendu.data import Dataset


def _elements(ds):
    return list(ds.as_numpy_iterator())


def test_file_is_written_after_a_complete_pass_and_read_by_a_later_run(tmp_path):
    path = str(tmp_path / "train")
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    calls = []

    def scale(row, label):
        calls.append(1)
        return {"row": row * 2, "label": label}

    first = Dataset.from_tensor_slices((x, np.arange(6))).map(scale).cache(path)
    assert _elements(first.take(3)) and not (tmp_path / "train.safetensors").exists()  # partial: nothing kept
    expected = _elements(first)
    assert (tmp_path / "train.safetensors").exists()
    with open(tmp_path / "train.safetensors", "rb") as f:
        assert b"pickle" not in f.read()

    def never(*args):
        raise AssertionError("the input pipeline ran although the cache file exists")

    later = Dataset.from_tensor_slices((x, np.arange(6))).map(never).cache(path)
    again = _elements(later)
    assert [e["label"] for e in again] == [e["label"] for e in expected]
    np.testing.assert_array_equal(np.stack([e["row"] for e in again]), x * 2)
    assert np.stack([e["row"] for e in again]).dtype == np.float32
    assert [b["row"].shape for b in later.batch(4)] == [(4, 2), (2, 2)]


def test_text_ragged_shapes_and_slices_round_trip(tmp_path):
    texts = np.array([b"one", b"", "tr\u00e8s".encode()], dtype=object)
    ds = Dataset.from_tensor_slices((texts, np.array(["a", "bb", "c"]))).cache(str(tmp_path / "text"))
    first = _elements(ds)
    reread = _elements(Dataset.range(0).cache(str(tmp_path / "text")))
    assert reread == first and reread[2][0].decode() == "tr\u00e8s" and isinstance(reread[1][1], str)
    ragged = Dataset.range(1, 4).map(lambda v: np.arange(int(v), dtype=np.int16)).cache(str(tmp_path / "ragged"))
    _elements(ragged)
    back = _elements(Dataset.range(0).cache(str(tmp_path / "ragged")))
    assert [b.tolist() for b in back] == [[0], [0, 1], [0, 1, 2]] and back[0].dtype == np.int16
    empty = Dataset.range(0).cache(str(tmp_path / "empty"))
    assert _elements(empty) == [] and _elements(Dataset.range(5).cache(str(tmp_path / "empty"))) == []


def test_refusals_are_clear(tmp_path):
    (tmp_path / "other.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(Exception, match=r"other\.safetensors"):
        list(Dataset.range(3).cache(str(tmp_path / "other")))
    complex_values = Dataset.from_tensor_slices(np.ones(3, dtype=np.complex64)).cache(str(tmp_path / "c"))
    with pytest.raises(TypeError, match=r"cache in memory \(cache\(\)\) instead"):
        list(complex_values)
    with pytest.raises(TypeError, match="filename must be a path"):
        Dataset.range(3).cache(None)
