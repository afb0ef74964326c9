"""tf.keras.callbacks."""

from shendu.callbacks import *
from shendu.callbacks import __all__
