"""tf's array functions (shendu/tf/array_ops.py): values against NumPy (and PyTorch where NumPy has no twin),
gradients by finite differences in float64, TensorFlow's argument conventions and errors."""

import numpy as np
import pytest

import shendu as tf


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


X = rand(2, 3, 4)


def test_reshape():
    np.testing.assert_array_equal(tf.reshape(X, [4, -1]).numpy(), X.reshape(4, -1))
    np.testing.assert_array_equal(tf.reshape(X, tf.constant([6, 4])).numpy(), X.reshape(6, 4))
    assert tf.reshape(tf.constant(3.0), [1, 1]).shape == (1, 1)
    assert tf.gradcheck(lambda t: tf.reshape(t, (3, -1)) * np.arange(8.0), [X])
    with pytest.raises(ValueError, match=r"tf.reshape: cannot reshape a tensor of 24 values \(shape \(2, 3, 4\)\)"):
        tf.reshape(X, [5, -1])
    with pytest.raises(ValueError, match=r"tf.reshape"):
        tf.reshape(X, [-1, -1])


def test_transpose():
    np.testing.assert_array_equal(tf.transpose(X).numpy(), X.T)
    np.testing.assert_array_equal(tf.transpose(X, perm=[1, 0, 2]).numpy(), X.transpose(1, 0, 2))
    assert tf.gradcheck(lambda t: tf.transpose(t, [2, 0, 1]) * np.arange(24.0).reshape(4, 2, 3), [X])
    with pytest.raises(ValueError, match=r"tf.transpose: perm \[0, 0, 1\] is not a permutation"):
        tf.transpose(X, [0, 0, 1])


