"""tf.keras.datasets: the dataset loaders."""

from shendu.datasets import mnist

__all__ = ["mnist"]
