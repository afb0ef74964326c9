"""tf.keras.optimizers, with the schedules submodule."""

from shendu.keras.optimizers import schedules
from shendu.optimizers import *
from shendu.optimizers import __all__ as _names

__all__ = [*_names, "schedules"]
