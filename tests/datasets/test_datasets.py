"""mnist.load_data: $SHENDU_DATA_DIR, then the cache, then hash-checked downloads (a local HTTP server, file://)."""

import functools
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from shendu.datasets import DatasetNotFoundError, InvalidDatasetFileError, mnist
from shendu.datasets._fetch import Mirror


def write_mnist(path, n_train=40, n_test=10, seed=0, **overrides):
    """A small .npz in MNIST's layout (uint8 images 28x28, labels 0-9); overrides replace or drop arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    arrays.update(overrides)
    np.savez_compressed(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No data dir, an empty cache under tmp_path; returns the cache's datasets folder."""
    monkeypatch.delenv("SHENDU_DATA_DIR", raising=False)
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets"


@pytest.fixture
def served(tmp_path):
    """A small mnist.npz served over HTTP on 127.0.0.1; yields (url, arrays, sha256)."""
    root = tmp_path / "www"
    root.mkdir()
    arrays = write_mnist(root / "mnist.npz")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrays, sha256_of(root / "mnist.npz")
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused: offline)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/mnist.npz"


def assert_same(loaded, arrays):
    (x, y), (xt, yt) = loaded
    for got, key in ((x, "x_train"), (y, "y_train"), (xt, "x_test"), (yt, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


def test_download_over_http_is_verified_cached_and_reused(env, served, monkeypatch, capsys):
    url, arrays, sha = served
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(f"{url}/mnist.npz", sha),))
    assert_same(mnist.load_data(), arrays)
    assert f"Downloading data from {url}/mnist.npz" in capsys.readouterr().out
    assert sorted(os.listdir(env)) == ["mnist.npz"]  # no temporary file left behind
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(closed_port_url(), sha),))  # offline now: the cache serves
    assert_same(mnist.load_data(), arrays)
    assert "Downloading" not in capsys.readouterr().out


def test_corrupted_download_is_refused_and_nothing_is_cached(env, served, monkeypatch):
    url, _, _ = served
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(f"{url}/mnist.npz", "ab" * 32),))
    with pytest.raises(DatasetNotFoundError, match="incomplete or corrupted: its sha256 is"):
        mnist.load_data()
    assert not env.exists() or os.listdir(env) == []


def test_falls_back_to_the_next_mirror_and_accepts_file_urls(env, served, tmp_path, monkeypatch):
    url, arrays, sha = served
    local = tmp_path / "www" / "mnist.npz"
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(f"{url}/missing.npz", sha), Mirror(local.as_uri(), sha)))
    assert_same(mnist.load_data(), arrays)


def test_md5_mirror_hash_is_accepted(env, served, monkeypatch):
    url, arrays, _ = served
    md5 = hashlib.md5((env.parent.parent / "www" / "mnist.npz").read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(f"{url}/mnist.npz", md5),))
    assert_same(mnist.load_data(), arrays)


def test_offline_error_lists_every_place_and_the_manual_fix(env, monkeypatch):
    first, second = closed_port_url(), closed_port_url().replace("mnist.npz", "other/mnist.npz")
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(first, "c" * 64), Mirror(second, "d" * 32)))
    with pytest.raises(DatasetNotFoundError) as caught:
        mnist.load_data()
    message = str(caught.value)
    assert isinstance(caught.value, OSError)
    cached = str(env / "mnist.npz")
    for expected in ("$SHENDU_DATA_DIR: not set", f"cache: {cached}: no such file", f"URL fetch failure on {first}",
                     f"URL fetch failure on {second}", f"download {first} (sha256 {'c' * 64})",
                     f"save it as {cached}", "set SHENDU_DATA_DIR"):
        assert expected in message, expected


def test_data_dir_is_preferred_over_cache_and_download(env, tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    provided = write_mnist(data_dir / "mnist.npz", seed=1)
    env.mkdir(parents=True)
    write_mnist(env / "mnist.npz", seed=2)
    monkeypatch.setenv("SHENDU_DATA_DIR", str(data_dir))
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(closed_port_url(), "0" * 64),))
    assert_same(mnist.load_data(), provided)
    assert capsys.readouterr().out == ""


def test_missing_file_in_data_dir_is_reported(env, tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(closed_port_url(), "0" * 64),))
    with pytest.raises(DatasetNotFoundError, match=r"\$SHENDU_DATA_DIR: .*empty.mnist\.npz: no such file"):
        mnist.load_data()


def test_corrupted_cache_file_is_fetched_again(env, served, monkeypatch, capsys):
    url, arrays, sha = served
    env.mkdir(parents=True)
    (env / "mnist.npz").write_bytes(b"half a download")
    monkeypatch.setattr(mnist, "MIRRORS", (Mirror(f"{url}/mnist.npz", sha),))
    assert_same(mnist.load_data(), arrays)
    assert "Downloading" in capsys.readouterr().out


@pytest.mark.parametrize(("overrides", "message"), [
    ({"x_train": np.zeros((40, 28, 28), np.float32)}, r"'x_train' is float32 of shape \(40, 28, 28\); expected uint8"),
    ({"x_test": np.zeros((10, 784), np.uint8)}, r"'x_test' is uint8 of shape \(10, 784\); expected uint8 of shape "
                                                 r"\(N, 28, 28\)"),
    ({"y_test": None}, r"missing arrays \['y_test'\]"),
    ({"y_train": np.zeros(39, np.uint8)}, "x_train has 40 images but y_train has 39 labels"),
    ({"y_train": np.full(40, 10, np.uint8)}, "label 10; MNIST labels are 0-9"),
])
def test_malformed_provided_file_is_refused_clearly(env, tmp_path, monkeypatch, overrides, message):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    write_mnist(data_dir / "mnist.npz", **overrides)
    monkeypatch.setenv("SHENDU_DATA_DIR", str(data_dir))
    with pytest.raises(InvalidDatasetFileError, match=message) as caught:
        mnist.load_data()
    assert str(data_dir / "mnist.npz") in str(caught.value)


def test_a_path_names_the_users_own_file(env, tmp_path):
    own = tmp_path / "mine.npz"
    arrays = write_mnist(own, seed=3)
    assert_same(mnist.load_data(str(own)), arrays)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(InvalidDatasetFileError, match=r"not a readable \.npz"):
        mnist.load_data(str(garbage))
    with pytest.raises(DatasetNotFoundError, match=r"no file at .*absent\.npz"):
        mnist.load_data(str(tmp_path / "absent.npz"))


def test_real_mnist_from_data_dir():
    data_dir = os.environ.get("SHENDU_DATA_DIR")
    if not data_dir or not os.path.isfile(os.path.join(data_dir, "mnist.npz")):
        pytest.skip("SHENDU_DATA_DIR with mnist.npz is not set")
    (x, y), (xt, yt) = mnist.load_data()
    assert (x.shape, y.shape, xt.shape, yt.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert {a.dtype for a in (x, y, xt, yt)} == {np.dtype(np.uint8)}
    assert np.bincount(y, minlength=10).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x.mean() - 33.318) < 1e-3 and x.max() == 255 and yt.max() == 9
