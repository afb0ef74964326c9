"""TensorFlow's control flow run eagerly (cond, case, switch_case, while_loop, map_fn, scan, foldl/foldr), the
Python-function ops, TensorArray, tf.debugging and tf.errors: the values TensorFlow gives, gradients through the
branches and loops, and TensorFlow's errors."""

import numpy as np
import pytest

import shendu as tf


def test_cond_case_and_switch_case_pick_a_branch_and_differentiate_it():
    w = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = tf.cond(w > 2, lambda: w * w, lambda: -w)
    assert float(y) == 9.0 and float(tape.gradient(y, w)) == 6.0
    assert tf.case([(w < 0, lambda: "negative"), (w > 0, lambda: "positive")], default=lambda: "zero") == "positive"
    assert tf.case([(w < 0, lambda: 1)], default=lambda: 2) == 2
    with pytest.raises(ValueError, match="exclusive=True but 2 predicates are true"):
        tf.case([(w > 0, lambda: 1), (w > 1, lambda: 2)], exclusive=True)
    assert tf.switch_case(tf.constant(1), [lambda: "a", lambda: "b", lambda: "c"]) == "b"
    assert tf.switch_case(7, [lambda: "a", lambda: "b"]) == "b"  # out of range: the last branch, as TensorFlow
    with pytest.raises(ValueError, match="the predicate must be a single boolean"):
        tf.cond(tf.constant([True, False]), lambda: 1, lambda: 2)


def test_while_loop_keeps_the_structure_and_counts_iterations():
    i, total = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (tf.constant(0), tf.constant(0)))
    assert int(i) == 5 and int(total) == 10
    (x,) = tf.while_loop(lambda x: x < 100, lambda x: (x * 2,), [tf.constant(1)], maximum_iterations=3)
    assert int(x) == 8
    w = tf.Variable(1.5)
    with tf.GradientTape() as tape:
        y = tf.while_loop(lambda k, v: k < 3, lambda k, v: (k + 1, v * w), (0, tf.constant(1.0)))[1]
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), 3 * 1.5 ** 2)
    with pytest.raises(ValueError, match="body returned 1 values for 2 loop variables"):
        tf.while_loop(lambda a, b: a < 1, lambda a, b: a + 1, (0, 0))


def test_map_fn_scan_and_folds():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(tf.map_fn(lambda row: tf.reduce_sum(row), x).numpy(), [3, 7, 11])
    pair = tf.map_fn(lambda t: (t[0] * 2, t[1] + 1), (tf.constant([1, 2]), tf.constant([10, 20])))
    assert [p.numpy().tolist() for p in pair] == [[2, 4], [11, 21]]
    np.testing.assert_array_equal(tf.vectorized_map(lambda r: r * r, x).numpy(), x.numpy() ** 2)
    np.testing.assert_array_equal(tf.scan(lambda a, v: a + v, tf.constant([1, 2, 3, 4])).numpy(), [1, 3, 6, 10])
    np.testing.assert_array_equal(tf.scan(lambda a, v: a + v, tf.constant([1, 2, 3, 4]), reverse=True).numpy(),
                                  [10, 9, 7, 4])
    np.testing.assert_array_equal(tf.scan(lambda a, v: a * v, tf.constant([2, 3]), initializer=tf.constant(5)).numpy(),
                                  [10, 30])
    assert int(tf.foldl(lambda a, v: a - v, tf.constant([1, 2, 3]), initializer=10)) == 4
    assert int(tf.foldr(lambda a, v: a * 10 + v, tf.constant([1, 2, 3]))) == 321
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.map_fn(lambda row: row * w, x))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [9.0, 12.0])


