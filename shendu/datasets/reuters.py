"""Reuters newswires: 11,228 newswires over 46 topics as sequences of word indices (Keras's loader).

The loader shuffles, shifts the indices, drops long newswires, cuts the vocabulary and splits train/test exactly as
keras.datasets.reuters does.
"""

from __future__ import annotations

import numpy as np

from shendu.datasets import _sequences as seq
from shendu.datasets._fetch import InvalidDatasetFileError, Mirror, locate
from shendu.datasets._npz import load_npz
from shendu.datasets._word_index import load_word_index

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MIRRORS = (Mirror(_KERAS + "reuters.npz", "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),)
WORD_INDEX_MIRRORS = (Mirror(_KERAS + "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921"),)
LABEL_NAMES = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
               "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
               "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
               "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
               "dlr", "gas", "silver", "wpi", "hog", "lead")
ArrayPair = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              test_split: float = 0.2, seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2,
              index_from: int = 3) -> tuple[ArrayPair, ArrayPair]:
    """((x_train, y_train), (x_test, y_test)): x as 1-D object arrays of lists of word indices, y as topic ids.

    The newswires are shuffled with np.random.RandomState(seed), shifted by index_from (start_char in front),
    those not shorter than maxlen dropped, words outside [skip_top, num_words) made oov_char, and the last
    test_split of them kept for test: Keras's steps in Keras's order. The file is found like mnist.npz.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"reuters.load_data: test_split must be in [0, 1); got {test_split}")
    located = locate(path, MIRRORS, "reuters.load_data")
    arrays = load_npz(located)
    if "x" not in arrays or "y" not in arrays:
        raise InvalidDatasetFileError(f"{located.path}: missing arrays x and y; it has {sorted(arrays)}")
    xs = seq.check_sequences(located.path, "x", arrays["x"], arrays["y"])
    xs, labels = seq.shuffled(np.random.RandomState(seed), xs, arrays["y"])
    xs = seq.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = seq.remove_long(maxlen, xs, labels)
    xs = seq.cut_vocabulary(xs, num_words, skip_top, oov_char)
    labels = np.asarray(labels, dtype=arrays["y"].dtype)
    n = int(len(xs) * (1 - test_split))
    return (seq.object_array(xs[:n]), labels[:n]), (seq.object_array(xs[n:]), labels[n:])


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """{word: rank} (1 = most frequent); a word's index in load_data's sequences is rank + index_from."""
    return load_word_index(path, WORD_INDEX_MIRRORS, "reuters.get_word_index")


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed by the labels load_data returns."""
    return LABEL_NAMES
