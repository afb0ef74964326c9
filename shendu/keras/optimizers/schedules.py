"""tf.keras.optimizers.schedules."""

from shendu.schedules import *
from shendu.schedules import __all__
