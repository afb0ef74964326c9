"""What users see of a Dataset: elements are shendu Tensors sharing the arrays' memory, map functions get Tensors,
cardinality is a Tensor, element_spec describes shapes and dtypes, strings are object arrays of bytes."""

from collections import namedtuple

import numpy as np
import pytest

import shendu as tf
from shendu.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from shendu.data.spec import DatasetSpec
from shendu.tensor import Tensor


def test_elements_and_batches_are_tensors_sharing_memory():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    for a, b in Dataset.from_tensor_slices((x, y)):
        assert isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape == (2,) and b.shape == ()
        assert np.shares_memory(a.numpy(), x)
    bx, by = next(iter(Dataset.from_tensor_slices((x, y)).batch(4)))
    assert isinstance(bx, Tensor) and bx.shape == (4, 2) and np.shares_memory(bx.numpy(), x)  # a view
    assert float(tf.reduce_sum(bx)) == float(x[:4].sum())
    np.testing.assert_array_equal(by.numpy(), y[:4])


def test_map_functions_receive_tensors_and_tf_ops_work_in_them():
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    labels = np.array([3, 7])
    seen = []

    def scale(x, y):
        seen.append((type(x), type(y)))
        return tf.cast(x, tf.float32) / 255.0, y

    ds = Dataset.from_tensor_slices((images, labels)).map(scale).batch(2)
    bx, _ = next(iter(ds))
    assert seen == [(Tensor, Tensor)] * 2
    assert bx.dtype == np.float32
    np.testing.assert_allclose(bx.numpy(), images / np.float32(255.0), rtol=1e-6)
    counts = images.astype(np.int32)
    per_batch = Dataset.from_tensor_slices(counts).batch(2).map(lambda b: tf.reduce_sum(b, axis=[1, 2]))
    np.testing.assert_array_equal(next(iter(per_batch)).numpy(), counts.sum(axis=(1, 2)))


def test_map_results_convert_like_tf_constant():
    ds = Dataset.range(2).map(lambda v: [1.5, v])  # a list result is a tuple of components
    a, b = next(iter(ds))
    assert a.dtype == np.float32 and b.dtype == np.int64
    named = namedtuple("Point", "x y")
    point = next(iter(Dataset.range(1).map(lambda v: named(v, v + 1))))
    assert isinstance(point, named) and int(point.y) == 1
    with pytest.raises(ValueError, match=r"Dataset\.map.*None"):
        list(Dataset.range(1).map(lambda v: None))


