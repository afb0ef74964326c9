"""Legacy `.h5` model files (tf.keras 2, and Keras 3's `model.save('x.h5')`): the root attributes `model_config`
(the architecture, `keras_config`), `training_config` (compile settings) and `keras_version`/`backend`, and the
`model_weights` group in the tf.keras weights layout (`legacy_weights`).
"""

from __future__ import annotations

import json
import os
from typing import Any

from shendu.saving import config_checks
from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.saving.hdf5 import get_group, open_h5, read_names, read_text_attr, require_h5py
from shendu.saving.keras_archive import KERAS_VERSION, stored_numbers
from shendu.saving.keras_config import keras_compile_config, to_legacy_config


def save_legacy_h5(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the model as a legacy `.h5` file (architecture, weights, compile settings), atomically."""
    from shendu.saving.legacy_weights import write_legacy_weights
    from shendu.saving.model_file import json_default

    h5py = require_h5py("Saving Keras .h5 files")
    config = json.dumps(to_legacy_config(model), default=json_default)
    compile_config = keras_compile_config(model)
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = config
        if compile_config is not None:
            optimizer = compile_config.pop("optimizer")
            compile_config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                                  "config": optimizer["config"]}
            f.attrs["training_config"] = json.dumps(compile_config, default=json_default)
        write_legacy_weights(model, f.create_group("model_weights"))


def load_legacy_h5(path: str | os.PathLike[str], custom_objects: dict[str, Any] | None = None,
                   compile: bool = True) -> Any:
    """The model a legacy `.h5` model file holds, with its weights (and compile settings when `compile`)."""
    from shendu.saving.keras_config import from_keras_config
    from shendu.saving.legacy_weights import read_legacy_weights

    path = os.fspath(path)
    with open_h5(path) as f:
        text = read_text_attr(f, "model_config", path)
        if text is None:
            if read_names(f, "layer_names", path) is not None or "layers" in f:
                raise ModelFileError(f"{path} is a Keras weights file, not a model file (no 'model_config' "
                                     "attribute): build the model in code and call model.load_weights(path)")
            raise ModelFileError(f"{path} is an HDF5 file but not a Keras model file (no 'model_config' attribute)")
        config = config_checks.parse_json(text.encode("utf-8"), "model_config", path)
        training = read_text_attr(f, "training_config", path)
        training_config = config_checks.parse_json(training.encode("utf-8"), "training_config", path) \
            if training is not None and compile else None
        weights = get_group(f, "model_weights", path)
        if weights is None:
            raise ModelFileError(f"{path} is not a complete Keras model file: the 'model_weights' group is missing")
        model = from_keras_config(config, path, custom_objects, compile, max_weights=stored_numbers(weights, path),
                                  training_config=training_config)
        read_legacy_weights(model, weights, path)
    return model

