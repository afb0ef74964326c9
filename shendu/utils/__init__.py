"""Utilities with Keras's names: the progress bar, file downloads, label/feature helpers and plots."""

from shendu.utils.data_utils import (
    DownloadError,
    FileHashMismatchError,
    extract_archive,
    get_file,
    hash_file,
    validate_file,
)
from shendu.utils.image_grid import image_grid, save_image_grid, write_png
from shendu.utils.numerical import normalize, to_categorical
from shendu.utils.plotting import plot_history, plot_images
from shendu.utils.progbar import Progbar
from shendu.utils.sequence import pad_sequences
from shendu.utils.split_dataset import split_dataset
from shendu.utils.timeseries import timeseries_dataset_from_array

__all__ = [
    "DownloadError", "FileHashMismatchError", "Progbar", "extract_archive", "get_file", "hash_file", "image_grid",
    "normalize", "pad_sequences", "plot_history", "plot_images", "save_image_grid", "split_dataset",
    "timeseries_dataset_from_array", "to_categorical", "validate_file", "write_png"
]
