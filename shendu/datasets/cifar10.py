"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes (Keras's loader, without pickle).

Keras reads the python version of the archive, whose batches are pickles; shendu reads the binary version
(cifar-10-binary.tar.gz) instead: the same images and labels in the same order, as fixed 3073-byte records
(1 label byte, then 1024 red, 1024 green and 1024 blue bytes, each plane row by row).
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile

import numpy as np

from shendu.datasets._fetch import READ_ERRORS, InvalidDatasetFileError, Mirror, corrupted, locate

MIRRORS = (
    Mirror("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
           "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),  # md5 c32a1d4ab5d03f1284b67883e8d87530
)
SUBDIR = "cifar-10"  # its own folder of the cache
NUM_CLASSES = 10
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FOLDER = "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
RECORD_BYTES = 1 + 32 * 32 * 3


def load_data(path: str = "cifar-10-binary.tar.gz") -> tuple[tuple[np.ndarray, np.ndarray],
                                                              tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)): uint8 images (50000, 32, 32, 3) and (10000, 32, 32, 3), channels
    last, and uint8 labels of shape (50000, 1) and (10000, 1) as Keras returns them; labels 0-9 name CLASS_NAMES.

    path: a file name looked for in $SHENDU_DATA_DIR/cifar-10, then $SHENDU_DATA_DIR, then in the cache
    (~/.shendu/datasets/cifar-10, or $SHENDU_CACHE_DIR/datasets/cifar-10), then downloaded there from MIRRORS with
    its hash checked; or a path to your own cifar-10-binary.tar.gz, which is checked by its content (members, record
    sizes, labels in 0-9).
    """
    located = locate(path, MIRRORS, "cifar10.load_data", SUBDIR)
    members = read_members(located.path, FOLDER, (*TRAIN_BATCHES, TEST_BATCH))
    train = [_parse_batch(located.path, name, members[name]) for name in TRAIN_BATCHES]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), _parse_batch(located.path, TEST_BATCH, members[TEST_BATCH])


def read_members(path: str, folder: str, names: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of <folder>/<name> for each name, read in one pass over the gzipped tar (no extraction to disk).

    The gzip stream is read to its end, so that its CRC and length checks catch a corrupted or truncated file.
    """
    wanted = {posixpath.join(folder, name): name for name in names}
    found: dict[str, bytes] = {}
    try:
        with gzip.open(path, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                name = wanted.get(posixpath.normpath(member.name))
                if name is not None and member.isfile():
                    found[name] = archive.extractfile(member).read()
            while stream.read(1 << 20):
                pass
    except (tarfile.TarError, *READ_ERRORS) as error:
        raise corrupted(path, ".tar.gz archive", error) from error
    missing = [posixpath.join(folder, n) for n in names if n not in found]
    if missing:
        raise InvalidDatasetFileError(f"{path}: missing {missing}; expected the binary version's members "
                                      f"{[posixpath.join(folder, n) for n in names]}")
    return found


def _parse_batch(path: str, name: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(x of shape (n, 32, 32, 3), y of shape (n, 1)) from n records of RECORD_BYTES bytes."""
    if len(raw) % RECORD_BYTES:
        raise InvalidDatasetFileError(f"{path}: {FOLDER}/{name} has {len(raw)} bytes, not a whole number of "
                                      f"{RECORD_BYTES}-byte records (truncated or not the binary version)")
    records = np.frombuffer(raw, np.uint8).reshape(-1, RECORD_BYTES)
    y = records[:, :1].copy()
    if y.size and y.max() >= NUM_CLASSES:
        raise InvalidDatasetFileError(f"{path}: {FOLDER}/{name} holds label {y.max()}; CIFAR-10 labels are 0-9")
    x = np.ascontiguousarray(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return x, y
