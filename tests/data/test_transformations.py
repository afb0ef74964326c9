"""The tf.data transformations beyond slicing and batching, checked against the outputs TensorFlow's own
documentation gives for the same calls, and against NumPy."""

import glob
import os

import numpy as np
import pytest

import shendu as tf
from shendu.data import Dataset
from shendu.data import batching as batching_module


def values(ds):
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in ds.as_numpy_iterator()]


def test_range_and_from_tensors():
    assert values(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert values(Dataset.range(2, 5)) == [2, 3, 4]
    assert values(Dataset.range(1, 5, 2)) == [1, 3]
    assert values(Dataset.range(5, 1, -2)) == [5, 3]
    assert next(iter(Dataset.range(3, output_type=tf.float32))).dtype == np.float32
    big = Dataset.range(10**12).skip(10**12 - 2).batch(4)  # a range is computed, never materialized
    assert values(big) == [[10**12 - 2, 10**12 - 1]]
    assert values(Dataset.range(0, 20, 3).shuffle(10, seed=0).batch(10).unbatch()) != list(range(0, 20, 3))
    one = Dataset.from_tensors((np.zeros((2, 3)), 5))
    assert len(one) == 1 and [e[0].shape for e in one] == [(2, 3)]
    with pytest.raises(ValueError, match="step must not be zero"):
        Dataset.range(0, 5, 0)


def test_filter_take_while_enumerate_shard():
    assert values(Dataset.range(10).filter(lambda v: v > 6)) == [7, 8, 9]
    assert values(Dataset.range(10).take_while(lambda v: v < 4)) == [0, 1, 2, 3]
    assert values(Dataset.from_tensor_slices(np.array([7, 8, 9])).enumerate(start=5)) == [(5, 7), (6, 8), (7, 9)]
    x = np.arange(10)
    for ds in (Dataset.from_tensor_slices(x), Dataset.from_tensor_slices(x).map(lambda v: v)):
        assert values(ds.shard(num_shards=3, index=1)) == [1, 4, 7]
        assert values(ds.shard(3, 0).batch(2)) == [[0, 3], [6, 9]]
    assert len(Dataset.range(10).shard(3, 0)) == 4 and len(Dataset.range(10).shard(3, 2)) == 3
    with pytest.raises(TypeError, match="scalar boolean"):
        list(Dataset.range(3).filter(lambda v: v * 2))


def test_zip_and_concatenate():
    a, b = Dataset.range(1, 4), Dataset.range(4, 7)
    assert values(Dataset.zip((a, b))) == [(1, 4), (2, 5), (3, 6)]
    assert values(Dataset.zip(a, b)) == [(1, 4), (2, 5), (3, 6)]
    nested = Dataset.zip((a, (b, Dataset.range(7, 9))))
    assert values(nested) == [(1, (4, 7)), (2, (5, 8))]
    assert values(Dataset.zip({"x": a, "y": b}))[0] == {"x": 1, "y": 4}
    assert values(a.concatenate(b)) == [1, 2, 3, 4, 5, 6] and len(a.concatenate(b)) == 6
    with pytest.raises(TypeError, match="differ in structure"):
        list(a.concatenate(Dataset.zip((a, b))))
    with pytest.raises(TypeError, match=r"Dataset\.zip: expected a Dataset or a tuple or dict of Datasets"):
        Dataset.zip((a, [1, 2]))


def test_window_as_in_tensorflows_documentation():
    def windows(ds):
        return [values(w) for w in ds]

    assert windows(Dataset.range(7).window(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert windows(Dataset.range(7).window(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert windows(Dataset.range(7).window(3, shift=2)) == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    assert windows(Dataset.range(7).window(3, 1, 2, drop_remainder=True)) == [[0, 2, 4], [1, 3, 5], [2, 4, 6]]
    assert windows(Dataset.range(7).window(2, shift=4)) == [[0, 1], [4, 5]]  # shift past the window
    assert [len(Dataset.range(7).window(3, s, d, r)) for s, d, r in ((2, 1, False), (1, 2, True), (4, 1, True))] \
        == [4, 3, 2]
    pairs = Dataset.from_tensor_slices((np.array([1, 2, 3, 4, 5]), np.array([6, 7, 8, 9, 10]))).window(2)
    assert [(values(x), values(y)) for x, y in pairs] == [([1, 2], [6, 7]), ([3, 4], [8, 9]), ([5], [10])]
    keyed = Dataset.from_tensor_slices({"a": np.array([1, 2, 3]), "b": np.array([4, 5, 6])}).window(2)
    assert [{k: values(v) for k, v in w.items()} for w in keyed] == [{"a": [1, 2], "b": [4, 5]},
                                                                   {"a": [3], "b": [6]}]


def test_window_then_flat_map_batch_gives_sliding_windows():
    series = np.arange(10, dtype=np.float32)
    ds = Dataset.from_tensor_slices(series).window(4, shift=1, drop_remainder=True).flat_map(lambda w: w.batch(4))
    expected = np.lib.stride_tricks.sliding_window_view(series, 4)
    np.testing.assert_array_equal(np.stack(list(ds.as_numpy_iterator())), expected)
    xy = ds.map(lambda w: (w[:-1], w[-1:]))
    first_x, first_y = next(iter(xy))
    assert first_x.numpy().tolist() == [0, 1, 2] and first_y.numpy().tolist() == [3]
    with pytest.raises(TypeError, match="flat_map: map_func must return a Dataset"):
        list(Dataset.range(2).flat_map(lambda v: v))


def test_flat_map_and_interleave_as_in_tensorflows_documentation():
    nested = Dataset.from_tensor_slices(np.array([[1, 2, 3], [4, 5, 6]]))
    assert values(nested.flat_map(Dataset.from_tensor_slices)) == [1, 2, 3, 4, 5, 6]
    ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2,
                                        block_length=4)
    assert values(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4,
                          5, 5, 5, 5, 5, 5]
    assert values(Dataset.range(3).interleave(lambda x: Dataset.range(x), cycle_length=2)) == [0, 0, 1]
    auto = Dataset.range(3).interleave(lambda x: Dataset.from_tensors(x), num_parallel_calls=tf.data.AUTOTUNE)
    assert sorted(values(auto)) == [0, 1, 2]


def test_padded_batch_as_in_tensorflows_documentation():
    a = Dataset.range(1, 5, output_type=tf.int32).map(lambda x: tf.fill([x], x))
    assert values(a.padded_batch(2)) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert values(a.padded_batch(2, padded_shapes=5)) == [[[1, 0, 0, 0, 0], [2, 2, 0, 0, 0]],
                                                          [[3, 3, 3, 0, 0], [4, 4, 4, 4, 0]]]
    assert values(a.padded_batch(2, padded_shapes=5, padding_values=-1))[0] == [[1, -1, -1, -1, -1],
                                                                                [2, 2, -1, -1, -1]]
    elements = [([1, 2, 3], [10]), ([4, 5], [11, 12])]
    ds = Dataset.from_generator(lambda: iter(elements), (tf.int32, tf.int32))
    first, second = next(ds.padded_batch(2, padded_shapes=([4], [None]), padding_values=(-1, 100))
                         .as_numpy_iterator())
    assert first.tolist() == [[1, 2, 3, -1], [4, 5, -1, -1]] and second.tolist() == [[10, 100], [11, 12]]
    assert first.dtype == np.int32
    both = next(Dataset.zip((a, a)).padded_batch(2, padding_values=-1).as_numpy_iterator())
    assert both[0].tolist() == both[1].tolist() == [[1, -1], [2, 2]]
    assert a.padded_batch(2, padded_shapes=[None]).element_spec.shape == (None, None)
    texts = Dataset.from_generator(lambda: iter([np.array([b"a"], dtype=object), np.array([b"b", b"c"], dtype=object)]))
    assert values(texts.padded_batch(2)) == [[[b"a", b""], [b"b", b"c"]]]
    with pytest.raises(ValueError, match="larger than the padded shape"):
        list(a.padded_batch(2, padded_shapes=[1]))


def test_unbatch_and_rebatch_as_in_tensorflows_documentation():
    assert values(Dataset.range(6).batch(2).rebatch(3)) == [[0, 1, 2], [3, 4, 5]]
    assert values(Dataset.range(7).batch(4).rebatch(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert values(Dataset.range(7).batch(4).rebatch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert values(Dataset.range(7).batch(2).rebatch(batch_size=[1, 2, 1, 3])) == [[0], [1, 2], [3], [4, 5, 6]]
    x = np.arange(20).reshape(10, 2)
    pairs = Dataset.from_tensor_slices((x, np.arange(10))).batch(4).unbatch()
    assert len(list(pairs)) == 10 and values(pairs)[9][0].tolist() == [18, 19]
    with pytest.raises(ValueError, match="first axis"):
        list(Dataset.range(3).unbatch())


def test_cache_in_memory_replays_the_first_complete_pass():
    calls = []

    def slow(v):
        calls.append(int(v))
        return v * 10

    ds = Dataset.range(4).map(slow).cache()
    assert values(ds) == [0, 10, 20, 30] and values(ds) == [0, 10, 20, 30]
    assert calls == [0, 1, 2, 3]  # the map ran once
    partial = Dataset.range(4).map(slow).cache()
    calls.clear()
    assert values(partial.take(2)) == [0, 10] and values(partial) == [0, 10, 20, 30]
    assert calls == [0, 1, 0, 1, 2, 3]  # a pass that stopped early keeps nothing (tf.data's rule)
    shuffled = Dataset.range(20).shuffle(20, seed=3).cache()
    assert values(shuffled) == values(shuffled) != list(range(20))  # the first order is kept


def test_cache_then_shuffle_batches_by_index(monkeypatch):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    ds = Dataset.from_tensor_slices(x).map(lambda r: r * 2).cache()
    list(ds)  # fills the cache
    monkeypatch.setattr(batching_module, "_stack", lambda elements: pytest.fail("stacked element by element"))
    batches = list(ds.shuffle(20, seed=0).batch(8).as_numpy_iterator())
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)[:, 0]), np.sort(x[:, 0] * 2))


def test_list_files_options_and_apply(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text("x")
    pattern = str(tmp_path / "*.txt")
    names = values(Dataset.list_files(pattern, shuffle=False))
    assert names == [os.fsencode(p) for p in sorted(glob.glob(pattern))]
    assert sorted(values(Dataset.list_files(pattern, seed=1))) == names
    with pytest.raises(ValueError, match="no files matched"):
        Dataset.list_files(str(tmp_path / "*.png"))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = False
    ds = Dataset.range(3).with_options(options).map(lambda v: v)
    assert ds.options().deterministic is False and ds.options().experimental_deterministic is False
    assert ds.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert values(ds) == [0, 1, 2]
    with pytest.raises(AttributeError, match="no option 'determinstic'"):
        options.determinstic = True
    assert values(Dataset.range(5).apply(lambda d: d.skip(3))) == [3, 4]
