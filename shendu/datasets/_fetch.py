"""Finding a dataset file: $SHENDU_DATA_DIR first, then the cache, then the mirrors (hash-checked), else a clear error.

Shared by every loader (mnist, and later fashion_mnist, cifar10): a loader names its file, its mirrors with their
hashes and the arrays it expects; a file the user provides is checked by its arrays, a download by its hash.
"""

from __future__ import annotations

import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shendu.utils.data_utils import CACHE_ENV, cache_directory, download, validate_file

DATA_DIR_ENV = "SHENDU_DATA_DIR"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is in none of the places looked at and could not be downloaded; the message says where to
    put it."""


class InvalidDatasetFileError(ValueError):
    """A dataset file was found but does not hold the expected arrays (keys, dtypes, shapes), or is corrupted."""


# What reading a damaged archive raises from zipfile, zlib, gzip, tarfile and NumPy's .npy header parser.
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError, zipfile.BadZipFile,
               zlib.error, struct.error, tokenize.TokenError, SyntaxError)


def corrupted(path: str, kind: str, error: BaseException) -> InvalidDatasetFileError:
    """The error for a dataset file that cannot be read: it names the file and says it is corrupted or truncated
    (or, for a denied permission or a file gone meanwhile, that it cannot be opened)."""
    if isinstance(error, (PermissionError, FileNotFoundError, IsADirectoryError)):
        return InvalidDatasetFileError(f"{path} cannot be read: {error.strerror or error}")
    return InvalidDatasetFileError(
        f"{path} is corrupted or truncated: it is not a readable {kind} ({type(error).__name__}: {error}). "
        "Replace it with a good copy (a file in the cache can simply be deleted: it is downloaded again)."
    )


def refuse_directory(path: str, dataset: str) -> None:
    """Raise InvalidDatasetFileError if path is a directory where the dataset file belongs."""
    if os.path.isdir(path):
        raise InvalidDatasetFileError(f"{dataset}: {path} is a directory, not a file; expected the dataset file "
                                      "itself there (move the directory away or point to the file inside it)")


@dataclass(frozen=True)
class Mirror:
    """A URL serving the standard file and that file's hash there (sha256, or md5 for 32 hex digits)."""

    url: str
    file_hash: str


@dataclass(frozen=True)
class Located:
    """Where a dataset file was found; `provided` is True for a user's own file (checked by content, not hash)."""

    path: str
    provided: bool


def locate(fname: str, mirrors: Sequence[Mirror], dataset: str, subdir: str = "") -> Located:
    """Find fname: a user path (with a folder part), $SHENDU_DATA_DIR/[subdir/]fname, the cache's subdir, or a
    download into it.

    subdir keeps a dataset's files in their own folder of the cache (fashion-mnist/, cifar-10/) so that equal file
    names never collide; in $SHENDU_DATA_DIR the subfolder is tried first, then the flat layout. Raises
    DatasetNotFoundError listing every place looked at, each failure, and how to install the file by hand.
    """
    if os.path.dirname(fname):
        path = os.path.expanduser(fname)
        refuse_directory(path, dataset)
        if os.path.isfile(path):
            return Located(path, provided=True)
        raise DatasetNotFoundError(f"{dataset}: no file at {path}. {_manual_hint(os.path.basename(fname), mirrors)}")

    looked: list[str] = []
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        for path in dict.fromkeys(os.path.join(os.path.expanduser(data_dir), *parts) for parts in
                                  ((subdir, fname), (fname,))):
            refuse_directory(path, dataset)
            if os.path.isfile(path):
                return Located(path, provided=True)
            looked.append(f"${DATA_DIR_ENV}: {path}: no such file")
    else:
        looked.append(f"${DATA_DIR_ENV}: not set")

    cached = os.path.join(cache_directory(), subdir, fname)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    refuse_directory(cached, dataset)
    if os.path.isfile(cached):
        if any(validate_file(cached, m.file_hash) for m in mirrors):
            return Located(cached, provided=False)
        looked.append(f"cache: {cached}: present, but its hash matches no mirror's (incomplete or corrupted); "
                      "fetching it again")
    else:
        looked.append(f"cache: {cached}: no such file")

    for mirror in mirrors:
        try:
            download(mirror.url, cached, mirror.file_hash)
            return Located(cached, provided=False)
        except (OSError, ValueError) as error:
            looked.append(f"download: {error}")

    places = "\n".join(f"  {i}. {line}" for i, line in enumerate(looked, 1))
    raise DatasetNotFoundError(
        f"{dataset}: {fname} was not found and could not be downloaded. Looked at:\n{places}\n"
        f"{_manual_hint(fname, mirrors, cached)}"
    )


def _manual_hint(fname: str, mirrors: Sequence[Mirror], cached: str | None = None) -> str:
    first = mirrors[0]
    algorithm = "sha256" if len(first.file_hash) == 64 else "md5"
    where = f"save it as {cached}" if cached else f"save it in ~/.shendu/datasets (or ${CACHE_ENV}/datasets)"
    return (f"To install it by hand, download {first.url} ({algorithm} {first.file_hash}) and {where}, "
            f"or put your own {fname} in a folder and set {DATA_DIR_ENV} to that folder.")


def read_npz(located: Located, spec: Mapping[str, tuple[str, tuple[int | None, ...]]]) -> dict[str, np.ndarray]:
    """The arrays named in spec ({key: (dtype, shape with None for any size)}) from an .npz, checked; no pickle."""
    try:
        with np.load(located.path, allow_pickle=False) as archive:
            missing = [k for k in spec if k not in archive.files]
            if missing:
                raise InvalidDatasetFileError(f"{located.path}: missing arrays {missing}; it has {archive.files}, "
                                              f"expected {list(spec)}")
            arrays = {k: archive[k] for k in spec}
    except InvalidDatasetFileError:
        raise
    except READ_ERRORS as error:
        raise corrupted(located.path, ".npz file", error) from error
    for key, (dtype, shape) in spec.items():
        check_array(located.path, key, arrays[key], dtype, shape)
    return arrays


def check_array(path: str, key: str, array: Any, dtype: str, shape: tuple[int | None, ...]) -> None:
    """Raise InvalidDatasetFileError unless array has this dtype and shape (None matches any size)."""
    ok_shape = array.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, array.shape))
    if array.dtype != np.dtype(dtype) or not ok_shape:
        pattern = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise InvalidDatasetFileError(f"{path}: array {key!r} is {array.dtype} of shape {array.shape}; "
                                      f"expected {dtype} of shape {pattern}")
