"""Saving: the custom-object registry, Keras-style (de)serialization and the file formats.

`save_model`/`load_model` and `save_weights`/`load_weights` pick the format as Keras 3 does (`dispatch`): `.keras`
Keras 3 archives, `.h5` legacy Keras files and `.weights.h5` Keras weights (these need h5py), `.shendu` shendu's own
zip and safetensors weights files (JSON config + safetensors, never pickle; NumPy alone reads and writes them).
`register_keras_serializable` and `custom_object_scope` make custom classes findable by name.
"""

from shendu.saving.dispatch import load_model, load_weights, save_model, save_weights
from shendu.saving.file_utils import ModelFileError
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
