"""Models with Keras's API: the functional `Model(inputs, outputs)`, `Sequential`, and subclassed `Model`s."""

from shendu.models.functional import Functional
from shendu.models.model import Model
from shendu.models.saving import load_model, save_model
from shendu.models.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential", "load_model", "save_model"]
