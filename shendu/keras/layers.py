"""tf.keras.layers: every shendu layer."""

from shendu.layers import *
from shendu.layers import __all__
