"""imdb, reuters, cifar100, boston_housing, california_housing on small files in Keras's formats (file:// mirrors or
$SHENDU_DATA_DIR), with Keras's processing checked against values worked out by hand; the cache subfolders."""

import gzip
import hashlib
import io
import json
import os
import struct
import tarfile

import numpy as np
import pytest

from shendu.datasets import (
    DatasetNotFoundError,
    InvalidDatasetFileError,
    _npz,
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    reuters,
)
from shendu.datasets._fetch import Mirror

PERM_10 = [9, 3, 6, 1, 0, 7, 4, 8, 2, 5]  # np.random.RandomState(113).shuffle(np.arange(10)), Keras's default seed


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No data dir, an empty cache under tmp_path; returns the cache's datasets folder."""
    monkeypatch.delenv("SHENDU_DATA_DIR", raising=False)
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets"


def ragged(*seqs) -> np.ndarray:
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def mirror_of(path, algorithm="sha256") -> tuple[Mirror]:
    return (Mirror(path.as_uri(), hashlib.new(algorithm, path.read_bytes()).hexdigest()),)


def write_imdb(folder, train=([1, 2, 7],), y_train=(1,), test=([3, 9],), y_test=(0,)):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "imdb.npz", x_train=ragged(*train), y_train=np.array(y_train, np.int64),
             x_test=ragged(*test), y_test=np.array(y_test, np.int64))
    return folder / "imdb.npz"


def lists(x) -> list:
    return [list(s) for s in x]


# --- imdb -------------------------------------------------------------------------------------------------------------
def test_imdb_download_through_a_mirror_is_cached_with_keras_defaults(env, tmp_path, monkeypatch, capsys):
    source = write_imdb(tmp_path / "www")
    monkeypatch.setattr(imdb, "MIRRORS", mirror_of(source))
    (x, y), (xt, yt) = imdb.load_data()
    # +3 shift, start char 1; without num_words Keras bounds by the largest index (12), which itself becomes oov 2
    assert lists(x) == [[1, 4, 5, 10]] and lists(xt) == [[1, 6, 2]]
    assert y.tolist() == [1] and yt.tolist() == [0] and x.dtype == object and x.shape == (1,)
    assert "Downloading data from file://" in capsys.readouterr().out
    assert os.listdir(env) == ["imdb.npz"]


@pytest.mark.parametrize(("kwargs", "train", "test"), [
    ({"num_words": 6}, [[1, 4, 5, 2]], [[1, 2, 2]]),
    ({"skip_top": 5, "num_words": 11}, [[2, 2, 5, 10]], [[2, 6, 2]]),
    ({"num_words": 6, "oov_char": None}, [[1, 4, 5]], [[1]]),
    ({"start_char": None, "index_from": 0, "num_words": 100}, [[1, 2, 7]], [[3, 9]]),
    ({"start_char": 7, "oov_char": 0, "index_from": 10, "num_words": 13}, [[7, 11, 12, 0]], [[7, 0, 0]]),
])
def test_imdb_vocabulary_cut_and_index_shift(env, tmp_path, monkeypatch, kwargs, train, test):
    write_imdb(tmp_path / "data")
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (x, _), (xt, _) = imdb.load_data(**kwargs)
    assert lists(x) == train and lists(xt) == test


