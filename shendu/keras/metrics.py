"""tf.keras.metrics."""

from shendu.metrics import *
from shendu.metrics import __all__