def test_cardinality_is_a_tensor_with_tensorflows_rules():
    ds = Dataset.range(10)
    card = ds.cardinality()
    assert isinstance(card, Tensor) and card.dtype == np.int64 and int(card) == 10
    assert int(tf.data.experimental.cardinality(ds.batch(3))) == 4
    assert int(ds.batch(3, drop_remainder=True).cardinality()) == 3
    assert int(ds.filter(lambda v: v > 2).cardinality()) == UNKNOWN_CARDINALITY
    assert int(ds.filter(lambda v: v > 2).repeat().cardinality()) == INFINITE_CARDINALITY  # as TensorFlow
    assert int(Dataset.zip((ds, ds.take(4), ds.repeat())).cardinality()) == 4
    assert int(ds.concatenate(ds.repeat()).cardinality()) == INFINITE_CARDINALITY
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1
    assert tf.data.experimental.INFINITE_CARDINALITY == -1 and tf.data.experimental.UNKNOWN_CARDINALITY == -2
    validation = ds.take(int(ds.cardinality()) // 5)  # a tutorial's idiom
    assert len(validation) == 2
    assert len(ds.take(card)) == 10  # a Tensor count
    with pytest.raises(TypeError, match="cardinality: expected a Dataset"):
        tf.data.experimental.cardinality([1, 2])


def test_element_spec_of_sources_and_transformations():
    x = np.zeros((5, 28, 28), np.uint8)
    ds = Dataset.from_tensor_slices((x, np.arange(5)))
    spec_x, spec_y = ds.element_spec
    assert spec_x == tf.TensorSpec((28, 28), tf.uint8) and spec_y == tf.TensorSpec((), tf.int64)
    bx, _ = ds.batch(4).element_spec
    assert bx.shape.as_list() == [None, 28, 28]
    assert ds.batch(4, drop_remainder=True).element_spec[0].shape == (4, 28, 28)
    assert ds.batch(4).unbatch().element_spec[0].shape == (28, 28)
    assert ds.enumerate().element_spec[0] == tf.TensorSpec((), tf.int64)
    assert Dataset.zip({"a": ds, "b": Dataset.range(3)}).element_spec["b"].dtype == np.int64
    assert isinstance(Dataset.range(4).window(2).element_spec, DatasetSpec)
    mapped = ds.map(lambda a, b: tf.cast(a, tf.float32)[None])  # found by running map_func on the first element
    assert mapped.element_spec == tf.TensorSpec((1, 28, 28), tf.float32)
    merged = Dataset.from_tensor_slices(np.zeros((2, 3))).concatenate(Dataset.from_tensor_slices(np.zeros((2, 4))))
    assert merged.element_spec.shape == (None,)
    with pytest.raises(ValueError, match="empty"):
        _ = Dataset.range(0).map(lambda v: v).element_spec


def test_string_data_stays_text():
    words = np.array(["red", "green", "blue"])
    batch = next(iter(Dataset.from_tensor_slices(words).batch(2)))
    assert isinstance(batch, Tensor) and batch.numpy().tolist() == ["red", "green"]
    raw = np.array([b"a", b"bc"], dtype=object)
    elements = list(Dataset.from_tensor_slices(raw))
    assert all(isinstance(e, Tensor) and e.shape == () and e.dtype == object for e in elements)
    assert elements[1].numpy().decode() == "bc"
    stacked = next(iter(Dataset.from_tensor_slices(raw).map(lambda s: s).batch(2)))
    assert stacked.dtype == object and stacked.numpy().tolist() == [b"a", b"bc"]
    with pytest.raises(ValueError, match="ragged or mixed"):
        Dataset.from_tensor_slices(np.array([1, "a", None], dtype=object))


def test_iterator_get_next_and_reduce_and_single_element():
    it = iter(Dataset.range(3))
    assert int(it.get_next()) == 0 and int(next(it)) == 1
    assert it.element_spec == tf.TensorSpec((), tf.int64)
    total = Dataset.range(5).reduce(np.int64(0), lambda state, v: state + v)
    assert isinstance(total, Tensor) and int(total) == 10
    count, last = Dataset.range(4).reduce((0, -1), lambda s, v: (s[0] + 1, v))
    assert int(count) == 4 and int(last) == 3
    single = Dataset.from_tensors(np.array([1, 2, 3])).get_single_element()
    assert single.numpy().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="more than one"):
        Dataset.range(2).get_single_element()
    with pytest.raises(ValueError, match="empty"):
        Dataset.range(0).get_single_element()


def test_integer_arguments_are_checked():
    with pytest.raises(TypeError, match=r"Dataset.take: expected an integer, got 2.5"):
        Dataset.range(3).take(2.5)
    with pytest.raises(ValueError, match="shard: index must be in"):
        Dataset.range(3).shard(2, 2)
    with pytest.raises(TypeError, match=r"Dataset\.filter: expected a callable"):
        Dataset.range(3).filter(None)


def test_from_generator_with_output_signature():
    def gen(n):
        for i in range(n):
            yield f"row {i}", [float(i)] * 2

    signature = (tf.TensorSpec(shape=(), dtype=tf.string), tf.TensorSpec(shape=(None,), dtype=tf.float32))
    ds = tf.data.Dataset.from_generator(gen, output_signature=signature, args=(tf.constant(3),))
    assert ds.element_spec == signature
    texts, numbers = next(iter(ds.batch(3)))
    assert texts.numpy().tolist() == [b"row 0", b"row 1", b"row 2"] and numbers.dtype == np.float32
    with pytest.raises(TypeError, match="not both"):
        tf.data.Dataset.from_generator(gen, output_types=tf.float32, output_signature=signature)
    wrong = tf.data.Dataset.from_generator(lambda: iter([np.zeros(3)]), output_signature=tf.TensorSpec((2,)))
    with pytest.raises(ValueError, match=r"shape \(3,\); output_shapes expects \(2,\)"):
        list(wrong)


def test_python_values_take_tensorflows_dtypes():
    """Lists of Python numbers become tensors as tf.constant makes them (ints int32 where they fit, floats float32),
    as TensorFlow converts them; NumPy arrays keep their dtype."""
    specs = {name: Dataset.from_tensor_slices(value).element_spec.dtype
             for name, value in [("ints", [1, 2, 3]), ("big", [2**40, 1]), ("floats", [0.5, 1]), ("bools", [True]),
                                 ("numpy", np.arange(3))]}
    assert specs == {"ints": tf.int32, "big": tf.int64, "floats": tf.float32, "bools": tf.bool, "numpy": tf.int64}
    assert Dataset.from_tensors(5).element_spec.dtype == tf.int32
    assert [int(v) for v in Dataset.from_tensor_slices([4, 9])] == [4, 9]
