"""tf.saved_model: shendu cannot write or read TensorFlow SavedModels (TensorFlow graphs with protocol buffers);
`save` and `load` say so and name what to use instead."""

from __future__ import annotations

import os
from typing import Any

_ALTERNATIVES = ("save a Keras model with model.save('model.keras') (or 'model.shendu') and read it back with "
                 "tf.keras.models.load_model, or save its variables with tf.train.Checkpoint; for other runtimes "
                 "export ONNX with model.export('model.onnx', format='onnx')")


class SavedModelNotSupportedError(NotImplementedError):
    """A SavedModel was asked for: shendu has no TensorFlow graphs to put in one."""


def save(obj: Any, export_dir: str | os.PathLike[str], signatures: Any = None, options: Any = None) -> None:
    """Refuses: a SavedModel is a TensorFlow graph, which shendu (eager NumPy code) does not build."""
    raise SavedModelNotSupportedError(
        f"tf.saved_model.save: shendu cannot write a TensorFlow SavedModel to {os.fspath(export_dir)!r} (it runs "
        f"NumPy code and builds no TensorFlow graph); {_ALTERNATIVES}")


def load(export_dir: str | os.PathLike[str], tags: Any = None, options: Any = None) -> Any:
    """Refuses: running a SavedModel needs TensorFlow's graph runtime, which shendu does not have."""
    raise SavedModelNotSupportedError(
        f"tf.saved_model.load: shendu cannot run the TensorFlow SavedModel at {os.fspath(export_dir)!r} (it has "
        f"no TensorFlow graph runtime); {_ALTERNATIVES}")


def contains_saved_model(export_dir: str | os.PathLike[str]) -> bool:
    """Whether the folder holds a SavedModel (saved_model.pb or saved_model.pbtxt), as TensorFlow checks it."""
    folder = os.fspath(export_dir)
    return any(os.path.isfile(os.path.join(folder, name)) for name in ("saved_model.pb", "saved_model.pbtxt"))


__all__ = ["SavedModelNotSupportedError", "contains_saved_model", "load", "save"]
