"""Which file format a save or a load uses. Writing goes by the extension, as Keras 3 does: `.keras` is a Keras 3
archive, `.h5`/`.hdf5` a legacy Keras model file, `.shendu` shendu's own zip (NumPy alone reads and writes it);
for weights, `.weights.h5` is Keras 3's weights file, `.h5`/`.hdf5` the tf.keras layout, any other name shendu's
safetensors file. Reading goes by the content (HDF5 signature, a zip's entries), whatever the name.

Keras files need h5py (the `keras` extra); without it a save or load says so in one line.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any

from shendu.saving import model_file, zip_entries
from shendu.saving.file_utils import ModelFileError

MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5", ".shendu")
_SAVE_FORMATS = {"keras": ".keras", "h5": ".h5", "shendu": ".shendu"}


def _require_h5py(what: str, alternative: str) -> None:
    """h5py importable, else one ImportError line: what to install, and the NumPy-only alternative."""
    from shendu.saving.hdf5 import require_h5py

    try:
        require_h5py(what)
    except ImportError as err:
        raise ImportError(f"{err} (or use shendu's own format, which needs NumPy alone: {alternative})") from None


def model_format(path: str | os.PathLike[str], save_format: str | None = None) -> str:
    """The extension that picks the format `save_model` writes to path: one of MODEL_EXTENSIONS, else ValueError."""
    name = os.fspath(path).lower()
    if save_format is not None:
        if save_format not in _SAVE_FORMATS:
            raise ValueError(f"model.save: save_format must be one of {sorted(_SAVE_FORMATS)}, got {save_format!r} "
                             "(TensorFlow's SavedModel format 'tf' is not supported: use a .keras file)")
        return _SAVE_FORMATS[save_format]
    for ext in MODEL_EXTENSIONS:
        if name.endswith(ext):
            return ext
    raise ValueError(f"model.save: the file name {os.fspath(path)!r} must end in .keras (Keras 3 file), .h5 or .hdf5 "
                     "(legacy Keras file) or .shendu (shendu's own format); a TensorFlow SavedModel directory is not "
                     "supported")


def save_model(model: Any, filepath: str | os.PathLike[str], overwrite: bool = True, save_format: str | None = None,
               **kwargs: Any) -> None:
    """Write the whole model (architecture, weights, compile settings) in the format its extension names
    (`keras.models.save_model`); FileExistsError when the file exists and not `overwrite`."""
    ext = model_format(filepath, save_format)
    if not overwrite and os.path.exists(os.fspath(filepath)):
        raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")
    if ext == ".shendu":
        model_file.save_model(model, filepath)
        return
    if ext == ".keras":
        from shendu.saving.keras_archive import save_keras_archive

        _require_h5py("Saving .keras files", "model.save('model.shendu')")
        save_keras_archive(model, filepath)
        return
    from shendu.saving.legacy_h5 import save_legacy_h5

    _require_h5py("Saving Keras .h5 files", "model.save('model.shendu')")
    save_legacy_h5(model, filepath)


def save_weights(model: Any, filepath: str | os.PathLike[str]) -> None:
    """Write the weights: `.weights.h5` Keras 3's layout, `.h5`/`.hdf5` tf.keras's, any other name safetensors."""
    name = os.fspath(filepath).lower()
    if name.endswith(".keras"):
        raise ValueError(f"save_weights: {os.fspath(filepath)!r} names a whole-model file; weights go to a "
                         ".weights.h5 file (Keras), or any other name for shendu's safetensors file "
                         "(use model.save() for a .keras file)")
    if name.endswith(".weights.h5"):
        from shendu.saving.keras_weights import save_weights_h5

        _require_h5py("Saving Keras .weights.h5 files", "model.save_weights('model.weights.shendu')")
        save_weights_h5(model, filepath)
    elif name.endswith((".h5", ".hdf5")):
        _require_h5py("Saving Keras .h5 weights files", "model.save_weights('model.weights.shendu')")
        _save_legacy_weights(model, filepath)
    else:
        model_file.save_weights(model, filepath)


def _save_legacy_weights(model: Any, filepath: str | os.PathLike[str]) -> None:
    import h5py

    from shendu.saving.file_utils import atomic_write
    from shendu.saving.legacy_weights import write_legacy_weights

    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before saving")
    with atomic_write(filepath) as tmp, h5py.File(tmp, "w") as f:
        write_legacy_weights(model, f)


def load_weights(model: Any, filepath: str | os.PathLike[str], skip_mismatch: bool = False,
                 by_name: bool = False) -> model_file.LoadStatus:
    """Load weights from any file shendu or Keras writes: an HDF5 weights or model file, a `.keras` archive,
    shendu's model file or its safetensors weights file (told apart by content)."""
    from shendu.saving.hdf5 import is_hdf5

    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file at {path}")
    if is_hdf5(path):
        from shendu.saving.hdf5 import load_weights_file

        _require_h5py("Reading Keras .h5 files", "model.save_weights('model.weights.shendu')")
        load_weights_file(model, path, by_name=by_name, skip_mismatch=skip_mismatch)
        return model_file.LoadStatus(path, [v.name for v in model.weights])
    if zipfile.is_zipfile(path) and _is_keras_zip(path):
        _require_h5py("Reading .keras files", "model.save('model.shendu')")
        _load_archive_weights(model, path, skip_mismatch)
        return model_file.LoadStatus(path, [v.name for v in model.weights])
    return model_file.load_weights(model, path)


def _load_archive_weights(model: Any, path: str, skip_mismatch: bool) -> None:
    import io

    import h5py

    from shendu.saving.keras_archive import WEIGHTS, weights_limit
    from shendu.saving.keras_weights import read_keras_weights

    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before loading "
                         f"weights from {path}")
    with zip_entries.open_archive(path) as zf:
        data = zip_entries.read_entry(zf, WEIGHTS, path, weights_limit(zf))
    source = f"{path}: {WEIGHTS}"
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as err:
        raise ModelFileError(f"{source} is not a readable HDF5 file (truncated or corrupted?): {err}") from None
    with f:
        read_keras_weights(model, f, source, skip_mismatch=skip_mismatch)


def load_model(filepath: str | os.PathLike[str], custom_objects: dict[str, Any] | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """The model in a `.keras` archive (Keras 3's or shendu's earlier ones), a legacy `.h5` model file or a
    `.shendu` file, told apart by content. Code is never executed from a file, whatever `safe_mode` says."""
    from shendu.saving.hdf5 import is_hdf5

    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file at {path}")
    if os.path.isdir(path):
        raise ModelFileError(f"load_model: {path} is a directory (a TensorFlow SavedModel?); shendu reads .keras, "
                             ".h5 and .shendu model files")
    if is_hdf5(path):
        from shendu.saving.legacy_h5 import load_legacy_h5

        _require_h5py("Reading Keras .h5 files", "a .shendu file")
        return load_legacy_h5(path, custom_objects, compile)
    if zipfile.is_zipfile(path) and _is_keras_zip(path):
        from shendu.saving.keras_archive import load_keras_archive

        _require_h5py("Reading .keras files", "a .shendu file")
        return load_keras_archive(path, custom_objects, compile)
    return model_file.load_model(path, custom_objects, compile)


def _is_keras_zip(path: str) -> bool:
    """Whether the zip at path is a Keras archive rather than shendu's own model file (which may be named .keras
    when an earlier shendu wrote it)."""
    from shendu.saving.keras_archive import is_keras_archive

    with zip_entries.open_archive(path) as zf:
        return is_keras_archive(zf)
