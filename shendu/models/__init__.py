"""Models with Keras's API: the functional `Model(inputs, outputs)`, `Sequential`, and subclassed `Model`s."""

from shendu.models.autoencoder import Sampling, StackedAutoencoder
from shendu.models.dbn import DBN
from shendu.models.functional import Functional
from shendu.models.gan import GAN, class_quality, frechet_distance
from shendu.models.model import Model
from shendu.models.rbm import RBM
from shendu.models.saving import load_model, save_model
from shendu.models.sequential import Sequential

__all__ = [
    "DBN", "GAN", "RBM", "Functional", "Model", "Sampling", "Sequential", "StackedAutoencoder", "class_quality",
    "frechet_distance", "load_model", "save_model",
]