def test_imdb_maxlen_keeps_sequences_shorter_than_it_start_mark_included(env, tmp_path, monkeypatch):
    write_imdb(tmp_path / "data", train=([1], [1, 2, 3], [1, 2]), y_train=(0, 1, 1), test=([4, 4, 4], [5]),
               y_test=(1, 0))
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (x, y), (xt, yt) = imdb.load_data(maxlen=3, num_words=100, seed=0)
    assert sorted(map(len, x)) == [2] and len(x) == 1 and y.tolist() == [0]  # [1, 4]; [1, 4, 5] has length 3
    assert lists(xt) == [[1, 8]] and yt.tolist() == [0]
    with pytest.raises(ValueError, match=r"maxlen=2, no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=2)


def test_imdb_shuffles_train_then_test_with_one_seeded_generator(env, tmp_path, monkeypatch):
    write_imdb(tmp_path / "data", train=[[i] for i in range(1, 6)], y_train=range(5),
               test=[[i] for i in range(11, 14)], y_test=range(3))
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (x, y), (xt, yt) = imdb.load_data(num_words=100, start_char=None, index_from=0)
    # RandomState(113): the train indices shuffle to [1, 0, 3, 2, 4], then the test indices to [1, 0, 2]
    assert lists(x) == [[2], [1], [4], [3], [5]] and y.tolist() == [1, 0, 3, 2, 4]
    assert lists(xt) == [[12], [11], [13]] and yt.tolist() == [1, 0, 2]
    (x2, _), _ = imdb.load_data(num_words=100, start_char=None, index_from=0, seed=7)
    assert lists(x2) != lists(x)


def test_imdb_equal_length_sequences_stay_a_1d_object_array(env, tmp_path, monkeypatch):
    write_imdb(tmp_path / "data", train=([1, 2], [3, 4]), y_train=(0, 1))
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (x, _), _ = imdb.load_data()
    assert x.shape == (2,) and x.dtype == object and all(isinstance(s, list) for s in x)


def test_imdb_word_index_from_a_mirror(env, tmp_path, monkeypatch):
    source = tmp_path / "www" / "imdb_word_index.json"
    source.parent.mkdir()
    source.write_text(json.dumps({"the": 1, "and": 2, "film": 17}))
    monkeypatch.setattr(imdb, "WORD_INDEX_MIRRORS", mirror_of(source, "md5"))
    assert imdb.get_word_index() == {"the": 1, "and": 2, "film": 17}
    assert (env / "imdb_word_index.json").is_file()


def test_word_index_that_is_not_a_mapping_is_refused(env, tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "reuters_word_index.json").write_text('{"the": "one"}')
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(InvalidDatasetFileError, match="mapping words to integer indices"):
        reuters.get_word_index()


def test_imdb_offline_error_says_where_to_put_the_file(env, tmp_path, monkeypatch):
    monkeypatch.setattr(imdb, "MIRRORS", (Mirror((tmp_path / "gone" / "imdb.npz").as_uri(), "a" * 64),))
    with pytest.raises(DatasetNotFoundError) as caught:
        imdb.load_data()
    message = str(caught.value)
    for expected in ("imdb.load_data", "$SHENDU_DATA_DIR: not set", f"cache: {env / 'imdb.npz'}: no such file",
                     "URL fetch failure on file://", f"save it as {env / 'imdb.npz'}", "set SHENDU_DATA_DIR"):
        assert expected in message, expected


def test_keras_imdb_and_reuters_urls_and_hashes():
    assert imdb.MIRRORS[0].url == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
    assert imdb.MIRRORS[0].file_hash.startswith("69664113")
    assert imdb.WORD_INDEX_MIRRORS[0].file_hash == "bfafd718b763782e994055a2d397834f"
    assert reuters.MIRRORS[0].file_hash.startswith("d6586e69")
    assert boston_housing.MIRRORS[0].file_hash.startswith("f553886a")
    assert california_housing.MIRRORS[0].file_hash.startswith("1a2e3a52")


# --- the object-array reader ------------------------------------------------------------------------------------------
class Gadget:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_pickled_global_other_than_numpys_is_refused_and_never_run(env, tmp_path):
    marker = str(tmp_path / "pwned")
    np.savez(tmp_path / "imdb.npz", x_train=ragged([1]), y_train=np.array([0]),
             x_test=np.array([Gadget(marker)], dtype=object), y_test=np.array([0]))
    with pytest.raises(InvalidDatasetFileError, match=r"refusing to load the global (posix|nt).mkdir"):
        imdb.load_data(str(tmp_path / "imdb.npz"))
    assert not os.path.exists(marker)


def test_a_member_declaring_far_more_than_it_stores_is_refused(env, tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "r.npz", x=ragged([1]), y=np.array([0]), pad=np.zeros(100_000))
    monkeypatch.setattr(_npz, "BOMB_FLOOR_BYTES", 1000)
    with pytest.raises(InvalidDatasetFileError, match=r"pad.npy declares 800128 bytes.*decompression bomb"):
        reuters.load_data(str(tmp_path / "r.npz"))


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x": ragged([1]), "y": np.array([0.5])}, "labels of x are float64"),
    ({"x": ragged([1, -2]), "y": np.array([0])}, "sequence 0 of x is not a list of word indices"),
    ({"x": ragged([1]), "y": np.array([0, 1])}, "one label each"),
    ({"y": np.array([0])}, "missing arrays x and y"),
])
def test_malformed_reuters_files_are_refused_clearly(env, tmp_path, arrays, message):
    np.savez(tmp_path / "r.npz", **arrays)
    with pytest.raises(InvalidDatasetFileError, match=message):
        reuters.load_data(str(tmp_path / "r.npz"))


