"""tf.data: the input pipeline (`Dataset`, the file readers, `Options`); elements are shendu Tensors."""

from shendu.data import experimental
from shendu.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, DatasetIterator
from shendu.data.options import Options, ThreadingOptions
from shendu.data.readers import TextLineDataset
from shendu.data.spec import DatasetSpec

Iterator = DatasetIterator

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset", "DatasetSpec", "Iterator",
           "Options", "TextLineDataset", "ThreadingOptions", "experimental"]
