"""fashion_mnist and cifar10 loaders on small files written here in the standard formats (gzipped IDX; the CIFAR-10
binary tar.gz), served over a local HTTP server or file:// URLs; the real files are checked when the data dir has them.
"""

import functools
import gzip
import hashlib
import http.server
import io
import os
import struct
import tarfile
import threading

import numpy as np
import pytest

from shendu.datasets import DatasetNotFoundError, InvalidDatasetFileError, cifar10, fashion_mnist
from shendu.datasets._fetch import Mirror

FASHION_NAMES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No data dir, an empty cache under tmp_path; returns the cache's datasets folder."""
    monkeypatch.delenv("SHENDU_DATA_DIR", raising=False)
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets"


@pytest.fixture
def www(tmp_path):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base url)."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url(name: str) -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused: offline)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/{name}"


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Fashion-MNIST: gzipped IDX files ----------------------------------------------------------------------------
def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file: big-endian int32 magic (0x0800 + ndim for uint8), the sizes, then the bytes; gzipped."""
    magic = 0x800 + array.ndim if magic is None else magic
    header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_fashion(folder, n_train=12, n_test=5, seed=0, **overrides):
    """The four Fashion-MNIST files with random content; overrides replace a file's bytes by name."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        (folder / name).write_bytes(overrides.get(name, idx_bytes(array)))
    return arrays


def assert_fashion(loaded, arrays):
    (x, y), (xt, yt) = loaded
    for got, name in ((x, "train-images"), (y, "train-labels"), (xt, "t10k-images"), (yt, "t10k-labels")):
        expected = arrays[f"{name}-idx{3 if 'images' in name else 1}-ubyte.gz"]
        assert got.dtype == np.uint8 and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    assert x.flags.writeable


def serve_fashion(monkeypatch, folder, base):
    monkeypatch.setattr(fashion_mnist, "MIRRORS", {
        name: (Mirror(f"{base}/{name}", sha256_of(folder / name)),) for name in FASHION_NAMES})


def test_fashion_download_is_verified_cached_and_reused(env, www, monkeypatch, capsys):
    root, base = www
    arrays = write_fashion(root)
    serve_fashion(monkeypatch, root, base)
    assert_fashion(fashion_mnist.load_data(), arrays)
    assert capsys.readouterr().out.count("Downloading data from") == 4
    assert sorted(os.listdir(env / "fashion-mnist")) == sorted(FASHION_NAMES)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", {
        name: (Mirror(closed_port_url(name), sha256_of(root / name)),) for name in FASHION_NAMES})
    assert_fashion(fashion_mnist.load_data(), arrays)
    assert "Downloading" not in capsys.readouterr().out


def test_fashion_mirrors_are_the_standard_files():
    assert set(fashion_mnist.MIRRORS) == set(FASHION_NAMES)
    for name, mirrors in fashion_mnist.MIRRORS.items():
        assert [m.url for m in mirrors] == [f"https://storage.googleapis.com/tensorflow/tf-keras-datasets/{name}",
                                            f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}"]
        assert all(len(m.file_hash) == 64 for m in mirrors)
    assert fashion_mnist.MIRRORS["train-images-idx3-ubyte.gz"][0].file_hash.startswith("3aede38d")


def test_fashion_corrupted_download_is_refused(env, www, monkeypatch):
    root, base = www
    write_fashion(root)
    serve_fashion(monkeypatch, root, base)
    name = "t10k-images-idx3-ubyte.gz"
    monkeypatch.setitem(fashion_mnist.MIRRORS, name, (Mirror(f"{base}/{name}", "ab" * 32),))
    with pytest.raises(DatasetNotFoundError, match=f"(?s){name} was not found.*incomplete or corrupted"):
        fashion_mnist.load_data()
    assert name not in os.listdir(env / "fashion-mnist")


def test_fashion_offline_error_says_where_it_looked(env, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "MIRRORS", {
        name: (Mirror(closed_port_url(name), "c" * 64),) for name in FASHION_NAMES})
    with pytest.raises(DatasetNotFoundError) as caught:
        fashion_mnist.load_data()
    message = str(caught.value)
    cached = str(env / "fashion-mnist" / "train-labels-idx1-ubyte.gz")
    for expected in ("fashion_mnist.load_data", "$SHENDU_DATA_DIR: not set", f"cache: {cached}: no such file",
                     "URL fetch failure on http://127.0.0.1", "set SHENDU_DATA_DIR"):
        assert expected in message, expected


