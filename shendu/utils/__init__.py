"""Utilities with Keras's names: the progress bar, file downloads, label/feature helpers and plots."""

from shendu.utils.data_utils import (
    DownloadError,
    FileHashMismatchError,
    extract_archive,
    get_file,
    hash_file,
    validate_file,
)
from shendu.utils.numerical import normalize, to_categorical
from shendu.utils.plotting import plot_history, plot_images
from shendu.utils.progbar import Progbar

__all__ = [
    "DownloadError", "FileHashMismatchError", "Progbar", "extract_archive", "get_file", "hash_file", "normalize",
    "plot_history", "plot_images", "to_categorical", "validate_file",
]
