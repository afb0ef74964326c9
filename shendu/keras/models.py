"""tf.keras.models: model classes, saving and loading, JSON configs and cloning."""

from shendu.models import Model, Sequential, load_model, save_model
from shendu.models.cloning import clone_model
from shendu.models.model import model_from_json

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