def test_fashion_data_dir_is_used_without_network(env, tmp_path, monkeypatch, capsys):
    arrays = write_fashion(tmp_path / "data", n_train=7, n_test=3, seed=4)
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(fashion_mnist, "MIRRORS", {
        name: (Mirror(closed_port_url(name), "0" * 64),) for name in FASHION_NAMES})
    assert_fashion(fashion_mnist.load_data(), arrays)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("name", "content", "message"), [
    ("train-images-idx3-ubyte.gz", b"not gzip", "not a readable gzip file"),
    ("train-images-idx3-ubyte.gz", idx_bytes(np.zeros((12, 28, 28)), magic=2049), "IDX magic number 2049; "
                                                                                   "expected 2051"),
    ("train-images-idx3-ubyte.gz", idx_bytes(np.zeros((12, 32, 32))), r"items of shape \(32, 32\); expected "
                                                                      r"\(28, 28\)"),
    ("t10k-labels-idx1-ubyte.gz", gzip.compress(struct.pack(">2i", 2049, 5) + bytes(4)),
     "announces 5 items .5 bytes. but 4 bytes follow"),
    ("t10k-labels-idx1-ubyte.gz", gzip.compress(b"\x00\x00"), "shorter than an IDX header"),
    ("t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((4, 28, 28))), "holds 4 images but its labels file holds 5"),
    ("train-labels-idx1-ubyte.gz", idx_bytes(np.full(12, 10)), "label 10; Fashion-MNIST labels are 0-9"),
])
def test_fashion_malformed_files_are_refused_clearly(env, tmp_path, monkeypatch, name, content, message):
    write_fashion(tmp_path / "data", **{name: content})
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(InvalidDatasetFileError, match=message):
        fashion_mnist.load_data()


# --- CIFAR-10: the binary version's tar.gz ------------------------------------------------------------------------
def cifar_archive(path, n_per_batch=(3, 2, 4, 1, 2), n_test=3, seed=0, members=None):
    """A cifar-10-binary.tar.gz with n records per batch; returns (x_train, y_train, x_test, y_test) as Keras gives.

    members: {member name: bytes} replacing (bytes) or dropping (None) members of the archive.
    """
    rng = np.random.default_rng(seed)
    content, images, labels = {}, [], []
    for name, n in (*zip(cifar10.TRAIN_BATCHES, n_per_batch), (cifar10.TEST_BATCH, n_test)):
        planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)  # the file's layout: channel planes
        y = rng.integers(0, 10, n).astype(np.uint8)
        content[name] = np.concatenate([y[:, None], planes.reshape(n, -1)], axis=1).tobytes()
        images.append(planes.transpose(0, 2, 3, 1))
        labels.append(y[:, None])
    content["batches.meta.txt"] = b"\n".join(name.encode() for name in cifar10.CLASS_NAMES)
    content.update(members or {})
    with tarfile.open(path, "w:gz") as archive:
        for name, data in content.items():
            if data is not None:
                info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return np.concatenate(images[:-1]), np.concatenate(labels[:-1]), images[-1], labels[-1]


def assert_cifar(loaded, expected):
    (x, y), (xt, yt) = loaded
    for got, want in zip((x, y, xt, yt), expected):
        assert got.dtype == np.uint8 and got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def test_cifar_download_is_verified_cached_and_read_channels_last(env, www, monkeypatch, capsys):
    root, base = www
    expected = cifar_archive(root / "cifar-10-binary.tar.gz")
    sha = sha256_of(root / "cifar-10-binary.tar.gz")
    monkeypatch.setattr(cifar10, "MIRRORS", (Mirror(f"{base}/cifar-10-binary.tar.gz", sha),))
    loaded = cifar10.load_data()
    assert_cifar(loaded, expected)
    (x, y), (xt, yt) = loaded
    assert x.shape == (12, 32, 32, 3) and y.shape == (12, 1) and xt.shape == (3, 32, 32, 3) and yt.shape == (3, 1)
    assert "Downloading data from" in capsys.readouterr().out
    assert os.listdir(env) == ["cifar-10"] and os.listdir(env / "cifar-10") == ["cifar-10-binary.tar.gz"]
    monkeypatch.setattr(cifar10, "MIRRORS", (Mirror(closed_port_url("c.tar.gz"), sha),))
    assert_cifar(cifar10.load_data(), expected)
    assert "Downloading" not in capsys.readouterr().out


