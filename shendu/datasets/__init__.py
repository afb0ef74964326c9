"""Standard datasets with Keras's loaders: `mnist.load_data()` finds, downloads and checks the file."""

from shendu.datasets import cifar10, fashion_mnist, mnist, rt_polarity
from shendu.datasets._fetch import DatasetNotFoundError, InvalidDatasetFileError

__all__ = ["DatasetNotFoundError", "InvalidDatasetFileError", "cifar10", "fashion_mnist", "mnist", "rt_polarity"]
