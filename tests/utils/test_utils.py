"""to_categorical, normalize and get_file (download through file:// URLs into a temporary cache)."""

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from shendu.utils import (
    DownloadError,
    FileHashMismatchError,
    data_utils,
    extract_archive,
    get_file,
    hash_file,
    normalize,
    to_categorical,
    validate_file,
)


def test_to_categorical_matches_keras():
    out = to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])
    column = to_categorical(np.array([[1], [0]]), num_classes=4, dtype="int64")  # trailing 1 is squeezed
    assert column.shape == (2, 4) and column.dtype == np.int64
    np.testing.assert_array_equal(column, [[0, 1, 0, 0], [1, 0, 0, 0]])
    grid = to_categorical(np.array([[0, 1], [2, 0]]), 3)
    assert grid.shape == (2, 2, 3) and grid[1, 0, 2] == 1 and grid.sum() == 4
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


def test_to_categorical_refuses_bad_labels():
    with pytest.raises(ValueError, match=r"label 5 is out of range for num_classes=3"):
        to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError, match="out of range"):
        to_categorical([-1, 1])
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5, 1.0])
    with pytest.raises(TypeError, match="integer class labels"):
        to_categorical(["a", "b"])


def test_normalize_l2_l1_axis_and_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    out = normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert out.dtype == np.float32
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0]])
    cols = normalize(np.array([[3.0, 1.0], [4.0, 0.0]]), axis=0)
    np.testing.assert_allclose(np.linalg.norm(cols, axis=0), [1.0, 1.0])


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(root))
    return root


def make_source(tmp_path, payload: bytes = b"shendu" * 1000):
    src = tmp_path / "remote" / "blob.bin"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(payload)
    return src, hashlib.sha256(payload).hexdigest()


def test_get_file_downloads_verifies_and_reuses_the_cache(tmp_path, cache, capsys):
    src, sha = make_source(tmp_path)
    path = get_file("blob.bin", src.as_uri(), file_hash=sha)
    assert path == str(cache / "datasets" / "blob.bin")
    assert Path(path).read_bytes() == src.read_bytes()
    shown = capsys.readouterr().out
    assert f"Downloading data from {src.as_uri()}" in shown and "6000/6000" in shown
    src.unlink()  # a second call must not need the origin
    assert get_file("blob.bin", src.as_uri(), file_hash=sha) == path
    assert validate_file(path, sha) and hash_file(path) == sha
    assert os.listdir(cache / "datasets") == ["blob.bin"]


def test_get_file_takes_name_from_url_md5_and_explicit_cache_dir(tmp_path, cache):
    src, _ = make_source(tmp_path, b"abc")
    md5 = hashlib.md5(b"abc").hexdigest()
    path = get_file(origin=src.as_uri(), md5_hash=md5, cache_dir=tmp_path / "elsewhere", cache_subdir="sub")
    assert path == str(tmp_path / "elsewhere" / "sub" / "blob.bin")
    assert validate_file(path, md5)
    with pytest.raises(ValueError, match="not a path"):
        get_file("a/b.bin", src.as_uri())
    with pytest.raises(ValueError, match="origin"):
        get_file("b.bin")


def test_get_file_refuses_a_corrupted_download_and_keeps_nothing(tmp_path, cache):
    src, _ = make_source(tmp_path)
    wrong = "0" * 64
    with pytest.raises(FileHashMismatchError, match=f"incomplete or corrupted.*expected {wrong}"):
        get_file("blob.bin", src.as_uri(), file_hash=wrong)
    assert os.listdir(cache / "datasets") == []


def test_get_file_redownloads_a_stale_cached_copy(tmp_path, cache, capsys):
    src, sha = make_source(tmp_path)
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "blob.bin").write_bytes(b"truncated")
    path = get_file("blob.bin", src.as_uri(), file_hash=sha)
    assert "does not match" in capsys.readouterr().out
    assert hash_file(path) == sha


def test_get_file_missing_origin_raises_download_error(tmp_path, cache):
    missing = (tmp_path / "nowhere.bin").as_uri()
    with pytest.raises(DownloadError, match="URL fetch failure on file://"):
        get_file("nowhere.bin", missing)
    assert isinstance(DownloadError("x"), OSError)
    assert os.listdir(cache / "datasets") == []


def test_get_file_extracts_tar_and_zip(tmp_path, cache):
    archive = tmp_path / "pack.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("pack/hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    folder = get_file("pack.tar.gz", archive.as_uri(), extract=True)
    assert folder == str(cache / "datasets" / "pack_extracted")
    assert Path(folder, "pack", "hello.txt").read_bytes() == b"hello"

    zipped = tmp_path / "z.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("inner.txt", "zip!")
    folder = get_file(origin=zipped.as_uri(), extract=True)
    assert folder == str(cache / "datasets" / "z.zip")
    assert Path(folder, "inner.txt").read_text() == "zip!"


def test_extract_archive_refuses_members_escaping_the_folder(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../outside.txt", "no")
    with pytest.raises(ValueError, match="outside"):
        extract_archive(str(evil), str(tmp_path / "out"))
    assert not (tmp_path / "outside.txt").exists()
    assert extract_archive(str(make_source(tmp_path)[0]), str(tmp_path / "out")) is False


def test_cache_root_defaults_to_home(monkeypatch):
    monkeypatch.delenv("SHENDU_CACHE_DIR", raising=False)
    assert data_utils.cache_root() == os.path.expanduser(os.path.join("~", ".shendu"))