def test_cifar_record_layout_is_label_then_red_green_blue_planes(env, tmp_path):
    record = np.zeros(cifar10.RECORD_BYTES, np.uint8)
    record[0] = 7
    record[1 + 0 * 1024 + 1 * 32 + 2] = 10  # red at row 1, column 2
    record[1 + 1 * 1024 + 1 * 32 + 2] = 20  # green
    record[1 + 2 * 1024 + 31 * 32 + 0] = 30  # blue at row 31, column 0
    one = record.tobytes()
    cifar_archive(tmp_path / "c.tar.gz", members={name: one for name in (*cifar10.TRAIN_BATCHES, cifar10.TEST_BATCH)})
    (x, y), (xt, yt) = cifar10.load_data(str(tmp_path / "c.tar.gz"))
    assert x.shape == (5, 32, 32, 3) and y.tolist() == [[7]] * 5 and yt.tolist() == [[7]]
    assert xt[0, 1, 2].tolist() == [10, 20, 0] and xt[0, 31, 0].tolist() == [0, 0, 30] and xt.sum() == 60


def test_cifar_mirror_is_the_official_binary_version():
    assert [m.url for m in cifar10.MIRRORS] == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
    assert cifar10.MIRRORS[0].file_hash == "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"


def test_cifar_corrupted_download_and_offline_errors(env, www, monkeypatch):
    root, base = www
    cifar_archive(root / "cifar-10-binary.tar.gz")
    monkeypatch.setattr(cifar10, "MIRRORS", (Mirror(f"{base}/cifar-10-binary.tar.gz", "ab" * 32),))
    with pytest.raises(DatasetNotFoundError, match="incomplete or corrupted: its sha256 is"):
        cifar10.load_data()
    assert os.listdir(env / "cifar-10") == []
    offline = closed_port_url("cifar-10-binary.tar.gz")
    monkeypatch.setattr(cifar10, "MIRRORS", (Mirror(offline, "c" * 64),))
    with pytest.raises(DatasetNotFoundError) as caught:
        cifar10.load_data()
    for expected in ("cifar10.load_data", "$SHENDU_DATA_DIR: not set", f"URL fetch failure on {offline}",
                     f"save it as {env / 'cifar-10' / 'cifar-10-binary.tar.gz'}"):
        assert expected in str(caught.value), expected


def test_cifar_data_dir_is_preferred(env, tmp_path, monkeypatch, capsys):
    (tmp_path / "data").mkdir()
    expected = cifar_archive(tmp_path / "data" / "cifar-10-binary.tar.gz", seed=5)
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cifar10, "MIRRORS", (Mirror(closed_port_url("c.tar.gz"), "0" * 64),))
    assert_cifar(cifar10.load_data(), expected)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("members", "message"), [
    ({"data_batch_3.bin": None}, r"missing \['cifar-10-batches-bin/data_batch_3\.bin'\]"),
    ({"test_batch.bin": bytes(3073 * 2 + 5)}, "test_batch.bin has 6151 bytes, not a whole number of 3073-byte"),
    ({"data_batch_1.bin": bytes([10]) + bytes(3072)}, "data_batch_1.bin holds label 10; CIFAR-10 labels are 0-9"),
])
def test_cifar_malformed_archive_is_refused_clearly(env, tmp_path, members, message):
    cifar_archive(tmp_path / "c.tar.gz", members=members)
    with pytest.raises(InvalidDatasetFileError, match=message) as caught:
        cifar10.load_data(str(tmp_path / "c.tar.gz"))
    assert str(tmp_path / "c.tar.gz") in str(caught.value)


def test_cifar_file_that_is_not_an_archive_is_refused(env, tmp_path):
    (tmp_path / "c.tar.gz").write_bytes(b"half a download")
    with pytest.raises(InvalidDatasetFileError, match=r"not a readable \.tar\.gz archive"):
        cifar10.load_data(str(tmp_path / "c.tar.gz"))


def test_keras_namespace_has_the_loaders():
    from shendu.keras import datasets

    assert datasets.fashion_mnist.load_data is fashion_mnist.load_data
    assert datasets.cifar10.load_data is cifar10.load_data


def _real(*names):
    data_dir = os.environ.get("SHENDU_DATA_DIR")
    if not data_dir or not all(os.path.isfile(os.path.join(data_dir, n)) for n in names):
        pytest.skip(f"SHENDU_DATA_DIR with {names} is not set")


def test_real_fashion_mnist_from_data_dir():
    _real(*FASHION_NAMES)
    (x, y), (xt, yt) = fashion_mnist.load_data()
    assert (x.shape, y.shape, xt.shape, yt.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10


def test_real_cifar10_from_data_dir():
    _real("cifar-10-binary.tar.gz")
    (x, y), (xt, yt) = cifar10.load_data()
    assert (x.shape, y.shape, xt.shape, yt.shape) == ((50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1))
    assert np.bincount(y[:, 0]).tolist() == [5000] * 10 and np.bincount(yt[:, 0]).tolist() == [1000] * 10
    assert y[:10, 0].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # the first training labels Keras returns
