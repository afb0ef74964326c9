"""tf.keras.activations."""

from shendu.activations import *
from shendu.activations import __all__
