"""Keras 3 `.keras` archives: a zip of `config.json` (the model, `keras_config`), `metadata.json` and
`model.weights.h5` (the weights in Keras 3's HDF5 layout, `keras_weights`). Keras 3 opens what this writes and
shendu opens what Keras 3 writes.

Reading is bounded as for shendu's own files: the JSON entries within `zip_entries.MAX_JSON_BYTES`, the weights
entry within what its compressed bytes can inflate to, the config checked before anything is built, and the
model allowed no more weights than the file holds.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from typing import Any

from shendu.saving import config_checks, zip_entries
from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.saving.hdf5 import require_h5py
from shendu.saving.keras_config import from_keras_config, to_keras_config

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras release whose file layout this writes (and against which it is tested)
_MAX_DEFLATE_RATIO = 1032  # the most one compressed byte can inflate to with zip's deflate


def save_keras_archive(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the model as a Keras 3 `.keras` file, atomically; ValueError before writing anything when Keras
    could not rebuild one of its layers."""
    from shendu import __version__
    from shendu.saving.keras_weights import write_keras_weights
    from shendu.saving.model_file import json_default

    h5py = require_h5py("Saving .keras files")
    config = json.dumps(to_keras_config(model), default=json_default)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"shendu {__version__}"}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_keras_weights(model, f)
    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr(METADATA, json.dumps(metadata))
        zf.writestr(CONFIG, config)
        zf.writestr(WEIGHTS, weights.getvalue())


def is_keras_archive(zf: zipfile.ZipFile) -> bool:
    """Whether an open zip is a Keras `.keras` archive (not shendu's own format, whose metadata has a format tag)."""
    names = set(zf.namelist())
    return CONFIG in names and WEIGHTS in names


def load_keras_archive(path: str | os.PathLike[str], custom_objects: dict[str, Any] | None = None,
                       compile: bool = True) -> Any:
    """The model a Keras 3 `.keras` file holds, with its weights (and compile settings when `compile`)."""
    from shendu.saving.keras_weights import read_keras_weights

    path = os.fspath(path)
    h5py = require_h5py("Reading .keras files")
    with zip_entries.open_archive(path) as zf:
        if not is_keras_archive(zf):
            raise ModelFileError(f"{path} is not a Keras .keras file: it lacks {CONFIG} or {WEIGHTS}")
        config = _read_json(zf, CONFIG, path)
        if METADATA in zf.namelist():
            _read_json(zf, METADATA, path)
        data = zip_entries.read_entry(zf, WEIGHTS, path, weights_limit(zf))
    source = f"{path}: {WEIGHTS}"
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as err:
        raise ModelFileError(f"{source} is not a readable HDF5 file (truncated or corrupted?): {err}") from None
    with f:
        try:
            model = from_keras_config(config, path, custom_objects, compile, max_weights=stored_numbers(f, source))
            read_keras_weights(model, f, source)
        except (OSError, RuntimeError, KeyError) as err:
            raise ModelFileError(f"{source}: the HDF5 data is damaged ({type(err).__name__}: {err})") from err
    return model


def weights_limit(zf: zipfile.ZipFile) -> int:
    """The most bytes the weights entry may inflate to: what its compressed bytes can give (a zip bomb's declared
    size is refused before anything is inflated)."""
    info = zf.getinfo(WEIGHTS)
    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
    return max(info.compress_size, 1) * ratio


def stored_numbers(group: Any, source: str) -> int:
    """How many numbers the datasets below an h5py group hold (from their shapes; nothing is read)."""
    h5py = require_h5py("Reading Keras .h5 files")
    total = 0

    def count(_: str, obj: Any) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset) and obj.shape is not None:
            total += int(obj.size)

    try:
        group.visititems(count)
    except (OSError, RuntimeError, KeyError) as err:
        raise ModelFileError(f"{source}: the HDF5 data is damaged ({type(err).__name__}: {err})") from err
    return total


def _read_json(zf: zipfile.ZipFile, name: str, path: str) -> dict[str, Any]:
    return config_checks.parse_json(zip_entries.read_entry(zf, name, path, zip_entries.MAX_JSON_BYTES), name, path)
