"""The data adapter: batches without per-epoch copies, shuffling, float64 conversion, structures, class weights."""

import numpy as np
import pytest

from shendu import random
from shendu.data import Dataset
from shendu.models import data_adapter as da
from shendu.tensor import Tensor


def test_arrays_are_not_copied_and_shuffled_batches_cover_every_sample_once():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10)
    adapter = da.ArrayDataAdapter(x, y, batch_size=4, shuffle=True)
    assert adapter.x_leaves[0] is x and adapter.y_leaves[0] is y
    assert len(adapter) == 3
    random.seed(0)
    first = [b for b in adapter]
    assert [len(b[1]) for b in first] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in first])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    for bx, by, bw in first:
        np.testing.assert_array_equal(bx[:, 0], by)
        assert bw is None
    second = np.concatenate([b[1] for b in adapter])
    assert second.tolist() != seen.tolist()  # a new order each epoch


def test_unshuffled_batches_are_views_in_order_and_batch_shuffle_keeps_runs():
    x = np.arange(12, dtype="float32")
    batches = [b[0] for b in da.ArrayDataAdapter(x, batch_size=5)]
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]
    assert all(np.shares_memory(b, x) for b in batches)
    random.seed(1)
    runs = [b[0].tolist() for b in da.ArrayDataAdapter(x, batch_size=4, shuffle="batch")]
    assert sorted(runs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_one_batch_of_every_sample_is_taken_as_it_is_even_when_shuffling():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    y = np.arange(6)
    for shuffle in (True, "batch"):
        ((bx, by, _),) = list(da.ArrayDataAdapter(x, y, batch_size=6, shuffle=shuffle))
        assert np.shares_memory(bx, x) and by.tolist() == list(range(6))  # the same set: no copy of the data
    assert len({tuple(b[1].tolist()) for b in da.ArrayDataAdapter(x, y, batch_size=5, shuffle=True)}) == 2


def test_full_batch_training_with_shuffle_matches_it_without():
    from shendu import layers, models

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)).astype("float32"), rng.integers(0, 3, 40)
    runs = []
    for shuffle in (True, False):
        random.seed(3)
        model = models.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu"),
                                   layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        runs.append((model.fit(x, y, batch_size=40, epochs=3, shuffle=shuffle, verbose=0).history,
                     model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_float64_becomes_float32_per_batch_and_integers_stay():
    x = np.zeros((6, 2), dtype="float64")
    y = np.zeros(6, dtype="int64")
    bx, by, _ = next(iter(da.ArrayDataAdapter(x, y, batch_size=4)))
    assert bx.dtype == np.float32 and by.dtype == np.int64
    assert x.dtype == np.float64  # the source stays as given


def test_structures_and_tensors():
    x = {"a": np.zeros((5, 2)), "b": Tensor(np.ones((5, 3), dtype="float32"))}
    y = [np.arange(5), np.arange(5) * 2]
    adapter = da.make_adapter(x, y, batch_size=2)
    bx, by, _ = next(iter(adapter))
    assert set(bx) == {"a", "b"} and bx["b"].shape == (2, 3)
    assert isinstance(by, list) and by[1].tolist() == [0, 2]
    nested = da.make_adapter([[1.0, 2.0], [3.0, 4.0]], [0, 1], batch_size=1)
    assert next(iter(nested))[0].shape == (1, 2)


def test_unpack_x_y_sample_weight():
    assert da.unpack_x_y_sample_weight((1, 2, 3)) == (1, 2, 3)
    assert da.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert da.unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert da.unpack_x_y_sample_weight(1) == (1, None, None)
    with pytest.raises(ValueError, match="4 elements"):
        da.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_train_validation_split_is_the_last_fraction_as_views():
    x = np.arange(10.0)
    (tx, ty, tw), (vx, vy, vw) = da.train_validation_split((x, x * 2, None), 0.3)
    assert tx.tolist() == list(range(7)) and vx.tolist() == [7.0, 8.0, 9.0] and vy.tolist() == [14.0, 16.0, 18.0]
    assert ty.tolist() == [2.0 * i for i in range(7)]
    assert tw is None and vw is None and np.shares_memory(tx, x)
    with pytest.raises(ValueError, match="at least one sample"):
        da.train_validation_split((np.arange(1.0), None, None), 0.5)


def test_class_weights_from_sparse_one_hot_and_binary_labels():
    weights = da.class_weight_fn({0: 1.0, 1: 3.0, 2: 0.5})
    np.testing.assert_allclose(weights(np.array([0, 2, 1])), [1.0, 0.5, 3.0])
    np.testing.assert_allclose(weights(np.eye(3)[[1, 1, 0]]), [3.0, 3.0, 1.0])
    np.testing.assert_allclose(weights(np.array([[1.0], [0.0]])), [3.0, 1.0])
    with pytest.raises(ValueError, match="no weight for class"):
        weights(np.array([5]))


def test_epoch_iterator_with_steps_cycles_arrays_and_datasets():
    x = np.arange(6.0)
    it = da.EpochIterator(da.ArrayDataAdapter(x, batch_size=4), steps_per_epoch=3)
    epoch1 = [b[0].tolist() for _, b in it]
    epoch2 = [b[0].tolist() for _, b in it]
    assert epoch1 == [[0, 1, 2, 3], [4, 5], [0, 1, 2, 3]] and epoch2 == [[4, 5], [0, 1, 2, 3], [4, 5]]
    ds = Dataset.from_tensor_slices(x).batch(4)
    steps = [s for s, _ in da.EpochIterator(da.make_adapter(ds), steps_per_epoch=5)]
    assert steps == [0, 1, 2, 3, 4]


def test_class_weight_multiplies_given_sample_weights():
    x = np.zeros((4, 2), dtype="float32")
    y = np.array([0, 1, 0, 1])
    it = da.EpochIterator(da.ArrayDataAdapter(x, y, np.full((4, 3), 2.0), batch_size=4), class_weight={0: 1, 1: 5})
    _, (_, _, w) = next(iter(it))
    np.testing.assert_allclose(w[:, 0], [2.0, 10.0, 2.0, 10.0])
    assert w.shape == (4, 3)


def test_dataset_batches_of_tensors_are_unwrapped_without_copies():
    x = np.arange(24, dtype="float32").reshape(12, 2)
    y = np.arange(12)
    adapter = da.make_adapter(Dataset.from_tensor_slices(({"pixels": x}, y)).batch(5))
    assert adapter.num_batches == 3 and not adapter.infinite
    bx, by, bw = next(iter(adapter))
    assert isinstance(bx["pixels"], np.ndarray) and isinstance(by, np.ndarray) and bw is None
    assert np.shares_memory(bx["pixels"], x) and np.shares_memory(by, y)  # views of the source arrays
    weighted = da.make_adapter(Dataset.from_tensor_slices((x, y, np.ones(12))).batch(12))
    assert next(iter(weighted))[2].dtype == np.float32  # float64 weights become floatx, as arrays do
    assert da.make_adapter(Dataset.from_tensor_slices(x).repeat()).infinite
    with pytest.raises(ValueError, match="steps_per_epoch"):
        da.EpochIterator(da.make_adapter(Dataset.from_tensor_slices(x).repeat()))
