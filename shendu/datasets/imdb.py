"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled positive (1) or negative (0) (Keras's loader).

Each review is a sequence of word indices, words ranked by frequency (1 = most frequent); the loader shifts them by
index_from, marks the start, cuts the vocabulary and drops long reviews exactly as keras.datasets.imdb does.
"""

from __future__ import annotations

import numpy as np

from shendu.datasets import _sequences as seq
from shendu.datasets._fetch import InvalidDatasetFileError, Mirror, locate
from shendu.datasets._npz import load_npz
from shendu.datasets._word_index import load_word_index

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MIRRORS = (Mirror(_KERAS + "imdb.npz", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),)
WORD_INDEX_MIRRORS = (Mirror(_KERAS + "imdb_word_index.json", "bfafd718b763782e994055a2d397834f"),)
ArrayPair = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2,
              index_from: int = 3) -> tuple[ArrayPair, ArrayPair]:
    """((x_train, y_train), (x_test, y_test)): x as 1-D object arrays of lists of word indices, y as 0/1 labels.

    Words are shifted by index_from (0 pads, start_char starts a review, oov_char replaces a word outside
    [skip_top, num_words)); with maxlen only reviews shorter than maxlen (start mark included) are kept. Train and
    test are shuffled with np.random.RandomState(seed), as Keras does. The file is found like mnist.npz.
    """
    located = locate(path, MIRRORS, "imdb.load_data")
    arrays = load_npz(located)
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise InvalidDatasetFileError(f"{located.path}: missing arrays {missing}; it has {sorted(arrays)}")
    rng = np.random.RandomState(seed)
    parts = []
    for split in ("train", "test"):
        xs = seq.check_sequences(located.path, f"x_{split}", arrays[f"x_{split}"], arrays[f"y_{split}"])
        xs, labels = seq.shuffled(rng, xs, arrays[f"y_{split}"])
        xs = seq.shift(xs, start_char, index_from)
        if maxlen:
            xs, labels = seq.remove_long(maxlen, xs, labels)
        parts.append((xs, np.asarray(labels, dtype=arrays[f"y_{split}"].dtype)))
    (x_train, y_train), (x_test, y_test) = parts
    if maxlen and (not x_train or not x_test):
        raise ValueError(f"imdb.load_data: after filtering for sequences shorter than maxlen={maxlen}, no sequence "
                         "was kept. Increase maxlen.")
    xs = seq.cut_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    n = len(x_train)
    return (seq.object_array(xs[:n]), y_train), (seq.object_array(xs[n:]), y_test)


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """{word: rank} (1 = most frequent); a word's index in load_data's sequences is rank + index_from."""
    return load_word_index(path, WORD_INDEX_MIRRORS, "imdb.get_word_index")
