"""tf's creation functions and dtypes (shendu/tf/creation.py, shendu/creation.py), against NumPy and TensorFlow's
documented defaults."""

import numpy as np
import pytest

import shendu as tf
from shendu.tf import creation


def test_constant_takes_tensorflow_default_dtypes():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant([1, 2]).dtype == tf.int32
    assert tf.constant(2**40).dtype == tf.int64
    assert tf.constant([True, False]).dtype == np.bool_
    assert tf.constant(np.arange(3.0)).dtype == tf.float64
    assert tf.constant(np.arange(3)).dtype == np.arange(3).dtype
    assert tf.constant(["a", "bc"]).dtype == tf.string
    assert tf.constant(1 + 2j).dtype == tf.complex128
    assert tf.constant([1, 2], dtype=tf.float64).dtype == tf.float64
    assert tf.constant(0.1, dtype="float64").item() == 0.1  # converted from the Python value, not via float32


def test_constant_shape_fills_or_reshapes_and_copies():
    np.testing.assert_array_equal(tf.constant(7, shape=[2, 3]).numpy(), np.full((2, 3), 7))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match=r"tf.constant: 3 values cannot fill shape"):
        tf.constant([1, 2, 3], shape=[2, 2])
    source = np.zeros(3, dtype=np.float32)
    c = tf.constant(source)
    source[0] = 5
    assert c.numpy()[0] == 0 and not c.requires_grad


def test_convert_to_tensor():
    x = tf.constant([1.0, 2.0])
    assert tf.convert_to_tensor(x) is x
    v = tf.Variable(np.ones(2, dtype=np.float32))
    assert tf.convert_to_tensor(v) is v
    assert tf.convert_to_tensor([1, 2]).dtype == tf.int32
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor([1.5], dtype_hint=tf.int32).dtype == tf.float32  # the hint does not fit: ignored
    assert tf.convert_to_tensor(3, dtype=tf.float64).dtype == tf.float64
    with pytest.raises(ValueError, match=r"tf.convert_to_tensor: the tensor has dtype float32.*tf.cast"):
        tf.convert_to_tensor(x, dtype=tf.int32)


def test_dtypes_and_as_dtype():
    assert tf.float32.name == "float32" and tf.int64.name == "int64" and tf.bool_.name == "bool"
    assert tf.as_dtype("float") == tf.float32 and tf.as_dtype(float) == tf.float32
    assert tf.as_dtype("double") == tf.float64 and tf.as_dtype("half") == tf.float16
    assert tf.as_dtype("string") == tf.string and tf.as_dtype(np.str_) == tf.string
    assert tf.as_dtype(np.int32) == tf.int32 and tf.as_dtype(tf.uint8) == tf.uint8
    with pytest.raises(TypeError, match=r"tf.as_dtype: cannot convert 'float33'"):
        tf.as_dtype("float33")


def test_zeros_ones_take_a_shape_and_float32():
    for shape in ([2, 3], (2, 3), tf.constant([2, 3]), np.array([2, 3])):
        z = tf.zeros(shape)
        assert z.shape == (2, 3) and z.dtype == tf.float32 and not z.numpy().any()
    assert tf.zeros(4).shape == (4,) and tf.ones([]).shape == ()
    o = tf.ones([2], tf.int32)
    assert o.dtype == tf.int32 and o.numpy().tolist() == [1, 1]
    assert tf.zeros([1, 2], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match=r"tf.zeros: expected a shape"):
        tf.zeros([2, None])


def test_zeros_like_ones_like():
    x = tf.constant([[1, 2], [3, 4]])
    assert tf.zeros_like(x).dtype == tf.int32 and not tf.zeros_like(x).numpy().any()
    assert tf.ones_like(x, dtype=tf.float32).dtype == tf.float32
    np.testing.assert_array_equal(tf.ones_like([1.0, 2.0]).numpy(), [1.0, 1.0])
    assert tf.ones_like([1.0]).dtype == tf.float32


def test_fill_takes_the_value_dtype_and_passes_its_gradient():
    assert tf.fill([2, 3], 9).dtype == tf.int32 and tf.fill([2, 3], 9.0).dtype == tf.float32
    np.testing.assert_array_equal(tf.fill((2, 2), 9).numpy(), np.full((2, 2), 9))
    assert tf.gradcheck(lambda v: tf.fill([2, 3], v), [np.array(0.5)])
    with pytest.raises(ValueError, match=r"tf.fill: value must be a scalar"):
        tf.fill([2], [1, 2])


