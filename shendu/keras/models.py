"""tf.keras.models: model classes, saving and loading."""

from shendu.models import Model, Sequential, load_model, save_model

__all__ = ["Model", "Sequential", "load_model", "save_model"]
