"""tf.data.experimental: cardinality, the AUTOTUNE and cardinality constants, the CSV readers, AutoShardPolicy."""

from __future__ import annotations

from shendu.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from shendu.data.make_csv import make_csv_dataset
from shendu.data.options import AutoShardPolicy, DistributeOptions, OptimizationOptions, ThreadingOptions
from shendu.data.readers import CsvDataset
from shendu.tensor import Tensor


def cardinality(dataset: Dataset) -> Tensor:
    """The number of elements of `dataset` as a 0-d int64 Tensor (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY)."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"tf.data.experimental.cardinality: expected a Dataset, got {type(dataset).__name__}")
    return dataset.cardinality()


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "AutoShardPolicy", "CsvDataset",
           "DistributeOptions", "OptimizationOptions", "ThreadingOptions", "cardinality", "make_csv_dataset"]
