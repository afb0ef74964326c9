"""Standard datasets with Keras's loaders: `mnist.load_data()` finds, downloads and checks the file."""

from shendu.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
    rt_polarity,
)
from shendu.datasets._fetch import DatasetNotFoundError, InvalidDatasetFileError

__all__ = ["DatasetNotFoundError", "InvalidDatasetFileError", "boston_housing", "california_housing", "cifar10",
           "cifar100", "fashion_mnist", "imdb", "mnist", "reuters", "rt_polarity"]
