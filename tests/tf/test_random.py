"""tf.random: TensorFlow's signatures and seeding semantics over shendu's seeded source."""

import numpy as np
import pytest

import shendu as tf


def test_shapes_dtypes_and_arguments_as_tensorflow():
    assert tf.random.normal([2, 3], mean=1.0).shape == (2, 3)
    assert tf.random.normal([2, 3]).dtype == np.float32
    assert tf.random.normal((4,), dtype=tf.float64).dtype == np.float64
    assert tf.random.uniform([5]).dtype == np.float32
    assert tf.random.truncated_normal([2, 2], stddev=0.1).shape == (2, 2)
    assert tf.random.normal(tf.constant([3, 1])).shape == (3, 1)
    assert tf.random.uniform([]).shape == ()
    ints = tf.random.uniform([1000], minval=-2, maxval=3, dtype=tf.int32)
    assert ints.dtype == np.int32 and set(np.unique(ints.numpy())) == {-2, -1, 0, 1, 2}
    u = tf.random.uniform([1000], minval=5.0, maxval=6.0).numpy()
    assert u.min() >= 5.0 and u.max() < 6.0
    means = tf.random.normal([2000, 3], mean=tf.constant([0.0, 10.0, 20.0]), stddev=0.1).numpy().mean(axis=0)
    np.testing.assert_allclose(means, [0.0, 10.0, 20.0], atol=0.02)


def test_errors_name_the_function():
    with pytest.raises(ValueError, match=r"tf.random.uniform: an integer dtype.*needs maxval"):
        tf.random.uniform([2], dtype=tf.int64)
    with pytest.raises(ValueError, match=r"tf\.random\.normal: dtype must be a float"):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(ValueError, match=r"tf\.random\.normal"):
        tf.random.normal([None, 2])
    with pytest.raises(TypeError, match="a seed must be an int"):
        tf.random.set_seed("1")
    with pytest.raises(ValueError, match=r"Generator.uniform: an integer dtype.*needs maxval"):
        tf.random.Generator.from_seed(1).uniform([2], dtype=tf.int32)
    with pytest.raises(ValueError, match="threefry"):
        tf.random.Generator.from_seed(1, alg="threefry")
    with pytest.raises(ValueError, match=r"stateless_normal: seed must be two integers"):
        tf.random.stateless_normal([2], seed=3)


def test_statistics():
    tf.random.set_seed(0)
    n = tf.random.normal([20000], mean=3.0, stddev=2.0).numpy()
    assert abs(n.mean() - 3.0) < 0.05 and abs(n.std() - 2.0) < 0.05
    t = tf.random.truncated_normal([20000], mean=1.0, stddev=0.5).numpy()
    assert np.abs(t - 1.0).max() <= 1.0 and abs(t.mean() - 1.0) < 0.01
    assert abs(t.std() - 0.5 * 0.87962566) < 0.01  # the standard deviation of N(0, 1) cut at +-2
    g = tf.random.gamma([10000], alpha=[2.0, 5.0], beta=2.0)
    assert g.shape == (10000, 2)
    np.testing.assert_allclose(g.numpy().mean(axis=0), [1.0, 2.5], rtol=0.03)
    p = tf.random.poisson([10000], lam=[1.0, 4.0], dtype=tf.int32)
    assert p.shape == (10000, 2) and p.dtype == np.int32
    np.testing.assert_allclose(p.numpy().mean(axis=0), [1.0, 4.0], rtol=0.05)


def test_set_seed_makes_the_sequence_of_draws_repeat():
    tf.random.set_seed(1234)
    a, b = tf.random.uniform([3]), tf.random.normal([3])
    assert not np.array_equal(a.numpy(), tf.random.uniform([3]).numpy())
    tf.random.set_seed(1234)
    np.testing.assert_array_equal(a.numpy(), tf.random.uniform([3]).numpy())
    np.testing.assert_array_equal(b.numpy(), tf.random.normal([3]).numpy())


