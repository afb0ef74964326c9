"""The regression datasets' common steps (boston_housing, california_housing): read x and y, seeded split."""

from __future__ import annotations

import numpy as np

from shendu.datasets._fetch import READ_ERRORS, InvalidDatasetFileError, Located, corrupted

ArrayPair = tuple[np.ndarray, np.ndarray]


def check_test_split(dataset: str, test_split: float) -> None:
    """Raise ValueError unless 0 <= test_split < 1."""
    if not 0 <= test_split < 1:
        raise ValueError(f"{dataset}: test_split must be between 0 and 1 (1 excluded); got {test_split}")


def read_xy(located: Located, features: int) -> ArrayPair:
    """x (n, features) and y (n,) of an .npz of real numbers, without pickle; InvalidDatasetFileError otherwise."""
    try:
        with np.load(located.path, allow_pickle=False) as archive:
            if "x" not in archive.files or "y" not in archive.files:
                raise InvalidDatasetFileError(f"{located.path}: missing arrays x and y; it has {archive.files}")
            x, y = archive["x"], archive["y"]
    except InvalidDatasetFileError:
        raise
    except READ_ERRORS as error:
        raise corrupted(located.path, ".npz file", error) from error
    if x.dtype.kind not in "fiu" or y.dtype.kind not in "fiu" or x.shape[1:] != (features,) or y.shape != x.shape[:1]:
        raise InvalidDatasetFileError(f"{located.path}: x is {x.dtype} {x.shape} and y {y.dtype} {y.shape}; expected "
                                      f"numbers of shapes (N, {features}) and (N,)")
    return x, y


def split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple[ArrayPair, ArrayPair]:
    """Keras's split: shuffle with np.random.RandomState(seed), the first int(n * (1 - test_split)) for training."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])
