"""tf.keras.regularizers."""

from shendu.regularizers import *
from shendu.regularizers import __all__