def test_op_seed_gives_the_op_its_own_stream():
    """As TensorFlow's eager kernels: successive calls with seed=1 give A1, A2, ...; set_seed starts over; draws of
    other ops in between do not change the stream."""
    tf.random.set_seed(1234)
    a1, a2 = tf.random.uniform([2], seed=1), tf.random.uniform([2], seed=1)
    assert not np.array_equal(a1.numpy(), a2.numpy())
    tf.random.set_seed(1234)
    tf.random.normal([10])
    tf.random.uniform([2], seed=2)
    np.testing.assert_array_equal(tf.random.uniform([2], seed=1).numpy(), a1.numpy())
    np.testing.assert_array_equal(tf.random.uniform([2], seed=1).numpy(), a2.numpy())
    tf.random.set_seed(99)
    assert not np.array_equal(tf.random.uniform([2], seed=1).numpy(), a1.numpy())


def test_op_seed_without_global_seed_repeats_from_run_to_run():
    tf.random.set_seed(None)
    first = tf.random.normal([4], seed=7).numpy()
    tf.random.normal([4])
    tf.random.set_seed(None)  # what a fresh process starts with
    np.testing.assert_array_equal(tf.random.normal([4], seed=7).numpy(), first)


def test_set_seed_drives_initializers_dropout_and_shuffling():
    def run():
        layer = tf.keras.layers.Dense(4)
        layer.build((None, 3))
        mask = tf.nn.dropout(tf.ones([20]), 0.5).numpy()
        order = list(tf.data.Dataset.from_tensor_slices(np.arange(8)).shuffle(8).as_numpy_iterator())
        return layer.kernel.numpy().copy(), mask, order

    tf.random.set_seed(3)
    first = run()
    tf.keras.utils.set_random_seed(3)  # Keras's helper seeds the same source
    for a, b in zip(first, run()):
        np.testing.assert_array_equal(a, b)


def test_categorical():
    tf.random.set_seed(0)
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]))
    s = tf.random.categorical(logits, 20000)
    assert s.shape == (2, 20000) and s.dtype == np.int64
    freq = np.stack([np.bincount(row, minlength=3) / 20000 for row in s.numpy()])
    np.testing.assert_allclose(freq, np.exp(logits), atol=0.015)
    never = tf.random.categorical([[0.0, -np.inf, 0.0]], 500, dtype=tf.int32)
    assert never.dtype == np.int32 and 1 not in never.numpy()
    with pytest.raises(ValueError, match=r"2\-D"):
        tf.random.categorical([0.0, 1.0], 3)


def test_shuffle_permutes_the_first_axis():
    x = np.arange(20).reshape(10, 2)
    y = tf.random.shuffle(x).numpy()
    assert sorted(map(tuple, y)) == sorted(map(tuple, x)) and y.shape == (10, 2)
    tf.random.set_seed(4)
    a = tf.random.shuffle(x, seed=2).numpy()
    tf.random.set_seed(4)
    np.testing.assert_array_equal(tf.random.shuffle(x, seed=2).numpy(), a)


def test_generator():
    g1, g2 = tf.random.Generator.from_seed(42), tf.random.Generator.from_seed(42)
    np.testing.assert_array_equal(g1.normal([3, 2]).numpy(), g2.normal([3, 2]).numpy())
    tf.random.set_seed(1)  # the global seed does not touch a generator's own state
    np.testing.assert_array_equal(g1.uniform([3]).numpy(), g2.uniform([3]).numpy())
    u = g1.uniform([100], minval=0, maxval=5, dtype=tf.int64).numpy()
    assert u.dtype == np.int64 and u.min() >= 0 and u.max() < 5
    assert np.abs(g1.truncated_normal([100]).numpy()).max() <= 2
    c1, c2 = g1.split(2)
    assert not np.array_equal(c1.normal([4]).numpy(), c2.normal([4]).numpy())
    assert g1.make_seeds(3).shape == (2, 3)
    copy = tf.random.Generator(copy_from=g1)
    np.testing.assert_array_equal(copy.normal([3]).numpy(), g1.normal([3]).numpy())
    assert tf.random.Generator.from_non_deterministic_state().normal([2]).shape == (2,)
