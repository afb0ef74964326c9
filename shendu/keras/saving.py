"""keras.saving: saving, loading and the custom-object registry."""

from shendu.saving import (
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    load_model,
    register_keras_serializable,
    save_model,
)

__all__ = [
    "custom_object_scope", "get_registered_name", "get_registered_object", "load_model", "register_keras_serializable",
    "save_model",
]