def test_concat_and_stack():
    a, b = rand(2, 3), rand(2, 5, seed=1)
    np.testing.assert_array_equal(tf.concat([a, b], axis=1).numpy(), np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(tf.concat([a, a], -2).numpy(), np.concatenate([a, a], axis=0))
    np.testing.assert_array_equal(tf.stack([a, a], axis=-1).numpy(), np.stack([a, a], axis=-1))
    np.testing.assert_array_equal(tf.stack([1, 2]).numpy(), [1, 2])
    assert tf.concat([tf.constant([1.0]), [2.0]], 0).dtype == tf.float32
    assert tf.gradcheck(lambda s, t: tf.concat([s, t], axis=-1), [a, b])
    assert tf.gradcheck(lambda s, t: tf.stack([s, t], axis=1), [a, a + 1])
    with pytest.raises(ValueError, match=r"tf.concat: shapes \[\(2, 3\), \(2, 5\)\] differ outside axis 0"):
        tf.concat([a, b], 0)
    with pytest.raises(ValueError, match=r"tf.stack: all shapes must be equal"):
        tf.stack([a, b])


def test_unstack_and_split():
    parts = tf.unstack(X, axis=1)
    assert len(parts) == 3 and all(p.shape == (2, 4) for p in parts)
    np.testing.assert_array_equal(parts[2].numpy(), X[:, 2])
    assert tf.gradcheck(lambda t: tf.unstack(t, axis=-1)[1] * 2, [X])
    halves = tf.split(X, 2, axis=2)
    np.testing.assert_array_equal(halves[1].numpy(), X[:, :, 2:])
    sizes = tf.split(X, [1, -1, 1], axis=-1)
    assert [p.shape for p in sizes] == [(2, 3, 1), (2, 3, 2), (2, 3, 1)]
    np.testing.assert_array_equal(sizes[1].numpy(), X[..., 1:3])
    assert tf.gradcheck(lambda t: tf.split(t, [2, 1], axis=1)[0] * 3, [X])
    with pytest.raises(ValueError, match=r"tf.split: cannot split an axis of length 3 into 2 equal parts"):
        tf.split(X, 2, axis=1)
    with pytest.raises(ValueError, match=r"tf.split: sizes"):
        tf.split(X, [1, 1], axis=1)
    with pytest.raises(ValueError, match=r"tf.unstack: num=2 but axis 1 has length 3"):
        tf.unstack(X, num=2, axis=1)


def test_tile_and_repeat():
    a = rand(2, 3)
    np.testing.assert_array_equal(tf.tile(a, [2, 3]).numpy(), np.tile(a, (2, 3)))
    np.testing.assert_array_equal(tf.tile(a, [1, 0]).numpy(), np.tile(a, (1, 0)))
    assert tf.gradcheck(lambda t: tf.tile(t, [3, 2]), [a])
    np.testing.assert_array_equal(tf.repeat(a, 2).numpy(), np.repeat(a, 2))
    np.testing.assert_array_equal(tf.repeat(a, [1, 0, 3], axis=1).numpy(), np.repeat(a, [1, 0, 3], axis=1))
    np.testing.assert_array_equal(tf.repeat(a, 3, axis=-2).numpy(), np.repeat(a, 3, axis=0))
    assert tf.gradcheck(lambda t: tf.repeat(t, [2, 1, 3], axis=1), [a])
    with pytest.raises(ValueError, match=r"tf.tile: multiples must be 2"):
        tf.tile(a, [2])
    with pytest.raises(ValueError, match=r"tf.repeat: repeats must be one count or 3"):
        tf.repeat(a, [1, 2], axis=1)


def test_gather():
    idx = np.array([[2, 0], [1, 1]])
    np.testing.assert_array_equal(tf.gather(X, idx, axis=1).numpy(), np.take(X, idx, axis=1))
    np.testing.assert_array_equal(tf.gather([10, 20, 30], [2, 2, 0]).numpy(), [30, 30, 10])
    assert tf.gradcheck(lambda t: tf.gather(t, idx, axis=-1), [X])  # repeated indices add up
    table = rand(5, 3)  # rows of a matrix: the embedding op
    np.testing.assert_array_equal(tf.gather(table, idx).numpy(), table[idx])
    assert tf.gradcheck(lambda t: tf.gather(t, [[4, 0], [4, 4]]), [table])
    assert tf.gradcheck(lambda t: tf.gather(t, 1), [table])
    with pytest.raises(IndexError, match=r"tf.gather: index 3 is not in \[0, 3\)"):
        tf.gather(X, [0, 3], axis=1)
    with pytest.raises(TypeError, match=r"tf.gather: indices must be integers"):
        tf.gather(X, [0.5])


@pytest.mark.parametrize("axis", [1, 2])
def test_gather_with_batch_dims(axis):
    params = rand(2, 3, 4)
    idx = np.array([[0, 2, 1, 1, 0], [2, 2, 0, 1, 0]]) % params.shape[axis]
    expected = np.stack([np.take(params[b], idx[b], axis=axis - 1) for b in range(2)])
    np.testing.assert_array_equal(tf.gather(params, idx, axis=axis, batch_dims=1).numpy(), expected)
    assert tf.gradcheck(lambda t: tf.gather(t, idx, axis=axis, batch_dims=-1), [params])
    with pytest.raises(ValueError, match=r"tf.gather: batch_dims=1"):
        tf.gather(params, idx[:1], axis=axis, batch_dims=1)


def test_gather_nd():
    idx = np.array([[0, 1], [1, 2], [0, 1]])
    np.testing.assert_array_equal(tf.gather_nd(X, idx).numpy(), X[idx[:, 0], idx[:, 1]])
    np.testing.assert_array_equal(tf.gather_nd(X, [[1, 2, 3]]).numpy(), [X[1, 2, 3]])
    np.testing.assert_array_equal(tf.gather_nd([["a", "b"], ["c", "d"]], [[1], [0]]).numpy(),
                                  np.array([["c", "d"], ["a", "b"]], dtype=object))
    batch_idx = np.array([[[1]], [[0]]])  # one pick per batch element from its own rows
    np.testing.assert_array_equal(tf.gather_nd(X, batch_idx, batch_dims=1).numpy(), np.stack([X[0, [1]], X[1, [0]]]))
    assert tf.gradcheck(lambda t: tf.gather_nd(t, idx), [X])
    assert tf.gradcheck(lambda t: tf.gather_nd(t, batch_idx, batch_dims=1), [X])
    with pytest.raises(IndexError, match=r"tf.gather_nd: index 3 is not in \[0, 3\)"):
        tf.gather_nd(X, [[0, 3]])


def test_boolean_mask():
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(tf.boolean_mask(X, mask, axis=1).numpy(), X[:, mask])
    mask2 = X[0] > 0
    np.testing.assert_array_equal(tf.boolean_mask(X, mask2, axis=1).numpy(), X[:, mask2])
    np.testing.assert_array_equal(tf.boolean_mask([1, 2, 3, 4], [True, False, True, False]).numpy(), [1, 3])
    assert tf.gradcheck(lambda t: tf.boolean_mask(t, mask, axis=1), [X])
    with pytest.raises(ValueError, match=r"tf.boolean_mask: mask of shape \(2,\) does not match"):
        tf.boolean_mask(X, [True, False], axis=1)
    with pytest.raises(ValueError, match=r"tf.boolean_mask: mask must be a boolean tensor"):
        tf.boolean_mask(X, [1, 0, 1], axis=1)


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
def test_pad_modes(mode):
    a = rand(3, 4)
    widths = [[1, 2], [2, 3]]
    kwargs = {"constant_values": 0.5} if mode == "CONSTANT" else {}
    np_kwargs = kwargs if mode == "CONSTANT" else {}
    expected = np.pad(a, widths, mode=mode.lower(), **np_kwargs)
    np.testing.assert_array_equal(tf.pad(a, widths, mode, **kwargs).numpy(), expected)
    assert tf.gradcheck(lambda t: tf.pad(t, widths, mode), [a])


def test_pad_against_tensorflow_examples_and_errors():
    t = tf.constant([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(tf.pad(t, [[1, 1], [2, 2]]).numpy()[1], [0, 0, 1, 2, 3, 0, 0])
    np.testing.assert_array_equal(tf.pad(t, [[1, 1], [2, 2]], "REFLECT").numpy()[0], [6, 5, 4, 5, 6, 5, 4])
    np.testing.assert_array_equal(tf.pad(t, [[1, 1], [2, 2]], "SYMMETRIC").numpy()[0], [2, 1, 1, 2, 3, 3, 2])
    with pytest.raises(ValueError, match=r"tf.pad: paddings must be 2 pairs"):
        tf.pad(t, [[1, 1]])
    with pytest.raises(ValueError, match=r"tf.pad: REFLECT padding of shape"):
        tf.pad(t, [[2, 0], [0, 0]], "REFLECT")
    with pytest.raises(ValueError, match=r"tf.pad: mode must be"):
        tf.pad(t, [[1, 1], [1, 1]], "EDGE")


def test_squeeze_and_expand_dims():
    a = rand(1, 3, 1)
    assert tf.squeeze(a).shape == (3,) and tf.squeeze(a, axis=[-1]).shape == (1, 3)
    assert tf.squeeze(a, 0).shape == (3, 1)
    assert tf.expand_dims(a, 0).shape == (1, 1, 3, 1) and tf.expand_dims(a, -1).shape == (1, 3, 1, 1)
    assert tf.expand_dims(a, 3).shape == (1, 3, 1, 1)
    assert tf.gradcheck(lambda t: tf.expand_dims(tf.squeeze(t), 1) * np.arange(3.0)[:, None], [a])
    with pytest.raises(ValueError, match=r"tf.squeeze: cannot squeeze axes \[1\]"):
        tf.squeeze(a, axis=1)
    with pytest.raises(ValueError, match=r"tf.expand_dims: axis 5 is out of range"):
        tf.expand_dims(a, 5)


def test_slice_strided_slice_reverse():
    np.testing.assert_array_equal(tf.slice(X, [1, 0, 1], [1, 2, -1]).numpy(), X[1:2, 0:2, 1:])
    assert tf.gradcheck(lambda t: tf.slice(t, [0, 1, 0], [2, 2, 3]), [X])
    with pytest.raises(ValueError, match=r"tf.slice: begin"):
        tf.slice(X, [0, 2, 0], [1, 2, 1])
    np.testing.assert_array_equal(tf.strided_slice(X, [0, 0, 3], [2, 3, 0], [1, 2, -1]).numpy(), X[0:2, 0:3:2, 3:0:-1])
    np.testing.assert_array_equal(tf.strided_slice(X, [1, 0], [0, 2], begin_mask=0b10, shrink_axis_mask=0b1).numpy(),
                                  X[1, :2])
    np.testing.assert_array_equal(tf.strided_slice(X, [0, 0, 1], [0, 0, 3], ellipsis_mask=0b1, new_axis_mask=0b10)
                                  .numpy(), X[..., None, 1:3])
    assert tf.gradcheck(lambda t: tf.strided_slice(t, [0, 2], [2, 0], [1, -1]), [X])
    np.testing.assert_array_equal(tf.reverse(X, [0, -1]).numpy(), X[::-1, :, ::-1])
    assert tf.gradcheck(lambda t: tf.reverse(t, [1]) * np.arange(24.0).reshape(2, 3, 4), [X])


def test_roll():
    np.testing.assert_array_equal(tf.roll([0, 1, 2, 3, 4], 2, 0).numpy(), [3, 4, 0, 1, 2])
    np.testing.assert_array_equal(tf.roll(X, [1, -2], [0, 2]).numpy(), np.roll(X, (1, -2), (0, 2)))
    assert tf.gradcheck(lambda t: tf.roll(t, 5, axis=-1) * np.arange(4.0), [X])


def test_broadcast_to():
    a = rand(3, 1)
    np.testing.assert_array_equal(tf.broadcast_to(a, [2, 3, 4]).numpy(), np.broadcast_to(a, (2, 3, 4)))
    assert tf.gradcheck(lambda t: tf.broadcast_to(t, [2, 3, 4]), [a])
    with pytest.raises(ValueError, match=r"tf.broadcast_to: cannot broadcast shape \(3, 1\) to \[2, 4\]"):
        tf.broadcast_to(a, [2, 4])


def test_meshgrid():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])
    for indexing in ("xy", "ij"):
        ours = tf.meshgrid(x, y, indexing=indexing)
        for o, e in zip(ours, np.meshgrid(x, y, indexing=indexing)):
            np.testing.assert_array_equal(o.numpy(), e)
    three = tf.meshgrid(x, y, [7, 8, 9, 10])
    assert [t.shape for t in three] == [(2, 3, 4)] * 3
    assert tf.gradcheck(lambda s, t: tf.meshgrid(s, t)[0] * tf.meshgrid(s, t)[1], [x, y])
    with pytest.raises(TypeError, match=r"tf.meshgrid"):
        tf.meshgrid(x, y, indexing="xyz")


def test_sort_and_argsort():
    a = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, -1.0, 4.0, 0.0]])
    np.testing.assert_array_equal(tf.sort(a).numpy(), np.sort(a))
    np.testing.assert_array_equal(tf.sort(a, axis=0, direction="DESCENDING").numpy(), -np.sort(-a, axis=0))
    np.testing.assert_array_equal(tf.argsort(a).numpy(), [[1, 3, 2, 0], [1, 3, 0, 2]])
    np.testing.assert_array_equal(tf.argsort(a, direction="DESCENDING").numpy(), [[0, 2, 1, 3], [2, 0, 3, 1]])
    assert tf.argsort(a).dtype == tf.int32
    distinct = rand(3, 4)
    assert tf.gradcheck(lambda t: tf.sort(t, axis=0, direction="DESCENDING") * np.arange(12.0).reshape(3, 4),
                        [distinct])
    with pytest.raises(ValueError, match=r"tf.sort: direction must be 'ASCENDING' or 'DESCENDING'"):
        tf.sort(a, direction="ascending")


