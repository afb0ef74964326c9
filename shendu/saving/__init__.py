"""Saving: the custom-object registry, Keras-style (de)serialization and the file formats, NumPy alone.

`register_keras_serializable` and `custom_object_scope` make custom classes findable by name;
`save_model`/`load_model` write and read the .shendu zip (JSON config + safetensors weights, never pickle);
`safetensors_format` reads and writes safetensors files with the `safetensors` package or, without it, NumPy.
"""

from shendu.saving.file_utils import ModelFileError
from shendu.saving.model_file import load_model, load_weights, save_model, save_weights
from shendu.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "CustomObjectScope", "ModelFileError", "custom_object_scope", "get_registered_name", "get_registered_object",
    "load_model", "load_weights", "register_keras_serializable", "save_model", "save_weights",
]