def test_eye():
    np.testing.assert_array_equal(tf.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(tf.eye(2, 3).numpy(), np.eye(2, 3))
    batched = tf.eye(2, batch_shape=[4, 1], dtype=tf.int32)
    assert batched.shape == (4, 1, 2, 2) and batched.dtype == tf.int32
    np.testing.assert_array_equal(batched.numpy()[3, 0], np.eye(2))


def test_range_dtypes_and_values():
    np.testing.assert_array_equal(tf.range(5).numpy(), np.arange(5))
    assert tf.range(5).dtype == tf.int32
    assert tf.range(0, 1, 0.25).dtype == tf.float32
    np.testing.assert_array_equal(tf.range(3, 18, 3).numpy(), [3, 6, 9, 12, 15])
    np.testing.assert_allclose(tf.range(3, 1, -0.5).numpy(), [3.0, 2.5, 2.0, 1.5])
    assert tf.range(4, dtype=tf.float64).dtype == tf.float64
    assert tf.range(tf.constant(3, dtype=tf.int64)).dtype == tf.int64
    assert list(range(3)) == [0, 1, 2]  # the builtin is untouched
    with pytest.raises(ValueError, match=r"tf.range: delta must not be 0"):
        tf.range(0, 5, 0)


def test_linspace_values_and_gradient():
    np.testing.assert_allclose(tf.linspace(10.0, 12.0, 3).numpy(), [10.0, 11.0, 12.0])
    assert tf.linspace(0.0, 1.0, 5).dtype == tf.float32
    np.testing.assert_allclose(tf.linspace(0.1, 0.7, 7).numpy(), np.linspace(0.1, 0.7, 7), rtol=1e-6)
    assert tf.linspace(0.1, 0.7, 7).numpy()[-1] == np.float32(0.7)
    np.testing.assert_allclose(tf.linspace(2.0, 3.0, 1).numpy(), [2.0])
    start, stop = np.array([0.0, 5.0]), np.array([1.0, 10.0])
    np.testing.assert_allclose(tf.linspace(start, stop, 5, axis=1).numpy(), np.linspace(start, stop, 5, axis=1))
    np.testing.assert_allclose(tf.linspace(start, stop, 4).numpy(), np.linspace(start, stop, 4))
    assert tf.gradcheck(lambda a, b: tf.linspace(a, b, 4, axis=-1), [start, stop])


def test_one_hot():
    np.testing.assert_array_equal(tf.one_hot([0, 1, 2], 3).numpy(), np.eye(3))
    assert tf.one_hot([0], 3).dtype == tf.float32
    hot = tf.one_hot([0, 2, -1, 1], 3, on_value=5.0, off_value=0.0, axis=-1)
    np.testing.assert_array_equal(hot.numpy(), [[5, 0, 0], [0, 0, 5], [0, 0, 0], [0, 5, 0]])
    first = tf.one_hot([[0, 2], [1, -1]], 3, on_value=1.0, off_value=0.0, axis=0)
    assert first.shape == (3, 2, 2)
    np.testing.assert_array_equal(first.numpy()[:, 0, 1], [0, 0, 1])
    assert tf.one_hot([1], 2, on_value=7, off_value=-1).dtype == tf.int32
    assert tf.one_hot([1], 2, dtype=tf.int64).dtype == tf.int64


def test_shape_rank_size():
    x = tf.zeros([2, 3, 4])
    s = creation.shape(x)
    assert s.dtype == tf.int32 and s.numpy().tolist() == [2, 3, 4]
    assert creation.shape(x, out_type=tf.int64).dtype == tf.int64
    assert tf.rank(x).item() == 3 and tf.rank(x).dtype == tf.int32
    assert tf.size(x).item() == 24 and tf.size([[1, 2]]).item() == 2
    assert tf.newaxis is None and x[tf.newaxis].shape == (1, 2, 3, 4)


def test_cast_identity_stop_gradient_is_tensor():
    x = tf.constant([1.7, -1.7, 0.0])
    np.testing.assert_array_equal(tf.cast(x, tf.int32).numpy(), [1, -1, 0])  # truncates toward zero
    np.testing.assert_array_equal(tf.cast(x, tf.bool_).numpy(), [True, True, False])
    u = tf.Variable(np.array([0.5, 1.5], dtype=np.float32))
    (tf.cast(u, tf.float64) * np.array([2.0, 3.0])).sum().backward()
    assert u.grad.dtype == tf.float32 and u.grad.numpy().tolist() == [2.0, 3.0]
    assert tf.gradcheck(lambda t: tf.identity(t) * 3, [np.array([0.5, 1.5])])
    v = tf.Variable(np.ones(2, dtype=np.float32))
    snapshot = tf.identity(v)
    v.assign(np.zeros(2))
    assert snapshot.numpy().tolist() == [1.0, 1.0]  # a copy, as TensorFlow's read of a variable
    w = tf.Variable(np.array([2.0, 3.0], dtype=np.float32))
    (w * tf.stop_gradient(w)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])
    assert tf.is_tensor(x) and tf.is_tensor(v) and not tf.is_tensor(np.ones(2)) and tf.Tensor is type(x)


def test_tensorflow_datatype_enum_values_are_dtypes():
    """TF's DataType numbers work where a dtype goes (the subclassing guide calls tf.zeros(1, 1): 1 is float32)."""
    assert tf.zeros(1, 1).dtype == np.float32 and tf.zeros(1, 1).shape == (1,)
    assert tf.as_dtype(9) == np.int64 and tf.as_dtype(10) == np.bool_
    with pytest.raises(TypeError, match="the shape is one argument"):
        tf.zeros(2, 8)


def test_one_hot_takes_whole_float_labels_and_refuses_fractions():
    np.testing.assert_array_equal(tf.one_hot(np.array([2.0, 0.0], dtype=np.float32), 3).numpy(),
                                  [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(TypeError, match="indices must be integers"):
        tf.one_hot(np.array([1.5]), 3)


def test_a_ragged_list_is_refused_with_tensorflows_message():
    """Rows of different lengths (the tensor guide's ragged example) are refused as TensorFlow refuses them, not
    with NumPy's message about inhomogeneous shapes."""
    with pytest.raises(ValueError, match="Can't convert non-rectangular Python sequence to Tensor"):
        tf.constant([[0, 1, 2, 3], [4, 5], [6, 7, 8], [9]])
