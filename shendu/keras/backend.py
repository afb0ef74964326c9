"""tf.keras.backend: dtype policy and session reset."""

from shendu.backend import epsilon, floatx, set_floatx
from shendu.layers.base import clear_session

__all__ = ["clear_session", "epsilon", "floatx", "set_floatx"]
