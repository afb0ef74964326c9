"""Models built from the engine's parts: the GAN, the RBM and the DBN it stacks, the VAE's `Sampling` layer and the
`StackedAutoencoder`. They import `shendu.models`, never the reverse; `shendu.models.GAN` and the like load them."""

from shendu.applications.autoencoder import Sampling, StackedAutoencoder
from shendu.applications.dbn import DBN
from shendu.applications.gan import GAN, class_quality, frechet_distance
from shendu.applications.rbm import RBM

__all__ = ["DBN", "GAN", "RBM", "Sampling", "StackedAutoencoder", "class_quality", "frechet_distance"]
