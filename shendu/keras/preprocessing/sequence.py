"""tf.keras.preprocessing.sequence.pad_sequences."""

from shendu.utils import pad_sequences

__all__ = ["pad_sequences"]
