"""The input pipeline: tf.data's Dataset on NumPy arrays (vectorized batching, background prefetch)."""

from shendu.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]
