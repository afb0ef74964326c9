"""The rt-polarity loader on generated folders (Latin-1 text, seeded split, where it looks, errors) and, when
SHENDU_DATA_DIR is set, on the real files (line counts and sha256 from the data README)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from shendu.datasets import DatasetNotFoundError, InvalidDatasetFileError, rt_polarity


def _write(folder, pos, neg):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rt-polarity.pos").write_bytes("".join(f"{s} \n" for s in pos).encode("latin-1"))
    (folder / "rt-polarity.neg").write_bytes("".join(f"{s} \n" for s in neg).encode("latin-1"))
    return folder


POS = [f"a fine film number {i} , with café charm" for i in range(30)]
NEG = [f"a dull film number {i} , a naïve mess" for i in range(30)]


def test_reads_latin1_and_splits(tmp_path):
    folder = _write(tmp_path / "rt", POS, NEG)
    (x_train, y_train), (x_test, y_test) = rt_polarity.load_data(folder)
    assert len(x_train) == 54 and len(x_test) == 6  # int(60 * 0.9)
    assert x_train.dtype.kind == "U" and y_train.dtype == np.int64
    texts = dict(zip(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])))
    assert texts["a fine film number 3 , with café charm"] == 1
    assert texts["a dull film number 7 , a naïve mess"] == 0
    assert sorted(texts) == sorted(POS + NEG)


def test_split_follows_the_seed(tmp_path):
    folder = _write(tmp_path / "rt", POS, NEG)
    first = rt_polarity.load_data(str(folder), seed=1)
    again = rt_polarity.load_data(str(folder), seed=1)
    other = rt_polarity.load_data(str(folder), seed=2)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(first[0][0], other[0][0])
    order = np.random.RandomState(1).permutation(60)
    expected = np.array(POS + NEG)[order]
    np.testing.assert_array_equal(np.concatenate([first[0][0], first[1][0]]), expected)
    (x_train, _), (x_test, _) = rt_polarity.load_data(folder, test_split=0.25)
    assert (len(x_train), len(x_test)) == (45, 15)
    (x_train, _), (x_test, _) = rt_polarity.load_data(folder, test_split=0)
    assert (len(x_train), len(x_test)) == (60, 0)


def test_finds_the_folder_through_the_environment(tmp_path, monkeypatch):
    _write(tmp_path / "data" / "rt-polarity", POS[:3], NEG[:2])
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (x_train, y_train), (x_test, y_test) = rt_polarity.load_data(test_split=0.2)
    assert len(x_train) + len(x_test) == 5 and y_train.sum() + y_test.sum() == 3


def test_finds_the_folder_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("SHENDU_DATA_DIR", raising=False)
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    _write(tmp_path / "cache" / "datasets" / "rt-polarity", POS[:2], NEG[:2])
    assert rt_polarity.locate() == str(tmp_path / "cache" / "datasets" / "rt-polarity")


def test_missing_files_say_where_it_looked_and_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DatasetNotFoundError) as info:
        rt_polarity.load_data()
    message = str(info.value)
    assert os.path.join(str(tmp_path / "nowhere"), "rt-polarity") in message
    assert os.path.join(str(tmp_path / "cache"), "datasets", "rt-polarity") in message
    assert "https://www.cs.cornell.edu/people/pabo/movie-review-data/" in message
    assert "sentence polarity dataset v1.0" in message and "SHENDU_DATA_DIR" in message
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "rt-polarity.pos").write_text("good\n")
    with pytest.raises(DatasetNotFoundError, match=r"missing rt-polarity\.neg"):
        rt_polarity.load_data(folder)


def test_invalid_files_and_arguments(tmp_path):
    folder = _write(tmp_path / "rt", POS, [])
    with pytest.raises(InvalidDatasetFileError, match=r"rt-polarity\.neg: no sentences"):
        rt_polarity.load_data(folder)
    with pytest.raises(ValueError, match="test_split must be in"):
        rt_polarity.load_data(folder, test_split=1.0)


@pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR is not set")
def test_real_data():
    folder = rt_polarity.locate()
    for name, digest in rt_polarity.SHA256.items():
        with open(os.path.join(folder, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest
    (x_train, y_train), (x_test, y_test) = rt_polarity.load_data()
    assert (len(x_train), len(x_test)) == (9595, 1067)
    assert int(y_train.sum() + y_test.sum()) == 5331
    assert abs(y_test.mean() - 0.5) < 0.05
    assert any("century's new \" conan \"" in s for s in np.concatenate([x_train, x_test]))
