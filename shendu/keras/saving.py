"""keras.saving: saving, loading and the custom-object registry."""

from shendu.layers import custom_object_scope, get_registered_name, get_registered_object, register_keras_serializable
from shendu.models import load_model, save_model

__all__ = [
    "custom_object_scope", "get_registered_name", "get_registered_object", "load_model", "register_keras_serializable",
    "save_model",
]