def test_unique():
    y, idx = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])
    np.testing.assert_array_equal(y.numpy(), [1, 2, 4, 7, 8])
    np.testing.assert_array_equal(idx.numpy(), [0, 0, 1, 2, 2, 2, 3, 4, 4])
    result = tf.unique([5, 3, 5, 1], out_idx=tf.int64)
    np.testing.assert_array_equal(result.y.numpy(), [5, 3, 1])  # order of first appearance, not sorted
    assert result.idx.dtype == tf.int64 and result.idx.numpy().tolist() == [0, 1, 0, 2]
    with pytest.raises(ValueError, match=r"tf.unique: x must be 1-D"):
        tf.unique([[1, 2]])


def test_scatter_nd_and_tensor_scatter():
    out = tf.scatter_nd([[4], [3], [1], [7]], [9.0, 10.0, 11.0, 12.0], [8])
    np.testing.assert_array_equal(out.numpy(), [0, 11, 0, 10, 9, 0, 0, 12])
    rows = tf.scatter_nd([[0], [2], [0]], np.ones((3, 2)), [3, 2])
    np.testing.assert_array_equal(rows.numpy(), [[2, 2], [0, 0], [1, 1]])  # repeated indices add up
    idx = np.array([[0, 1], [1, 0], [0, 1]])
    assert tf.gradcheck(lambda u: tf.scatter_nd(idx, u, [2, 3]), [rand(3)])
    base = rand(2, 3)
    updated = tf.tensor_scatter_nd_update(base, [[0, 2], [1, 1]], [7.0, 8.0])
    expected = base.copy()
    expected[0, 2], expected[1, 1] = 7.0, 8.0
    np.testing.assert_array_equal(updated.numpy(), expected)
    assert tf.gradcheck(lambda t, u: tf.tensor_scatter_nd_update(t, [[0, 2], [1, 1]], u), [base, rand(2)])
    added = tf.tensor_scatter_nd_add(base, [[1]], [[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(added.numpy(), base + np.array([[0, 0, 0], [1, 2, 3]]))
    assert tf.gradcheck(lambda t, u: tf.tensor_scatter_nd_add(t, [[1], [1]], u), [base, rand(2, 3)])
    with pytest.raises(ValueError, match=r"tf.scatter_nd: indices"):
        tf.scatter_nd([[0]], [1.0, 2.0], [3])
    with pytest.raises(IndexError, match=r"tf.tensor_scatter_nd_update: index 5 is not in \[0, 3\)"):
        tf.tensor_scatter_nd_update(base, [[0, 5]], [1.0])


def test_sequence_mask():
    np.testing.assert_array_equal(tf.sequence_mask([1, 3, 2], 5).numpy(),
                                  [[1, 0, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]])
    mask = tf.sequence_mask([[1, 3], [2, 0]])
    assert mask.dtype == np.bool_ and mask.shape == (2, 2, 3)
    assert tf.sequence_mask([2], 3, dtype=tf.float32).numpy().tolist() == [[1.0, 1.0, 0.0]]


def test_accepts_variables_and_gradient_reaches_them():
    v = tf.Variable(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    (tf.gather(v, [1, 1], axis=0).sum() + tf.pad(v, [[1, 0], [0, 2]], "SYMMETRIC").sum()).backward()
    np.testing.assert_array_equal(v.grad.numpy(), [[2, 4, 4], [3, 4, 4]])  # pad: row 0 twice, columns 1, 2 twice


def test_matches_torch(torch):
    a = rand(2, 3, 4)
    np.testing.assert_allclose(tf.tile(a, [1, 2, 1]).numpy(), torch.tensor(a).repeat(1, 2, 1).numpy())
    np.testing.assert_allclose(tf.pad(a[0], [[1, 1], [2, 2]], "REFLECT").numpy(),
                               torch.nn.functional.pad(torch.tensor(a[0])[None], (2, 2, 1, 1), mode="reflect")[0]
                               .numpy())
    np.testing.assert_allclose(tf.roll(a, 2, 1).numpy(), torch.roll(torch.tensor(a), 2, 1).numpy())
