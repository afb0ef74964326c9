"""Keras's published ImageNet weight files: fetched once into the cache (checked by the hash Keras uses) and read
with the legacy-HDF5 reader; offline, the error says which file to fetch, from where, and where to put it."""

from __future__ import annotations

import os
from typing import Any

from shendu.utils.data_utils import DownloadError, cache_directory, get_file

CACHE_SUBDIR = "models"


class WeightsNotFoundError(DownloadError):
    """A pretrained weight file is not in the cache and could not be downloaded; the message says how to add it."""


def fetch(fname: str, origin: str, file_hash: str | None, caller: str) -> str:
    """The local path of a published file: <cache>/models/<fname>, downloaded from origin when missing."""
    try:
        return get_file(fname, origin, cache_subdir=CACHE_SUBDIR, file_hash=file_hash)
    except DownloadError as error:
        target = os.path.join(cache_directory(None, CACHE_SUBDIR), fname)
        check = f" (its md5 is {file_hash})" if file_hash and len(file_hash) == 32 else ""
        raise WeightsNotFoundError(
            f"{caller}: could not download {fname} ({error}). Fetch {origin} on a machine with internet access and "
            f"put it at {target}{check}; shendu reads it from there, or pass the file's path as weights=."
        ) from error


def load_weights(model: Any, weights: Any, fname: str, origin: str, file_hash: str | None = None,
                 by_name: bool = False) -> None:
    """Load the ImageNet file (fetched into the cache) when weights == 'imagenet', else the file at `weights`.

    Legacy .h5 files match layers by position, as Keras reads them; by_name matches them by name instead, for a
    network whose `model.layers` order differs from Keras's (shendu lists branches in another order)."""
    if weights is None:
        return
    path = fetch(fname, origin, file_hash, model.name) if weights == "imagenet" else os.fspath(weights)
    if path.endswith((".h5", ".hdf5")):
        from shendu.saving.hdf5 import load_weights_file

        load_weights_file(model, path, by_name=by_name)
    else:
        model.load_weights(path)
