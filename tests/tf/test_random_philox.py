"""tf.random.Generator and the stateless ops give TensorFlow's numbers: the values below were printed by TensorFlow
2.21 for the same calls (float32 to a few units in the last place, integers and float64 exactly), and the states
move on as TensorFlow's do."""

import numpy as np
import pytest

import shendu as tf

F32 = {"rtol": 1e-6, "atol": 1e-6}


def test_a_generator_from_a_seed_draws_what_tensorflow_draws_and_moves_its_state_alike():
    g = tf.random.Generator.from_seed(1)
    assert g.state.numpy().tolist() == [1, 0, 0] and g.algorithm == 1
    np.testing.assert_allclose(g.normal([2, 3]).numpy(), [[0.43842274, -0.53439844, -0.07710262],
                                                          [1.5658046, -0.1012345, -0.2744976]], **F32)
    assert g.state.numpy().tolist() == [1537, 0, 0]
    np.testing.assert_allclose(g.uniform([4]).numpy(), [0.24253201, 0.9569695, 0.27728307, 0.8367728], **F32)
    assert g.state.numpy().tolist() == [2561, 0, 0]


def test_every_distribution_of_a_generator_matches_tensorflow():
    g = tf.random.Generator.from_seed(1)
    np.testing.assert_array_equal(g.normal([3], dtype=tf.float64).numpy(),
                                  [1.3047755394201908, -0.8400973242485322, 0.8239721517327651])
    np.testing.assert_array_equal(g.uniform([3], dtype=tf.float64).numpy(),
                                  [0.5530729531870173, 0.6883399218305304, 0.5287455987954646])
    np.testing.assert_allclose(g.truncated_normal([6]).numpy(),
                               [-0.4495664, 1.6220769, -1.3694807, 0.8306355, -0.63026065, -1.4281083], **F32)
    assert g.state.numpy().tolist() == [3073, 0, 0]
    ints = g.uniform([5], minval=3, maxval=17, dtype=tf.int32).numpy()
    assert ints.dtype == np.int32 and ints.tolist() == [4, 7, 16, 8, 3]
    assert g.uniform([3], minval=-5, maxval=10**12, dtype=tf.int64).numpy().tolist() == [
        598796247684, 858279611354, 378746827879]
    assert g.uniform_full_int([3], dtype=tf.int64).numpy().tolist() == [
        2270308453109003971, 7020696928615024335, 3223421556616617078]
    assert g.uniform_full_int([2], dtype=tf.int32).numpy().tolist() == [-2053509537, -728428498]
    assert g.state.numpy().tolist() == [6401, 0, 0]
    assert [c.state.numpy().tolist() for c in g.split(2)] == [[0, 0, -485430434013206058],
                                                             [0, 0, 540151351822506636]]
    assert g.make_seeds(2).numpy().tolist() == [[-6687305187124047092, 3270964371829247283], [0, 0]]
    assert g.state.numpy().tolist() == [7425, 0, 0]


def test_seeds_states_and_resets_follow_tensorflow():
    assert tf.random.Generator.from_seed(2**70 + 5).state.numpy().tolist() == [5, 64, 0]
    assert tf.random.Generator.from_seed([7, 8]).state.numpy().tolist() == [0, 7, 8]
    assert tf.random.Generator.from_seed(-3).state.numpy().tolist() == [-3, -1, -1]
    g = tf.random.Generator.from_seed(1)
    g.skip(3)
    assert g.state.numpy().tolist() == [769, 0, 0]
    g.reset_from_seed(1)
    first = g.normal([4]).numpy()
    g.reset([1, 0, 0])
    np.testing.assert_array_equal(g.normal([4]).numpy(), first)
    h = tf.random.Generator.from_key_counter(key=0, counter=[1, 0], alg="philox")
    np.testing.assert_array_equal(h.normal([4]).numpy(), first)
    copy = tf.random.Generator(copy_from=h)
    np.testing.assert_array_equal(copy.uniform([3]).numpy(), h.uniform([3]).numpy())
    assert int(tf.random.Generator.from_state([4, 5, 6], alg=tf.random.Algorithm.PHILOX).key) == 6


def test_stateless_ops_depend_on_the_seed_alone_and_match_tensorflow():
    for _ in range(2):
        np.testing.assert_allclose(tf.random.stateless_normal([2, 3], seed=[1, 2]).numpy(),
                                   [[0.5441101, 0.20738031, 0.07356432], [0.04643455, -1.3015898, -0.9538565]],
                                   **F32)
    np.testing.assert_allclose(tf.random.stateless_uniform([2, 3], seed=[1, 2]).numpy(),
                               [[0.8440604, 0.19204533, 0.9962232], [0.1603874, 0.27199018, 0.649346]], **F32)
    np.testing.assert_allclose(tf.random.stateless_truncated_normal([6], seed=[3, 4]).numpy(),
                               [-0.17393383, 1.6723547, 0.34817016, -1.7038907, 0.63851905, -1.3099246], **F32)
    assert tf.random.stateless_uniform([5], seed=[3, 4], minval=0, maxval=10, dtype=tf.int32).numpy().tolist() == [
        3, 7, 2, 9, 7]
    assert tf.random.stateless_uniform([3], seed=[3, 4], minval=None, maxval=None, dtype=tf.int64).numpy().tolist() \
        == [-2882898006462487541, 4520458231610095266, -3428664559879909945]
    scaled = tf.random.stateless_normal([2, 3], seed=[1, 2], mean=5.0, stddev=2.0).numpy()
    np.testing.assert_allclose(scaled, 5.0 + 2.0 * tf.random.stateless_normal([2, 3], seed=[1, 2]).numpy(), rtol=1e-6)


def test_integer_bounds_are_checked():
    g = tf.random.Generator.from_seed(1)
    with pytest.raises(ValueError, match=r"need -2147483648 <= minval < maxval <= 2147483647 for int32, got minval=5"):
        g.uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(ValueError, match=r"maxval=4294967296"):
        tf.random.stateless_uniform([2], seed=[1, 2], minval=0, maxval=2**32, dtype=tf.int32)
    full = g.uniform([1000], minval=-2**31, maxval=2**31 - 1, dtype=tf.int32).numpy()
    assert full.min() < -2**30 and full.max() > 2**30


def test_the_global_generator_can_be_replaced():
    before = tf.random.get_global_generator()
    mine = tf.random.Generator.from_seed(5)
    try:
        tf.random.set_global_generator(mine)
        assert tf.random.get_global_generator() is mine
        with pytest.raises(TypeError, match=r"expected a tf\.random\.Generator"):
            tf.random.set_global_generator(5)
    finally:
        tf.random.set_global_generator(before)


def test_large_draws_are_distributed_as_asked():
    g = tf.random.Generator.from_seed(0)
    z = g.normal([200_000]).numpy()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    t = g.truncated_normal([50_000]).numpy()
    assert np.abs(t).max() < 2 and abs(t.std() - 0.88) < 0.01  # a normal cut at 2 sd has sd 0.8796
    u = g.uniform([100_000], minval=-1.0, maxval=3.0).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.02


def test_a_checkpoint_saves_and_restores_a_generator_state(tmp_path):
    g = tf.random.Generator.from_seed(1)
    g.normal([3])
    checkpoint = tf.train.Checkpoint(generator=g)
    path = checkpoint.write(str(tmp_path / "rng"))
    after_save = g.normal([4]).numpy()
    g.normal([10])
    checkpoint.restore(path)
    np.testing.assert_array_equal(g.normal([4]).numpy(), after_save)