def test_a_truncated_npz_is_named_corrupted(env, tmp_path):
    write_imdb(tmp_path)
    raw = (tmp_path / "imdb.npz").read_bytes()
    (tmp_path / "imdb.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidDatasetFileError, match=r"imdb.npz is corrupted or truncated"):
        imdb.load_data(str(tmp_path / "imdb.npz"))


# --- reuters ----------------------------------------------------------------------------------------------------------
def write_reuters(path, n=10):
    np.savez(path, x=ragged(*[[i + 1] * (i % 4 + 1) for i in range(n)]), y=np.arange(n, dtype=np.int64) % 46)


def test_reuters_shuffles_shifts_and_splits_as_keras(env, tmp_path, monkeypatch):
    (tmp_path / "www").mkdir()
    write_reuters(tmp_path / "www" / "reuters.npz")
    monkeypatch.setattr(reuters, "MIRRORS", mirror_of(tmp_path / "www" / "reuters.npz"))
    (x, y), (xt, yt) = reuters.load_data(num_words=100)
    assert y.tolist() == PERM_10[:8] and yt.tolist() == PERM_10[8:]
    assert lists(xt) == [[1, 6, 6, 6], [1, 9, 9]]  # newswires 2 ([3] * 3) and 5 ([6] * 2), shifted by 3
    assert x.dtype == object and len(x) == 8


def test_reuters_maxlen_is_applied_before_the_split_and_the_vocabulary_cut(env, tmp_path):
    write_reuters(tmp_path / "reuters.npz")
    (x, y), (xt, yt) = reuters.load_data(str(tmp_path / "reuters.npz"), maxlen=3, num_words=8, test_split=0.5)
    kept = [i for i in PERM_10 if i % 4 + 1 < 2]  # 1 + length < 3: newswires of one word (0, 4, 8)
    assert y.tolist() + yt.tolist() == kept and len(y) == 1
    assert lists(x) + lists(xt) == [[1, 2 if i + 4 >= 8 else i + 4] for i in kept]


def test_reuters_label_names_and_test_split_check():
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"
    with pytest.raises(ValueError, match="test_split must be in"):
        reuters.load_data(test_split=1.0)


# --- boston_housing, california_housing -------------------------------------------------------------------------------
def test_boston_housing_seeded_split(env, tmp_path, monkeypatch):
    x = np.arange(130, dtype=np.float64).reshape(10, 13)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "boston_housing.npz", x=x, y=np.arange(10.0))
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (xtr, ytr), (_, yte) = boston_housing.load_data()
    assert ytr.tolist() == PERM_10[:8] and yte.tolist() == PERM_10[8:]
    np.testing.assert_array_equal(xtr, x[PERM_10[:8]])
    (_, ytr), (_, yte) = boston_housing.load_data(test_split=0.0)
    assert len(ytr) == 10 and len(yte) == 0


def test_california_housing_small_version_and_errors(env, tmp_path, monkeypatch):
    x = np.arange(700 * 8, dtype=np.float32).reshape(700, 8)
    path = tmp_path / "www" / "california_housing.npz"
    path.parent.mkdir()
    np.savez(path, x=x, y=np.arange(700, dtype=np.float32))
    monkeypatch.setattr(california_housing, "MIRRORS", mirror_of(path))
    (_, ytr), (_, yte) = california_housing.load_data(version="small", test_split=0.25)
    assert len(ytr) == 450 and len(yte) == 150 and max(ytr.max(), yte.max()) < 600
    perm = np.arange(600)
    np.random.RandomState(113).shuffle(perm)
    assert ytr.tolist() == perm[:450].tolist()
    (_, ytr), (_, yte) = california_housing.load_data()
    assert len(ytr) == 560 and len(yte) == 140
    with pytest.raises(ValueError, match="version must be 'small' or 'large'"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="test_split must be between 0 and 1"):
        california_housing.load_data(test_split=-0.1)


def test_regression_file_with_the_wrong_shape_is_refused(env, tmp_path):
    np.savez(tmp_path / "b.npz", x=np.zeros((4, 8)), y=np.zeros(4))
    with pytest.raises(InvalidDatasetFileError, match=r"expected numbers of shapes \(N, 13\) and \(N,\)"):
        boston_housing.load_data(str(tmp_path / "b.npz"))


