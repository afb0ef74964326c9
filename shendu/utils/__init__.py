"""Utilities with Keras's names: the progress bar, file downloads and label/feature helpers."""

from shendu.utils.data_utils import (
    DownloadError,
    FileHashMismatchError,
    extract_archive,
    get_file,
    hash_file,
    validate_file,
)
from shendu.utils.numerical import normalize, to_categorical
from shendu.utils.progbar import Progbar

__all__ = [
    "DownloadError", "FileHashMismatchError", "Progbar", "extract_archive", "get_file", "hash_file", "normalize",
    "to_categorical", "validate_file",
]
