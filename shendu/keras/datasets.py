"""tf.keras.datasets: the dataset loaders."""

from shendu.datasets import cifar10, fashion_mnist, mnist

__all__ = ["cifar10", "fashion_mnist", "mnist"]