# --- cifar100 ---------------------------------------------------------------------------------------------------------
def cifar100_archive(path, n_train=3, n_test=2, seed=0, members=None):
    """A cifar-100-binary.tar.gz; returns (x_train, coarse_train, fine_train, x_test, coarse_test, fine_test)."""
    rng = np.random.default_rng(seed)
    content, out = {}, []
    for name, n in (("train.bin", n_train), ("test.bin", n_test)):
        planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        coarse, fine = rng.integers(0, 20, n).astype(np.uint8), rng.integers(0, 100, n).astype(np.uint8)
        content[name] = np.concatenate([coarse[:, None], fine[:, None], planes.reshape(n, -1)], axis=1).tobytes()
        out += [planes.transpose(0, 2, 3, 1), coarse[:, None], fine[:, None]]
    content.update(members or {})
    with tarfile.open(path, "w:gz") as archive:
        for name, data in content.items():
            info = tarfile.TarInfo(f"cifar-100-binary/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out


def test_cifar100_fine_and_coarse_labels_from_a_mirror_into_its_cache_folder(env, tmp_path, monkeypatch):
    (tmp_path / "www").mkdir()
    source = tmp_path / "www" / "cifar-100-binary.tar.gz"
    x, coarse, fine, xt, coarse_t, fine_t = cifar100_archive(source)
    monkeypatch.setattr(cifar100, "MIRRORS", mirror_of(source))
    (gx, gy), (gxt, gyt) = cifar100.load_data()
    np.testing.assert_array_equal(gx, x)
    np.testing.assert_array_equal(gxt, xt)
    assert gy.tolist() == fine.tolist() and gyt.tolist() == fine_t.tolist() and gy.shape == (3, 1)
    (_, gy), (_, gyt) = cifar100.load_data(label_mode="coarse")
    assert gy.tolist() == coarse.tolist() and gyt.tolist() == coarse_t.tolist()
    assert os.listdir(env / "cifar-100") == ["cifar-100-binary.tar.gz"]
    with pytest.raises(ValueError, match='label_mode must be one of "fine", "coarse"'):
        cifar100.load_data(label_mode="medium")


def test_cifar100_record_layout_and_bad_labels(env, tmp_path):
    record = np.zeros(cifar100.RECORD_BYTES, np.uint8)
    record[:2] = (19, 99)
    record[2 + 1 * 1024 + 5 * 32 + 6] = 40  # green at row 5, column 6
    cifar100_archive(tmp_path / "c.tar.gz", members={"train.bin": record.tobytes(), "test.bin": record.tobytes()})
    (x, y), _ = cifar100.load_data("coarse", str(tmp_path / "c.tar.gz"))
    assert y.tolist() == [[19]] and x[0, 5, 6].tolist() == [0, 40, 0] and x.sum() == 40
    record[1] = 100
    cifar100_archive(tmp_path / "d.tar.gz", members={"test.bin": record.tobytes()})
    with pytest.raises(InvalidDatasetFileError, match=r"test.bin holds fine label 100; CIFAR-100 fine labels are 0-99"):
        cifar100.load_data(path=str(tmp_path / "d.tar.gz"))


def test_cifar100_mirror_is_the_official_binary_version():
    assert cifar100.MIRRORS[0].url == "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    assert cifar100.MIRRORS[0].file_hash.startswith("58a81ae1")


# --- cache and data-dir subfolders ------------------------------------------------------------------------------------
def idx(array: np.ndarray) -> bytes:
    return gzip.compress(struct.pack(f">{1 + array.ndim}i", 0x800 + array.ndim, *array.shape) + array.tobytes())


def write_fashion(folder, label):
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(idx(np.zeros((1, 28, 28), np.uint8)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(idx(np.array([label], np.uint8)))


def test_fashion_mnist_in_its_data_dir_subfolder_wins_over_flat_mnist_named_files(env, tmp_path, monkeypatch):
    write_fashion(tmp_path / "data", label=1)  # flat: the names MNIST's raw files have too
    write_fashion(tmp_path / "data" / "fashion-mnist", label=7)
    monkeypatch.setenv("SHENDU_DATA_DIR", str(tmp_path / "data"))
    (_, y), _ = fashion_mnist.load_data()
    assert y.tolist() == [7]
    for name in os.listdir(tmp_path / "data" / "fashion-mnist"):
        os.remove(tmp_path / "data" / "fashion-mnist" / name)
    (_, y), _ = fashion_mnist.load_data()  # the flat layout still reads
    assert y.tolist() == [1]


def test_fashion_and_cifar10_download_into_their_own_cache_folders(env, tmp_path, monkeypatch):
    write_fashion(tmp_path / "www", label=3)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", {n: mirror_of(tmp_path / "www" / n) for n in fashion_mnist.FILES})
    (_, y), _ = fashion_mnist.load_data()
    assert y.tolist() == [3] and sorted(os.listdir(env / "fashion-mnist")) == sorted(fashion_mnist.FILES)
    assert cifar10.SUBDIR == "cifar-10" and "fashion-mnist" in os.listdir(env)
    assert not any(name.endswith(".gz") for name in os.listdir(env))


def test_keras_namespace_has_the_new_loaders():
    from shendu.keras import datasets

    for module in (imdb, reuters, cifar100, boston_housing, california_housing):
        assert getattr(datasets, module.__name__.rsplit(".", 1)[1]) is module
