"""The sentence polarity dataset v1.0 (Pang and Lee, 2005): 5,331 positive and 5,331 negative movie-review snippets.

There is no public mirror of this copy to download from: the loader reads the two Latin-1 files
rt-polarity.pos and rt-polarity.neg (one snippet a line, lower-cased and tokenized) from a folder, and makes a
seeded train/test split as Keras's reuters loader does.
"""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np

from shendu.datasets._fetch import DATA_DIR_ENV, DatasetNotFoundError, InvalidDatasetFileError, refuse_directory
from shendu.utils.data_utils import cache_root

FOLDER = "rt-polarity"
FILES = {"rt-polarity.pos": 1, "rt-polarity.neg": 0}
SHA256 = {
    "rt-polarity.pos": "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0",
    "rt-polarity.neg": "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca",
}
# How each standard file begins: a file that begins so but whose sha256 differs is a damaged copy of it.
STANDARD_START = {
    "rt-polarity.pos": b"the rock is destined to be the 21st century's new",
    "rt-polarity.neg": b"simplistic , silly and tedious .",
}
SOURCE = "https://www.cs.cornell.edu/people/pabo/movie-review-data/"
ENCODING = "latin-1"
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control bytes: never in these text files


def _candidates(path: str | os.PathLike | None) -> list[tuple[str, str]]:
    """(folder, how it was chosen) in the order they are tried."""
    if path is not None:
        return [(os.path.expanduser(os.fspath(path)), "path argument")]
    out = []
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        out.append((os.path.join(os.path.expanduser(data_dir), FOLDER), f"${DATA_DIR_ENV}/{FOLDER}"))
    out.append((os.path.join(cache_root(), "datasets", FOLDER), "cache"))
    return out


def locate(path: str | os.PathLike | None = None) -> str:
    """The folder holding rt-polarity.pos and rt-polarity.neg: path, else $SHENDU_DATA_DIR/rt-polarity, else
    ~/.shendu/datasets/rt-polarity (or $SHENDU_CACHE_DIR/datasets/rt-polarity); else DatasetNotFoundError saying
    where it looked and how to get the files."""
    looked = []
    for folder, how in _candidates(path):
        for name in FILES:
            refuse_directory(os.path.join(folder, name), "rt_polarity.load_data")
        missing = [f for f in FILES if not os.path.isfile(os.path.join(folder, f))]
        if not missing:
            return folder
        looked.append(f"{how}: {folder}: missing {', '.join(missing)}")
    if path is None and not os.environ.get(DATA_DIR_ENV):
        looked.insert(0, f"${DATA_DIR_ENV}: not set")
    places = "\n".join(f"  {i}. {line}" for i, line in enumerate(looked, 1))
    raise DatasetNotFoundError(
        f"rt_polarity.load_data: the sentence polarity files were not found. Looked at:\n{places}\n"
        f"There is no download for this copy. Get the 'sentence polarity dataset v1.0' (rt-polaritydata.tar.gz) "
        f"from the Cornell movie-review data page, {SOURCE}, extract rt-polarity.pos and rt-polarity.neg into a "
        f"folder named {FOLDER}, and set ${DATA_DIR_ENV} to the folder that contains it (or pass path= the "
        f"{FOLDER} folder itself, or put it in {os.path.join(cache_root(), 'datasets')})."
    )


def _read(folder: str, name: str) -> list[str]:
    """The non-empty lines of one file; refuses binary bytes and a damaged copy of the standard v1.0 file."""
    path = os.path.join(folder, name)
    with open(path, "rb") as f:
        raw = f.read()
    binary = _BINARY.search(raw)
    if binary:
        raise InvalidDatasetFileError(f"{path} is corrupted: byte 0x{raw[binary.start()]:02x} at offset "
                                      f"{binary.start()} is not text (expected Latin-1 text, one snippet a line)")
    if raw.startswith(STANDARD_START[name]) and (digest := hashlib.sha256(raw).hexdigest()) != SHA256[name]:
        raise InvalidDatasetFileError(f"{path} is corrupted or truncated: it begins as the standard v1.0 file but "
                                      f"its sha256 is {digest}, expected {SHA256[name]}; get it again from {SOURCE}")
    text = raw.decode(ENCODING).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise InvalidDatasetFileError(f"{path}: no sentences (expected one snippet a line)")
    return lines


def load_data(path: str | os.PathLike | None = None, test_split: float = 0.1,
              seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """((x_train, y_train), (x_test, y_test)): x arrays of strings (one snippet each, surrounding whitespace
    removed), y int64 labels (1 = positive, 0 = negative).

    The positive then the negative sentences are shuffled with np.random.RandomState(seed); the first
    int(n * (1 - test_split)) are the training set, the rest the test set (Keras's reuters protocol).
    path: a folder holding rt-polarity.pos and rt-polarity.neg (see `locate` for where it looks without one).
    """
    if not isinstance(test_split, (int, float)) or not 0 <= test_split < 1:
        raise ValueError(f"rt_polarity.load_data: test_split must be in [0, 1), got {test_split!r}")
    folder = locate(path)
    texts: list[str] = []
    labels: list[int] = []
    for name, label in FILES.items():
        lines = _read(folder, name)
        texts.extend(lines)
        labels.extend([label] * len(lines))
    x = np.array(texts)
    y = np.array(labels, dtype=np.int64)
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])
