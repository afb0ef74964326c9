"""Dataset: tf.data semantics of slicing, shuffling, batching, mapping, prefetching, take/skip/repeat."""

import gc
import threading
import time
from collections import namedtuple

import numpy as np
import pytest

import shendu
from shendu.data import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from shendu.data import batching as batching_module


def rows(n: int = 10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


def labels_of(ds) -> list[int]:
    return [int(v) for batch in ds for v in np.atleast_1d(batch[1])]


def test_slices_of_one_array_and_of_tuples():
    x, y = rows(4)
    assert [e.tolist() for e in Dataset.from_tensor_slices(x)] == x.tolist()
    pairs = list(Dataset.from_tensor_slices((x, y)))
    assert len(pairs) == 4 and isinstance(pairs[0], tuple)
    np.testing.assert_array_equal(pairs[2][0], x[2])
    assert pairs[2][1] == 2
    w = np.ones(4)
    assert len(next(iter(Dataset.from_tensor_slices((x, y, w))))) == 3


def test_slices_of_dicts_nests_namedtuples_and_lists():
    x, y = rows(4)
    first = next(iter(Dataset.from_tensor_slices(({"image": x, "id": y}, y))))
    assert set(first[0]) == {"image", "id"} and first[0]["id"] == 0 and first[1] == 0
    Pair = namedtuple("Pair", "features label")
    element = next(iter(Dataset.from_tensor_slices(Pair(x, y)).batch(2)))
    assert isinstance(element, Pair) and element.features.shape == (2, 3)
    listed = list(Dataset.from_tensor_slices([1.0, 2.0, 3.0]))  # a list is one array, as in tf.data
    assert [float(v) for v in listed] == [1.0, 2.0, 3.0]
    assert len(Dataset.from_tensor_slices(shendu.tensor(x))) == 4


def test_slices_refuse_bad_input_clearly():
    x, y = rows(4)
    with pytest.raises(ValueError, match=r"same size along the first axis.*float32\[4, 3\].*int64\[3\]"):
        Dataset.from_tensor_slices((x, y[:3]))
    with pytest.raises(ValueError, match="first axis"):
        Dataset.from_tensor_slices(np.float32(1.0))
    with pytest.raises(ValueError, match="None"):
        Dataset.from_tensor_slices(None)
    with pytest.raises(ValueError, match="tuple, not a list"):
        Dataset.from_tensor_slices([np.zeros((2, 3)), np.zeros(5)])


def test_batch_shapes_remainder_and_len():
    x, y = rows(10)
    batches = list(Dataset.from_tensor_slices((x, y)).batch(4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_array_equal(batches[2][1], [8, 9])
    dropped = Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    assert len(Dataset.from_tensor_slices(x).batch(4)) == 3
    with pytest.raises(ValueError, match="batch_size"):
        Dataset.from_tensor_slices(x).batch(0)
    with pytest.raises(TypeError, match="integer"):
        Dataset.from_tensor_slices(x).batch(2.5)


def test_full_buffer_shuffle_is_a_permutation_reshuffled_each_pass():
    x, y = rows(100)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(100, seed=1).batch(16)
    first, second = labels_of(ds), labels_of(ds)
    assert sorted(first) == list(range(100)) and sorted(second) == list(range(100))
    assert first != second and first != list(range(100))
    for bx, by in ds:  # rows stay aligned with their labels
        np.testing.assert_array_equal(bx, x[by])
    again = Dataset.from_tensor_slices((x, y)).shuffle(100, seed=1).batch(16)
    assert labels_of(again) == first  # a seed fixes the sequence of orders


def test_shuffle_without_reshuffle_repeats_one_order_and_global_seed_repeats_runs():
    x, y = rows(50)
    fixed = Dataset.from_tensor_slices((x, y)).shuffle(50, reshuffle_each_iteration=False)
    assert labels_of(fixed) == labels_of(fixed) != list(range(50))
    shendu.random.seed(7)
    a = labels_of(Dataset.from_tensor_slices((x, y)).shuffle(50))
    shendu.random.seed(7)
    b = labels_of(Dataset.from_tensor_slices((x, y)).shuffle(50))
    assert a == b


@pytest.mark.parametrize("per_element", [False, True])
def test_small_buffer_behaves_like_tf_data(per_element):
    n, buffer = 200, 8
    ds = Dataset.from_tensor_slices(np.arange(n))
    if per_element:  # a map first forces the element-by-element buffer
        ds = ds.map(lambda v: v)
    order = [int(v) for v in ds.shuffle(buffer, seed=3)]
    assert sorted(order) == list(range(n))
    # position p can only emit an element already read into the buffer: index < p + buffer
    assert all(v < p + buffer for p, v in enumerate(order))
    assert max(abs(v - p) for p, v in enumerate(order)) > 2  # and it does mix
    assert [int(v) for v in ds.shuffle(1, seed=3)] == list(range(n))


def test_map_per_element_and_per_batch_with_tuple_unpacking():
    x, y = rows(6)
    per_element = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2, b + 1)).batch(4)
    bx, by = next(iter(per_element))
    np.testing.assert_array_equal(bx, x[:4] * 2)
    np.testing.assert_array_equal(by, y[:4] + 1)
    per_batch = Dataset.from_tensor_slices((x, y)).batch(4).map(lambda a, b: {"x": a.sum(axis=1), "n": len(b)})
    out = list(per_batch)
    assert [o["n"] for o in out] == [4, 2]
    np.testing.assert_array_equal(out[1]["x"], x[4:].sum(axis=1))
    single = Dataset.from_tensor_slices(x).map(lambda a: a[0])
    assert [float(v) for v in single] == x[:, 0].tolist()
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_tensor_slices(x).map(3)


def test_batching_mismatched_elements_is_a_clear_error():
    gen = Dataset.from_generator(lambda: iter([np.zeros(2), np.zeros(3)]))
    with pytest.raises(ValueError, match="different shapes"):
        list(gen.batch(2))


def test_take_skip_repeat_and_cardinality():
    x, y = rows(10)
    ds = Dataset.from_tensor_slices((x, y))
    assert labels_of(ds.take(3)) == [0, 1, 2] and len(ds.take(3)) == 3
    assert labels_of(ds.skip(7)) == [7, 8, 9] and len(ds.skip(7)) == 3
    assert labels_of(ds.take(-1)) == list(range(10)) and list(ds.skip(-1)) == []
    assert len(ds.take(50)) == 10 and len(ds.skip(50)) == 0
    assert labels_of(ds.repeat(2)) == list(range(10)) * 2 and len(ds.repeat(2)) == 20
    crossing = list(ds.repeat(2).batch(4))  # batches span the epoch boundary, as in tf.data
    np.testing.assert_array_equal(crossing[2][1], [8, 9, 0, 1])
    assert len(crossing) == len(ds.repeat(2).batch(4)) == 5
    forever = ds.repeat()
    assert forever.cardinality() == INFINITE_CARDINALITY
    assert forever.take(25).cardinality() == 25 and labels_of(forever.take(25))[20:] == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert list(ds.take(0).repeat()) == []  # an empty pass ends an infinite repeat
    assert list(ds.shuffle(10).skip(-1).repeat()) == []


def test_repeat_after_shuffle_reshuffles_each_epoch():
    x, y = rows(30)
    order = labels_of(Dataset.from_tensor_slices((x, y)).shuffle(30, seed=0).repeat(3).batch(7))
    epochs = [order[i * 30:(i + 1) * 30] for i in range(3)]
    assert all(sorted(e) == list(range(30)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3


def test_generic_pipeline_with_take_skip_repeat():
    ds = Dataset.from_tensor_slices(np.arange(6)).map(lambda v: v * 10)
    assert [int(v) for v in ds.skip(2).take(2)] == [20, 30]
    assert [int(v) for v in ds.repeat(2)][6:8] == [0, 10]
    assert [b.tolist() for b in ds.batch(4)] == [[0, 10, 20, 30], [40, 50]]
    assert ds.skip(-1).cardinality() == 0 and list(ds.skip(-1)) == []


def test_from_generator_args_types_shapes_and_unknown_length():
    def gen(n):
        for i in range(n):
            yield [float(i)] * 2, i

    ds = Dataset.from_generator(gen, output_types=("float32", "int64"), output_shapes=((2,), ()), args=(3,))
    assert ds.cardinality() == UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="unknown"):
        len(ds)
    items = list(ds)
    assert items[2][0].dtype == np.float32 and items[2][1].dtype == np.int64 and len(list(ds)) == 3
    batch = next(iter(ds.batch(3)))
    assert batch[0].shape == (3, 2)
    wrong = Dataset.from_generator(gen, output_types=("float32", "int64"), output_shapes=((3,), ()), args=(1,))
    with pytest.raises(ValueError, match=r"shape \(2,\); output_shapes expects \(3,\)"):
        list(wrong)
    with pytest.raises(ValueError, match="2 components"):
        list(Dataset.from_generator(gen, output_types="float32", args=(1,)))


def test_as_numpy_iterator_gives_arrays_and_numpy_scalars():
    items = list(Dataset.from_generator(lambda: iter([(1, [2.0, 3.0])])).as_numpy_iterator())
    assert isinstance(items[0][0], np.integer) and isinstance(items[0][1], np.ndarray)
    assert items[0][1].dtype == np.float32  # Python floats become float32, as tf.constant makes them
    texts = list(Dataset.from_tensor_slices(np.array([b"ab", b"c"], dtype=object)).as_numpy_iterator())
    assert texts == [b"ab", b"c"] and type(texts[0]) is bytes


def test_prefetch_gives_the_same_elements_and_len():
    x, y = rows(20)
    ds = Dataset.from_tensor_slices((x, y)).batch(3)
    assert labels_of(ds.prefetch(2)) == labels_of(ds) and len(ds.prefetch(AUTOTUNE)) == 7
    assert AUTOTUNE == -1
    with pytest.raises(ValueError, match="AUTOTUNE"):
        ds.prefetch(0)


def test_prefetch_propagates_exceptions():
    def boom(a, b):
        if b[0] >= 6:
            raise KeyError("bad batch")
        return a, b

    ds = Dataset.from_tensor_slices(rows(20)).batch(3).map(boom).prefetch(2)
    seen = []
    with pytest.raises(KeyError, match="bad batch"):
        for _, b in ds:
            seen.append(int(b[0]))
    assert seen == [0, 3]


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "shendu-prefetch"]


def test_prefetch_stops_its_thread_when_iteration_stops_early():
    ds = Dataset.from_tensor_slices(np.arange(10_000)).repeat().batch(2).prefetch(3)
    for i, _ in enumerate(ds):
        if i == 5:
            break
    gc.collect()
    deadline = time.monotonic() + 2
    while _prefetch_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _prefetch_threads() == []
    it = iter(ds)
    next(it)
    it.close()
    assert _prefetch_threads() == []


def test_prefetch_overlaps_preparation_with_computation():
    """With prefetch the next element is prepared while the consumer still holds the current one; without it,
    only when the consumer asks for it."""
    started = {i: threading.Event() for i in range(3)}

    def prep(batch):
        started[int(batch[0])].set()
        return batch

    ds = Dataset.from_tensor_slices(np.arange(3)).batch(1).map(prep)
    it = iter(ds)
    next(it)
    assert not started[1].is_set()
    it = iter(ds.prefetch(2))
    next(it)
    assert started[1].wait(timeout=10)
    assert [int(b[0]) for b in it] == [1, 2]


def test_mnist_sized_epoch_is_vectorized(monkeypatch):
    """Batches of tensor slices are gathered by one index per array, never stacked element by element."""
    monkeypatch.setattr(batching_module, "_stack", lambda elements: pytest.fail("stacked element by element"))
    x = np.arange(60_000 * 4, dtype=np.uint8).reshape(60_000, 2, 2)
    y = np.arange(60_000)
    batches = list(Dataset.from_tensor_slices((x, y)).shuffle(60_000, seed=1).batch(64))
    assert len(batches) == 938 and batches[-1][1].shape == (60_000 % 64,)
    order = np.concatenate([b[1] for b in batches])
    assert sorted(order) == list(range(60_000)) and not np.array_equal(order, np.arange(60_000))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[order])
