"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 fine classes grouped into 20 coarse ones
(Keras's loader, without pickle).

As for CIFAR-10, shendu reads the binary version (cifar-100-binary.tar.gz) rather than Keras's pickled python version:
the same images in the same order, as 3074-byte records (coarse label, fine label, then the red, green and blue
1024-byte planes, each row by row).
"""

from __future__ import annotations

import numpy as np

from shendu.datasets._fetch import InvalidDatasetFileError, Mirror, locate
from shendu.datasets.cifar10 import read_members

MIRRORS = (
    Mirror("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
           "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"),  # md5 03b5dce01913d631647c71ecec9e9cb8
)
SUBDIR = "cifar-100"
FOLDER = "cifar-100-binary"
RECORD_BYTES = 2 + 32 * 32 * 3
NUM_CLASSES = {"coarse": 20, "fine": 100}


def load_data(label_mode: str = "fine", path: str = "cifar-100-binary.tar.gz") -> tuple[
        tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)): uint8 images (50000, 32, 32, 3) and (10000, 32, 32, 3), channels last,
    and uint8 labels of shape (n, 1): fine (0-99) or coarse (0-19) as label_mode says.

    path: a file name looked for in $SHENDU_DATA_DIR/cifar-100, then $SHENDU_DATA_DIR, then the cache's cifar-100
    folder, then downloaded there from MIRRORS with its hash checked; or a path to your own file.
    """
    if label_mode not in NUM_CLASSES:
        raise ValueError(f'cifar100.load_data: label_mode must be one of "fine", "coarse"; got {label_mode!r}')
    located = locate(path, MIRRORS, "cifar100.load_data", SUBDIR)
    members = read_members(located.path, FOLDER, ("train.bin", "test.bin"))
    return tuple(_parse(located.path, name, members[name], label_mode) for name in ("train.bin", "test.bin"))


def _parse(path: str, name: str, raw: bytes, label_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(x of shape (n, 32, 32, 3), y of shape (n, 1)) from n records of RECORD_BYTES bytes."""
    if len(raw) % RECORD_BYTES:
        raise InvalidDatasetFileError(f"{path}: {FOLDER}/{name} has {len(raw)} bytes, not a whole number of "
                                      f"{RECORD_BYTES}-byte records (truncated or not the binary version)")
    records = np.frombuffer(raw, np.uint8).reshape(-1, RECORD_BYTES)
    for column, mode in enumerate(("coarse", "fine")):
        top = int(records[:, column].max(initial=0))
        if top >= NUM_CLASSES[mode]:
            raise InvalidDatasetFileError(f"{path}: {FOLDER}/{name} holds {mode} label {top}; CIFAR-100 {mode} "
                                          f"labels are 0-{NUM_CLASSES[mode] - 1}")
    column = 0 if label_mode == "coarse" else 1
    y = records[:, column:column + 1].copy()
    x = np.ascontiguousarray(records[:, 2:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return x, y
