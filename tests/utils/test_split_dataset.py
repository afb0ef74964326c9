"""keras.utils.split_dataset against Keras 3.15's results (values recorded from it), its errors, and k-fold
cross-validation folds built with Dataset.shard."""

import numpy as np
import pytest

from shendu.data import Dataset
from shendu.keras.utils import split_dataset


def values(ds):
    return [[np.asarray(p).tolist() for p in v] if isinstance(v, tuple) else np.asarray(v).tolist()
            for v in ds.as_numpy_iterator()]


@pytest.mark.parametrize(("kwargs", "left", "right"), [
    ({"left_size": 0.8}, list(range(8)), [8, 9]),
    ({"left_size": 3}, [0, 1, 2], list(range(3, 10))),
    ({"right_size": 0.25}, list(range(8)), [8, 9]),  # round(2.5) == 2
    ({"left_size": 3, "right_size": 2}, [0, 1, 2], [8, 9]),  # the middle belongs to neither
    ({"left_size": 0.35}, [0, 1, 2, 3], list(range(4, 10))),
    ({"left_size": 0.5, "shuffle": True, "seed": 1}, [6, 8, 9, 7, 5], [3, 0, 4, 1, 2]),
])
def test_array_splits_are_keras_splits(kwargs, left, right):
    a, b = split_dataset(np.arange(10), **kwargs)
    assert isinstance(a, Dataset) and values(a) == left and values(b) == right


def test_tuples_lists_and_dicts_of_arrays_split_by_sample():
    x, y = np.arange(6).reshape(6, 1), np.arange(6) * 10
    left, right = split_dataset((x, y), left_size=4, shuffle=True, seed=3)
    assert values(left) == [[[0], 0], [[2], 20], [[3], 30], [[5], 50]] and values(right) == [[[4], 40], [[1], 10]]
    left, _ = split_dataset([np.arange(4), np.arange(4) * 2], left_size=0.5)
    assert values(left) == [[0, 0], [1, 2]]
    left, right = split_dataset({"a": np.arange(4), "b": np.arange(4) * 2}, right_size=1)
    assert [e["b"].tolist() for e in left.as_numpy_iterator()] == [0, 2, 4] and len(right) == 1


def test_a_batched_dataset_is_split_by_sample_and_batched_again():
    ds = Dataset.from_tensor_slices({"a": np.arange(10), "b": np.arange(10) * 2}).batch(3)
    left, right = split_dataset(ds, left_size=0.6)
    assert [e["a"].tolist() for e in left.as_numpy_iterator()] == [[0, 1, 2], [3, 4, 5]]
    assert [e["b"].tolist() for e in right.as_numpy_iterator()] == [[12, 14, 16], [18]]
    left, right = split_dataset(Dataset.from_tensor_slices((np.arange(5), np.arange(5) * 2)), right_size=2)
    assert values(left) == [[0, 0], [1, 2], [2, 4]] and values(right) == [[3, 6], [4, 8]]


def test_shuffle_without_seed_changes_order_but_not_content():
    left, right = split_dataset(np.arange(100), left_size=50, shuffle=True)
    together = values(left) + values(right)
    assert sorted(together) == list(range(100)) and together != list(range(100))


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({}, ValueError, "At least one of the `left_size` or `right_size` must be specified"),
    ({"left_size": 0, "right_size": 0}, ValueError, "Both `left_size` and `right_size` are zero"),
    ({"left_size": 10}, ValueError, "`left_size` should be either a positive integer smaller than 10"),
    ({"left_size": 1.0}, ValueError, "`left_size` should be either a positive integer"),
    ({"right_size": -1}, ValueError, "`right_size` should be either a positive integer and smaller than 10"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "The sum of `left_size` and `right_size` is greater than 1"),
    ({"left_size": 6, "right_size": 6}, ValueError, "should be smaller than the 10"),
    ({"left_size": 0.01}, ValueError, "Resulting left side dataset split will be empty"),
    ({"left_size": np.int64(3)}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": True}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": "a", "right_size": "b"}, TypeError, "Invalid `left_size` and `right_size` Types"),
])
def test_size_errors_are_worded_as_keras_words_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        split_dataset(np.arange(10), **kwargs)


@pytest.mark.parametrize(("dataset", "error", "message"), [
    ([1, 2, 3], ValueError, "Expected a list of `numpy.ndarray` objects"),
    ([], ValueError, "Received an empty list dataset"),
    ("abc", TypeError, "Unsupported dataset type"),
    (np.array([]), ValueError, "Received an empty dataset"),
    ([np.arange(3), np.arange(4)], ValueError, "Received a list of NumPy arrays with different lengths"),
])
def test_dataset_errors_are_worded_as_keras_words_them(dataset, error, message):
    with pytest.raises(error, match=message):
        split_dataset(dataset, left_size=0.5)


def test_shard_builds_k_folds_that_partition_the_data():
    k, n = 5, 23
    ds = Dataset.from_tensor_slices((np.arange(n), np.arange(n) % 3))
    seen = []
    for fold in range(k):
        test = ds.shard(k, fold)
        train = ds.enumerate().filter(lambda i, xy, f=fold: i % k != f).map(lambda i, xy: xy)
        test_x = [int(x) for x, _ in test.as_numpy_iterator()]
        train_x = [int(x) for x, _ in train.as_numpy_iterator()]
        assert test_x == list(range(fold, n, k)) and len(test) == len(test_x)
        assert sorted(test_x + train_x) == list(range(n))
        seen += test_x
    assert sorted(seen) == list(range(n))
    batched = ds.shard(k, 2).batch(2)
    assert [b[0].tolist() for b in batched.as_numpy_iterator()] == [[2, 7], [12, 17], [22]]
