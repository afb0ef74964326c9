"""tf.keras.constraints."""

from shendu.constraints import *
from shendu.constraints import __all__
