"""tf.keras.initializers."""

from shendu.initializers import *
from shendu.initializers import __all__
