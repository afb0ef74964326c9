"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels, labels 0-9 (Keras's loader)."""

from __future__ import annotations

import numpy as np

from shendu.datasets._fetch import InvalidDatasetFileError, Mirror, locate, read_npz

MIRRORS = (
    Mirror("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
           "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    Mirror("https://s3.amazonaws.com/img-datasets/mnist.npz", "8a61469f7ea1b51cbae51d4f78837e45"),
)
NUM_CLASSES = 10
_SPEC = {
    "x_train": ("uint8", (None, 28, 28)),
    "y_train": ("uint8", (None,)),
    "x_test": ("uint8", (None, 28, 28)),
    "y_test": ("uint8", (None,)),
}


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28),
    (10000,).

    path: a file name looked for in $SHENDU_DATA_DIR, then in the cache (~/.shendu/datasets, or
    $SHENDU_CACHE_DIR/datasets), then downloaded there from MIRRORS with its hash checked; or a path to your own
    mnist.npz, which is checked by its arrays (keys, dtypes, shapes, labels in 0-9).
    """
    located = locate(path, MIRRORS, "mnist.load_data")
    arrays = read_npz(located, _SPEC)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise InvalidDatasetFileError(f"{located.path}: x_{split} has {len(x)} images but y_{split} has "
                                          f"{len(y)} labels")
        if y.size and y.max() >= NUM_CLASSES:
            raise InvalidDatasetFileError(f"{located.path}: y_{split} holds label {y.max()}; MNIST labels are 0-9")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
