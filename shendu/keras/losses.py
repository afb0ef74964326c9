"""tf.keras.losses."""

from shendu.losses import *
from shendu.losses import __all__
