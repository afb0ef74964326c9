"""Damaged dataset files (truncated, bit-flipped, a directory in the file's place): an error naming the file and
saying it is corrupted, never a bare zipfile/zlib error or silently wrong data. Files are built in tmp_path."""

from __future__ import annotations

import gzip
import io
import os
import stat
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from shendu.datasets import InvalidDatasetFileError, cifar10, fashion_mnist, mnist, rt_polarity
from shendu.datasets._fetch import Mirror
from shendu.utils.data_utils import EXTRACTED_MARKER, get_file


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """$SHENDU_DATA_DIR and the cache under tmp_path, and mirrors nobody listens on (nothing is downloaded)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("SHENDU_DATA_DIR", str(folder))
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror("http://127.0.0.1:9/mnist.npz", "0" * 64),))
    return folder


def images(rng, n):
    """Compressible uint8 images (a flipped bit then lands in deflate's codes, not only in stored bytes)."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 6:20, 8:18] = rng.integers(0, 4, (n, 14, 10)) * 60
    return x


def mnist_bytes() -> bytes:
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    np.savez_compressed(out, x_train=images(rng, 30), y_train=rng.integers(0, 10, 30).astype(np.uint8),
                        x_test=images(rng, 8), y_test=rng.integers(0, 10, 8).astype(np.uint8))
    return out.getvalue()


def flipped(raw: bytes, fraction: float, bit: int = 2) -> bytes:
    data = bytearray(raw)
    data[int(len(data) * fraction)] ^= 1 << bit
    return bytes(data)


def damaged(raw: bytes) -> dict[str, bytes]:
    """Truncations and single-bit flips across the file."""
    cases = {"empty": b"", "first 100 bytes": raw[:100], "half": raw[: len(raw) // 2], "last 8 bytes cut": raw[:-8]}
    cases.update({f"bit flipped at {f:.0%}": flipped(raw, f) for f in (0.1, 0.3, 0.5, 0.7, 0.85)})
    return cases


CASES = list(damaged(bytes(400)))


def assert_corrupted(load, path, caught_message: str = "corrupted") -> None:
    with pytest.raises(InvalidDatasetFileError) as caught:
        load()
    assert str(path) in str(caught.value) and caught_message in str(caught.value)


@pytest.mark.parametrize("case", CASES)
def test_damaged_mnist_names_the_file_and_says_corrupted(data_dir, case):
    path = data_dir / "mnist.npz"
    path.write_bytes(damaged(mnist_bytes())[case])
    assert_corrupted(mnist.load_data, path)


def test_intact_mnist_still_loads(data_dir):
    (data_dir / "mnist.npz").write_bytes(mnist_bytes())
    (x, _), (_, yt) = mnist.load_data()
    assert x.shape == (30, 28, 28) and yt.shape == (8,)


def test_a_file_that_cannot_be_opened_is_not_called_corrupted(data_dir, monkeypatch):
    (data_dir / "mnist.npz").write_bytes(mnist_bytes())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "load", denied)
    with pytest.raises(InvalidDatasetFileError, match=r"mnist\.npz cannot be read: Permission denied") as caught:
        mnist.load_data()
    assert "corrupted" not in str(caught.value)


@pytest.mark.parametrize("where", ["data dir", "cache", "path"])
def test_a_directory_named_mnist_npz_is_reported(data_dir, tmp_path, monkeypatch, where):
    if where == "cache":
        monkeypatch.delenv("SHENDU_DATA_DIR")
        folder = tmp_path / "cache" / "datasets" / "mnist.npz"
    else:
        folder = data_dir / "mnist.npz"
    folder.mkdir(parents=True)
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(InvalidDatasetFileError, match="is a directory, not a file") as caught:
        mnist.load_data(str(folder) if where == "path" else "mnist.npz")
    assert str(folder) in str(caught.value)
    assert (folder / "keep.txt").read_text() == "mine"


def idx_gz(array: np.ndarray, magic: int) -> bytes:
    return gzip.compress(struct.pack(f">{1 + array.ndim}i", magic, *array.shape) + array.tobytes(), mtime=0)


def write_fashion(folder, train_images: bytes | None = None) -> bytes:
    """The four Fashion-MNIST files (small); train_images replaces that file's bytes. Returns its intact bytes."""
    rng = np.random.default_rng(1)
    files = {"train-labels-idx1-ubyte.gz": idx_gz(rng.integers(0, 10, 12).astype(np.uint8), 2049),
             "train-images-idx3-ubyte.gz": idx_gz(images(rng, 12), 2051),
             "t10k-labels-idx1-ubyte.gz": idx_gz(rng.integers(0, 10, 5).astype(np.uint8), 2049),
             "t10k-images-idx3-ubyte.gz": idx_gz(images(rng, 5), 2051)}
    intact = files["train-images-idx3-ubyte.gz"]
    if train_images is not None:
        files["train-images-idx3-ubyte.gz"] = train_images
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return intact


@pytest.mark.parametrize("case", CASES)
def test_damaged_fashion_mnist_names_the_file_and_says_corrupted(data_dir, case):
    intact = write_fashion(data_dir)
    path = data_dir / "train-images-idx3-ubyte.gz"
    path.write_bytes(damaged(intact)[case])
    assert_corrupted(fashion_mnist.load_data, path)


def cifar_bytes() -> bytes:
    rng = np.random.default_rng(2)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name in (*cifar10.TRAIN_BATCHES, cifar10.TEST_BATCH):
            records = np.concatenate([rng.integers(0, 10, (2, 1)), rng.integers(0, 256, (2, 3072))], axis=1)
            data = records.astype(np.uint8).tobytes()
            info = tarfile.TarInfo(f"{cifar10.FOLDER}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("case", CASES)
def test_damaged_cifar10_names_the_file_and_says_corrupted(tmp_path, case):
    """Before, a flipped bit in a pixel loaded silently: the gzip CRC at the stream's end was never read."""
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(damaged(cifar_bytes())[case])
    assert_corrupted(lambda: cifar10.load_data(str(path)), path)


def write_rt(folder, pos: bytes = b"a fine film .\n" * 5, neg: bytes = b"a dull film .\n" * 5) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "rt-polarity.pos").write_bytes(pos)
    (folder / "rt-polarity.neg").write_bytes(neg)


def test_rt_polarity_binary_bytes_are_reported_as_corrupted(tmp_path):
    write_rt(tmp_path / "rt", neg=b"a dull film .\n" * 3 + b"a du\x00l film .\n")
    assert_corrupted(lambda: rt_polarity.load_data(tmp_path / "rt"), tmp_path / "rt" / "rt-polarity.neg")


@pytest.mark.parametrize("damage", ["truncated", "bit flipped"])
def test_rt_polarity_damaged_copy_of_the_standard_file_is_reported(tmp_path, damage):
    """A file that begins as the standard one but whose sha256 differs; a user's own file is read as before."""
    standard = rt_polarity.STANDARD_START["rt-polarity.pos"] + b" schwarzenegger .\nsecond snippet .\n"
    write_rt(tmp_path / "rt", pos=standard[:-12] if damage == "truncated" else flipped(standard, 0.8, bit=0))
    assert_corrupted(lambda: rt_polarity.load_data(tmp_path / "rt"), tmp_path / "rt" / "rt-polarity.pos")
    write_rt(tmp_path / "own")
    (x, _), (xt, _) = rt_polarity.load_data(tmp_path / "own")
    assert len(x) + len(xt) == 10


def test_rt_polarity_directory_in_a_files_place_is_reported(tmp_path):
    write_rt(tmp_path / "rt")
    (tmp_path / "rt" / "rt-polarity.pos").unlink()
    (tmp_path / "rt" / "rt-polarity.pos").mkdir()
    with pytest.raises(InvalidDatasetFileError, match=r"rt-polarity\.pos is a directory, not a file"):
        rt_polarity.load_data(tmp_path / "rt")


# --- get_file(extract=True): never delete what shendu did not create ----------------------------------------------
@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty shendu cache under tmp_path; returns its datasets folder."""
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets"


def tar_gz(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path.as_uri()


def test_get_file_refuses_an_extraction_folder_shendu_did_not_make(tmp_path, cache):
    url = tar_gz(tmp_path / "pack.tar.gz", {"a.txt": b"new"})
    mine = cache / "pack_extracted"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my work")
    for _ in range(2):  # the first call downloads the archive, the second finds it cached
        with pytest.raises(FileExistsError, match="was not made by shendu") as caught:
            get_file("pack.tar.gz", url, extract=True, force_download=True)
        assert str(mine) in str(caught.value)
    assert (mine / "notes.txt").read_text() == "my work" and sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in cache.iterdir()) == ["pack.tar.gz", "pack_extracted"]


def test_get_file_replaces_its_own_extraction_atomically(tmp_path, cache):
    url = tar_gz(tmp_path / "pack.tar.gz", {"a.txt": b"one", "sub/b.txt": b"two"})
    folder = get_file("pack.tar.gz", url, extract=True)
    assert (Path(folder) / "sub" / "b.txt").read_bytes() == b"two"
    url = tar_gz(tmp_path / "pack.tar.gz", {"c.txt": b"three"})
    assert get_file("pack.tar.gz", url, extract=True, force_download=True) == folder
    assert sorted(p.name for p in Path(folder).iterdir()) == [EXTRACTED_MARKER, "c.txt"]
    assert sorted(p.name for p in cache.iterdir()) == ["pack.tar.gz", "pack_extracted"]  # no temporary folder left


def test_get_file_keeps_a_file_the_user_added_to_its_extraction(tmp_path, cache):
    url = tar_gz(tmp_path / "pack.tar.gz", {"a.txt": b"one"})
    folder = Path(get_file("pack.tar.gz", url, extract=True))
    (folder / "added.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"holds files shendu did not extract \(added\.txt\)"):
        get_file("pack.tar.gz", url, extract=True, force_download=True)
    assert (folder / "added.txt").read_text() == "mine" and (folder / "a.txt").read_bytes() == b"one"


def test_get_file_refuses_a_file_where_the_extraction_folder_goes(tmp_path, cache):
    url = tar_gz(tmp_path / "pack.tar.gz", {"a.txt": b"one"})
    cache.mkdir(parents=True)
    (cache / "pack_extracted").write_text("a file")
    with pytest.raises(FileExistsError, match="pack_extracted: it exists and is not a folder"):
        get_file("pack.tar.gz", url, extract=True)
    assert (cache / "pack_extracted").read_text() == "a file"


def test_get_file_extraction_folder_follows_the_umask(tmp_path, cache):
    url = tar_gz(tmp_path / "pack.tar.gz", {"a.txt": b"one"})
    before = os.umask(0o027)
    try:
        folder = get_file("pack.tar.gz", url, extract=True)
    finally:
        os.umask(before)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o750


def test_get_file_download_follows_the_umask(tmp_path, cache):
    (tmp_path / "blob.bin").write_bytes(b"data")
    before = os.umask(0o022)
    try:
        path = get_file("blob.bin", (tmp_path / "blob.bin").as_uri())
    finally:
        os.umask(before)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644 and sorted(os.listdir(cache)) == ["blob.bin"]
