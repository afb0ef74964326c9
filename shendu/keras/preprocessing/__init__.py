"""tf.keras.preprocessing: the Keras 2 paths that tutorials still import from."""

from shendu.keras.preprocessing import sequence

__all__ = ["sequence"]
