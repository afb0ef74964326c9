"""pad_sequences and timeseries_dataset_from_array against the examples of Keras's documentation and hand-made
expectations."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.utils.sequence import pad_sequences
from shendu.utils.timeseries import timeseries_dataset_from_array

SEQS = [[1], [2, 3], [4, 5, 6]]


# --- pad_sequences -----------------------------------------------------------------------------------------------
def test_pad_sequences_keras_doc_examples():
    np.testing.assert_array_equal(pad_sequences(SEQS), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQS, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQS, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(SEQS).dtype == np.int32


def test_pad_sequences_truncating_and_longer_maxlen():
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=2, truncating="post"), [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=4, padding="post", truncating="post"),
                                  [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]])
    np.testing.assert_array_equal(pad_sequences([[], [7, 8]]), [[0, 0], [7, 8]])


def test_pad_sequences_dtypes_and_sample_shapes():
    out = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=-1.0)
    np.testing.assert_array_equal(out, np.array([[0.5, 1.5], [-1.0, 2.5]], "float32"))
    np.testing.assert_array_equal(pad_sequences([[0.5, 1.7]], maxlen=3), [[0, 0, 1]])  # int32 truncates, as Keras
    vectors = pad_sequences([np.ones((2, 3)), np.full((1, 3), 2)], dtype="float32")
    assert vectors.shape == (2, 2, 3)
    np.testing.assert_array_equal(vectors[1], [[0, 0, 0], [2, 2, 2]])
    words = pad_sequences([["a", "bb"], ["ccc"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "bb"], ["<pad>", "ccc"]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="not compatible"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="padding type"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating type"):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="list of iterables"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match=r"sequence 1 has samples of shape \(2,\)"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 2))])


# --- timeseries_dataset_from_array ------------------------------------------------------------------------------
def test_timeseries_keras_example_1_windows():
    ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3,
                                       batch_size=None)
    windows = list(ds)
    assert len(ds) == len(windows) == 27
    np.testing.assert_array_equal(windows[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(windows[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(windows[2], np.arange(6, 26, 2))
    np.testing.assert_array_equal(windows[-1], np.arange(78, 98, 2))


def test_timeseries_keras_example_2_regression_targets():
    data = np.arange(100, dtype="float32") * 0.5
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10, batch_size=32)
    batches = list(ds)
    assert len(ds) == 3 and [len(x) for x, _ in batches] == [32, 32, 17]
    x, y = batches[0]
    np.testing.assert_array_equal(x[0], data[:10])
    assert y[0] == data[10] and x.dtype == np.float32
    x_all = np.concatenate([b[0] for b in batches])
    y_all = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(x_all, np.stack([data[i:i + 10] for i in range(81)]))
    np.testing.assert_array_equal(y_all, data[10:91])


def test_timeseries_keras_example_3_many_to_many():
    x, y = np.arange(100), np.arange(100) * 2
    xs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    ys = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    inputs, targets = next(iter(xs)), next(iter(ys))
    np.testing.assert_array_equal(inputs[0], x[:20])
    np.testing.assert_array_equal(targets[1], y[20:40])
    assert inputs.shape == (5, 20)


def test_timeseries_start_end_index_and_multivariate():
    data = np.arange(60).reshape(30, 2)
    targets = np.arange(30) * 10
    ds = timeseries_dataset_from_array(data, targets, sequence_length=3, sampling_rate=2, start_index=5,
                                       end_index=20, batch_size=4)
    x = np.concatenate([b[0] for b in ds])
    y = np.concatenate([b[1] for b in ds])
    # windows start at 5..15 (the last uses rows 15, 17, 19 < 20); targets[start + i]
    assert x.shape == (11, 3, 2)
    np.testing.assert_array_equal(x[0], data[[5, 7, 9]])
    np.testing.assert_array_equal(x[-1], data[[15, 17, 19]])
    np.testing.assert_array_equal(y, targets[5:16])


def test_timeseries_fewer_targets_limit_the_windows():
    ds = timeseries_dataset_from_array(np.arange(20), np.arange(5), sequence_length=3, batch_size=None)
    assert len(ds) == 5


def test_timeseries_shuffle_is_a_seeded_permutation():
    data = np.arange(50)
    a = [b for b in timeseries_dataset_from_array(data, data, sequence_length=5, shuffle=True, seed=3, batch_size=8)]
    b = [b for b in timeseries_dataset_from_array(data, data, sequence_length=5, shuffle=True, seed=3, batch_size=8)]
    starts = np.concatenate([x[:, 0] for x, _ in a])
    np.testing.assert_array_equal(starts, np.concatenate([x[:, 0] for x, _ in b]))
    expected = np.arange(46)
    np.random.RandomState(3).shuffle(expected)
    np.testing.assert_array_equal(starts, expected)
    for x, y in a:
        np.testing.assert_array_equal(y, x[:, 0])


def test_timeseries_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="`start_index` must be 0 or greater"):
        timeseries_dataset_from_array(data, None, 3, start_index=-1)
    with pytest.raises(ValueError, match="`end_index` must be lower than the length"):
        timeseries_dataset_from_array(data, None, 3, end_index=10)
    with pytest.raises(ValueError, match="`end_index` must be higher than `start_index`"):
        timeseries_dataset_from_array(data, None, 3, start_index=5, end_index=4)
    with pytest.raises(ValueError, match="`sampling_rate` must be lower"):
        timeseries_dataset_from_array(data, None, 3, sampling_rate=10)
    with pytest.raises(ValueError, match="`sequence_stride` must be a positive integer"):
        timeseries_dataset_from_array(data, None, 3, sequence_stride=0)


def test_timeseries_dataset_trains_a_model():
    t = np.arange(400, dtype="float32")
    series = np.sin(t / 5)[:, None]
    ds = timeseries_dataset_from_array(series[:-8], series[8:, 0], sequence_length=8, batch_size=32)
    model = sd.models.Sequential([sd.layers.Input((8, 1)), sd.layers.Flatten(), sd.layers.Dense(1)])
    model.compile(sd.optimizers.Adam(0.05), "mse")
    history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.01
