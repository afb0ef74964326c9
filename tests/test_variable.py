"""Variable: TensorFlow's constructor, dtypes and copies, assign* returning the variable, reads, and tapes."""

import numpy as np
import pytest

import shendu as tf
from shendu.tensor import Tensor
from shendu.variable import Variable


def test_tensorflow_constructor():
    v = tf.Variable(1.0, False)  # TensorFlow's second positional argument is `trainable`
    assert not v.trainable and not v.requires_grad and v.name == "Variable"
    w = tf.Variable([[1.0, 2.0]], name="dense/kernel", dtype=tf.float64)
    assert w.name == "dense/kernel" and w.dtype == np.float64 and w.trainable and w.requires_grad
    assert w.shape == (1, 2) and isinstance(w, Tensor)
    assert tf.Variable(lambda: np.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match="initial_value must be specified"):
        Variable()
    with pytest.raises(TypeError):
        Variable(1.0, True, True)  # the arguments after trainable are keywords


def test_dtypes_follow_the_value():
    assert tf.Variable(1.0).dtype == np.float32
    assert tf.Variable(np.zeros(2)).dtype == np.float64
    i = tf.Variable(3)
    assert i.dtype.kind == "i" and i.trainable and not i.requires_grad  # integers take no gradient
    assert tf.Variable(tf.constant([1.0, 2.0])).dtype == np.float32


def test_the_initial_value_is_copied():
    a = np.zeros(3)
    v = tf.Variable(a)
    v.assign_add(1.0)
    assert a.sum() == 0 and v.numpy().sum() == 3
    w = tf.Variable(v)
    w.assign_add(1.0)
    assert v.numpy().sum() == 3
    assert tf.Variable(np.broadcast_to(np.float32(1.0), (2, 2))).numpy().flags.writeable


def test_assign_family_returns_the_variable_and_accepts_tensors():
    v = tf.Variable([1.0, 2.0])
    assert v.assign([3.0, 4.0]) is v
    assert v.assign_add(tf.constant([1.0, 1.0])) is v
    assert v.assign_sub(np.array([0.5, 0.5], np.float32)) is v
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    assert v.assign(tf.constant([0.0, 0.0]), read_value=False) is None
    assert v.assign_add(1.0).assign_sub(0.5) is v
    np.testing.assert_array_equal(v.numpy(), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"shape \(3,\) to shape \(2,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        tf.Variable(np.array([1, 2])).assign([0.5, 0.5])  # a float into an integer variable


def test_shape_may_change_when_allowed():
    v = tf.Variable([1.0], shape=tf.TensorShape([None]))
    v.assign([1.0, 2.0, 3.0])
    assert v.shape == (3,)
    free = tf.Variable(np.zeros((2, 2)), validate_shape=False)
    free.assign(np.ones((1, 5)))
    assert free.shape == (1, 5)
    with pytest.raises(ValueError, match="does not fit shape"):
        tf.Variable([1.0, 2.0], shape=[3])


def test_reads_are_snapshots():
    v = tf.Variable([1.0, 2.0])
    before, value, array = v.read_value(), v.value(), v.numpy()
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(value.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(array, [1.0, 2.0])
    assert isinstance(tf.Variable(2.0).numpy(), np.float32)


def test_a_variable_is_a_tensor():
    v = tf.Variable([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((v * 2 + 1).numpy(), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal((v > 1.5).numpy(), [False, True, True])
    assert v.shape.as_list() == [3] and v.dtype.name == "float32" and len(v) == 3
    assert "numpy=array([1., 2., 3.]" in repr(v) and "'Variable'" in repr(v)


def test_read_value_passes_the_gradient_and_assign_does_not():
    v, x = tf.Variable(3.0), tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = v.read_value() * v
        v.assign(x * 10.0)
        z = v * 1.0
    assert float(tape.gradient(y, v)) == 6.0
    assert tape.gradient(z, x) is None  # an assignment is not differentiated through


def test_constraint():
    v = tf.Variable([0.5, -0.5], constraint=lambda w: np.maximum(w, 0.0))
    tf.keras.optimizers.SGD(learning_rate=1.0).apply_gradients([(np.array([1.0, 1.0], np.float32), v)])
    np.testing.assert_allclose(v.numpy(), [0.0, 0.0])
