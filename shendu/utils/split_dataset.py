"""`keras.utils.split_dataset`: a dataset cut into a left and a right part (train/test), as Keras 3 cuts it.

The samples keep their order unless shuffle (Python's `random.Random(seed).shuffle`, the permutation Keras's
`random.seed(seed); random.shuffle` gives, without touching the global state); the left part is the first
`left_size` samples and the right part the last `right_size` (samples between them belong to neither). Sizes are
ints (counts) or floats (fractions, rounded as Python rounds); the errors say what Keras says. Arrays, tuples and
lists of arrays, dicts of arrays and shendu Datasets (batched ones are split by sample and batched again) go in;
two shendu Datasets come out.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from shendu.tensor import Tensor


def split_dataset(dataset: Any, left_size: int | float | None = None, right_size: int | float | None = None,
                  shuffle: bool = False, seed: int | None = None) -> tuple[Any, Any]:
    """Split `dataset` into (left, right) shendu Datasets of left_size and right_size samples (or fractions)."""
    from shendu.data import Dataset

    leaves, pack, batch_size = _as_leaves(dataset)
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: "
                         "left_size=None and right_size=None")
    total = len(leaves[0])
    indices = list(range(total))
    if shuffle:
        random.Random(seed).shuffle(indices)
    left, right = _rescale_sizes(left_size, right_size, total)
    parts = []
    for chosen in (np.asarray(indices[:left]), np.asarray(indices[-right:])):
        part = Dataset.from_tensor_slices(pack([leaf[chosen] for leaf in leaves]))
        parts.append(part if batch_size is None else part.batch(batch_size))
    return parts[0], parts[1]


def _as_leaves(dataset: Any) -> tuple[list[np.ndarray], Any, int | None]:
    """The dataset's arrays (samples on axis 0), a function packing them back into its element structure, and the
    batch size of a batched Dataset."""
    from shendu.data import Dataset
    from shendu.data.batching import BatchDataset

    if isinstance(dataset, Dataset):
        batch_size = dataset._size if isinstance(dataset, BatchDataset) else None
        return (*_dataset_leaves(dataset.unbatch() if batch_size else dataset), batch_size)
    if isinstance(dataset, (np.ndarray, Tensor)):
        array = np.asarray(dataset.numpy() if isinstance(dataset, Tensor) else dataset)
        if array.ndim == 0 or len(array) == 0:
            raise ValueError("Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of "
                             "`numpy.ndarray` objects or `tf.data.Dataset` objects.")
        return [array], lambda leaves: leaves[0], None
    if isinstance(dataset, (list, tuple, dict)):
        kind = "dict" if isinstance(dataset, dict) else type(dataset).__name__
        items = list(dataset.values() if isinstance(dataset, dict) else dataset)
        if not items:
            raise ValueError(f"Received an empty {kind} dataset. Please provide a non-empty {kind} of arrays.")
        arrays = []
        for i, item in enumerate(items):
            if isinstance(item, Tensor):
                item = item.numpy()
            if not isinstance(item, np.ndarray) or item.ndim == 0:
                raise ValueError(f"Expected a {kind} of `numpy.ndarray` objects, Received: {type(item)} at index {i}.")
            if arrays and len(item) != len(arrays[0]):
                raise ValueError(f"Received a {kind} of NumPy arrays with different lengths. Mismatch found at index "
                                 f"{i}, Expected shape={arrays[0].shape} Received shape={item.shape}. Please provide a "
                                 f"{kind} of NumPy arrays of the same length.")
            arrays.append(item)
        if len(arrays[0]) == 0:
            raise ValueError("Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of "
                             "`numpy.ndarray` objects or `tf.data.Dataset` objects.")
        if isinstance(dataset, dict):
            return arrays, lambda leaves: dict(zip(dataset.keys(), leaves)), None
        return arrays, tuple, None
    raise TypeError(f"Unsupported dataset type: {type(dataset)}")


def _dataset_leaves(dataset: Any) -> tuple[list[np.ndarray], Any]:
    from shendu.data.structure import flatten, packer

    elements = list(dataset.as_numpy_iterator())
    if not elements:
        raise ValueError("Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of "
                         "`numpy.ndarray` objects or `tf.data.Dataset` objects.")
    flat = [[np.asarray(leaf) for leaf in flatten(element)] for element in elements]
    for i, sample in enumerate(flat[1:]):
        if [leaf.shape for leaf in sample] != [leaf.shape for leaf in flat[0]]:
            raise ValueError(f"All `dataset` samples must have same shape, Expected shape: "
                             f"{[leaf.shape for leaf in flat[0]]} Received shape: {[leaf.shape for leaf in sample]} "
                             f"at index {i}.")
    return [np.stack(column) for column in zip(*flat)], packer(elements[0])


def _rescale_sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """The two sizes as sample counts, checked as Keras's `_rescale_dataset_split_sizes` checks them."""
    left_type, right_type = type(left_size), type(right_size)
    if (left_size is not None and left_type not in (int, float)) and (
            right_size is not None and right_type not in (int, float)):
        raise TypeError("Invalid `left_size` and `right_size` Types. Expected: integer or float or None, Received: "
                        f"type(left_size)={left_type} and type(right_size)={right_type}")
    for name, size, kind in (("left_size", left_size, left_type), ("right_size", right_size, right_type)):
        if size is not None and kind not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: type({name})={kind}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be "
                         "non-zero.")
    for name, size, kind in (("left_size", left_size, left_type), ("right_size", right_size, right_type)):
        if (kind is int and (size <= 0 or size >= total)) or (kind is float and (size <= 0 or size >= 1)):
            smaller = f"smaller than {total}," if name == "left_size" else f"and smaller than {total}"
            raise ValueError(f"`{name}` should be either a positive integer {smaller} or a float within the range "
                             f"`[0, 1]`. Received: {name}={size}")
    if left_type is right_type is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal "
                         "to 1.")
    left = round(left_size * total) if left_type is float else left_size
    right = round(right_size * total) if right_type is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. Received: "
                         f"left_size + right_size = {left + right} and total_length = {total}")
    for side, split in (("left", left), ("right", right)):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and `right_size`={right}. "
                             f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned "
                             "parameters")
    return int(left), int(right)