def test_python_functions_and_shapes():
    y = tf.py_function(lambda a, b: a * b, [tf.constant(2.0), 3.0], tf.float32)
    assert float(y) == 6.0 and y.dtype == np.float32
    s, n = tf.numpy_function(lambda a: (a.sum(), a.size), [np.arange(4)], [tf.int64, tf.int32])
    assert int(s) == 6 and n.dtype == np.int32
    x = tf.zeros((2, 3))
    assert tf.ensure_shape(x, [None, 3]) is x
    with pytest.raises(ValueError, match=r"shape of tensor \(2, 3\) is not compatible with expected shape"):
        tf.ensure_shape(x, [2, 4])
    assert tf.executing_eagerly() and float(tf.timestamp()) > 1.6e9


def test_tensor_array_collects_a_loop_and_passes_gradients_back():
    w = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        value = tf.constant(1.0)
        for i in range(3):
            value = value * w
            ta = ta.write(i, value)
        out = ta.stack()
        total = tf.reduce_sum(out)
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0, 8.0])
    assert float(tape.gradient(total, w)) == 1 + 4 + 12
    fixed = tf.TensorArray(tf.int32, size=2)
    with pytest.raises(IndexError, match="outside the array of size 2"):
        fixed.write(2, 1)
    with pytest.raises(ValueError, match=r"elements \[1\] were never written"):
        fixed.write(0, 5).stack()
    unstacked = tf.TensorArray(tf.float32, size=3).unstack(tf.constant([[1.0], [2.0], [3.0]]))
    assert float(unstacked.read(1)[0]) == 2.0 and unstacked.gather([2, 0]).numpy().tolist() == [[3.0], [1.0]]
    assert unstacked.concat().numpy().tolist() == [1.0, 2.0, 3.0] and int(unstacked.size()) == 3


def test_debugging_asserts_raise_tensorflows_errors():
    tf.debugging.assert_equal(tf.constant([1, 2]), [1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x == y did not hold"):
        tf.debugging.assert_equal(tf.constant([1, 2]), [1, 3])
    with pytest.raises(ValueError, match="x < y"):  # InvalidArgumentError is a ValueError
        tf.assert_less(tf.constant(2), 1)
    tf.debugging.assert_near(tf.constant(1.0), 1.0 + 1e-7)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not equal to tolerance"):
        tf.debugging.assert_near(tf.constant(1.0), 1.1)
    tf.debugging.assert_shapes([(tf.zeros((4, 3)), ("N", "D")), (tf.zeros((4,)), ("N",))])
    with pytest.raises(tf.errors.InvalidArgumentError, match="dimension 'N' must be 4, got 5"):
        tf.debugging.assert_shapes([(tf.zeros((4, 3)), ("N", "D")), (tf.zeros((5,)), ("N",))])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank 2"):
        tf.assert_rank(tf.zeros(3), 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad values : Tensor had NaN values"):
        tf.debugging.check_numerics(tf.constant([1.0, np.nan]), "bad values")
    with pytest.raises(TypeError, match="expected int32"):
        tf.debugging.assert_type(tf.constant(1.0), tf.int32)
    err = tf.errors.OutOfRangeError(None, None, "end of sequence")
    assert isinstance(err, IndexError) and err.message == "end of sequence" and str(err) == "end of sequence"


def test_custom_gradient_replaces_the_gradient_of_what_the_function_runs():
    @tf.custom_gradient
    def log1pexp(x):
        e = tf.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))
        return tf.math.log(1 + e), grad

    x = tf.constant([0.0, 100.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        with np.errstate(over="ignore"):
            y = log1pexp(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5, 1.0])  # the naive gradient is NaN at 100

    w = tf.Variable(3.0)

    @tf.custom_gradient
    def scaled(x):
        def grad(upstream, variables):
            return upstream * 10.0, [upstream * 100.0]
        return x * w, grad

    with tf.GradientTape() as tape:
        out = scaled(tf.constant(2.0))
    assert [float(g) for g in tape.gradient(out, [w])] == [100.0]

    @tf.custom_gradient
    def forgets_variables(x):
        return x * w, lambda upstream: upstream
    with pytest.raises(TypeError, match="must take a keyword argument 'variables'"):
        forgets_variables(tf.constant(1.0))
