"""Keras's processing of the word-index datasets (imdb, reuters): seeded shuffle, index shift, maxlen, vocabulary cut.

Every step follows keras.datasets exactly, so that the same seed gives the same sequences as in Keras.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shendu.datasets._fetch import InvalidDatasetFileError


def check_sequences(path: str, name: str, xs: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    """The sequences of an object array as lists of non-negative ints; InvalidDatasetFileError naming what is wrong."""
    if xs.ndim != 1 or labels.ndim != 1 or len(xs) != len(labels):
        raise InvalidDatasetFileError(f"{path}: {name} must be a 1-D array of sequences with one label each; got "
                                      f"shapes {xs.shape} and {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise InvalidDatasetFileError(f"{path}: the labels of {name} are {labels.dtype}; expected integers")
    out = []
    for i, x in enumerate(xs):
        seq = np.asarray(x)
        if seq.ndim != 1 or (seq.size and (seq.dtype.kind not in "iu" or seq.min() < 0)):
            raise InvalidDatasetFileError(f"{path}: sequence {i} of {name} is not a list of word indices "
                                          f"(non-negative integers)")
        out.append([int(w) for w in seq])
    return out


def shuffled(rng: np.random.RandomState, xs: list, labels: np.ndarray) -> tuple[list, np.ndarray]:
    """xs and labels in the order of one rng.shuffle of their indices (Keras's seeded shuffle)."""
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return [xs[i] for i in indices], labels[indices]


def shift(xs: list[list[int]], start_char: int | None, index_from: int) -> list[list[int]]:
    """Each word index + index_from, with start_char in front when it is not None."""
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in x] for x in xs]


def remove_long(maxlen: int, xs: list, labels: Sequence) -> tuple[list, list]:
    """The sequences shorter than maxlen (strictly, as Keras's remove_long_seq) and their labels."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def cut_vocabulary(xs: list[list[int]], num_words: int | None, skip_top: int, oov_char: int | None) -> list:
    """Words outside [skip_top, num_words) become oov_char (or are dropped when it is None).

    Without num_words Keras takes the largest index present as the bound, so that index itself becomes oov_char.
    """
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(xs: list[list[int]]) -> np.ndarray:
    """A 1-D object array of lists, also when all lists have the same length (np.array would make it 2-D)."""
    out = np.empty(len(xs), dtype=object)
    for i, x in enumerate(xs):
        out[i] = x
    return out
