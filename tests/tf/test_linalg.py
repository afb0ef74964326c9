"""tf.linalg and the top-level products and norms (shendu/tf/linalg.py, shendu/ops/linalg.py, shendu/ops/einsum.py):
values against NumPy (PyTorch for einsum's gradients), gradients by finite differences in float64."""

import numpy as np
import pytest

import shendu as tf


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def well_conditioned(*batch, n=3, seed=0):
    return rand(*batch, n, n, seed=seed) + 3 * np.eye(n)


def test_matmul_flags_and_broadcasting():
    a, b = rand(2, 3, 4), rand(4, 5, seed=1)
    np.testing.assert_allclose(tf.matmul(a, b).numpy(), a @ b)
    np.testing.assert_allclose(tf.matmul(b, a, transpose_a=True, transpose_b=True).numpy(),
                               b.T @ a.transpose(0, 2, 1))
    np.testing.assert_allclose(tf.matmul(a, a, adjoint_b=True).numpy(), a @ a.transpose(0, 2, 1))
    assert tf.linalg.matmul is tf.matmul
    assert tf.gradcheck(lambda s, t: tf.matmul(s, t, transpose_b=True), [a, rand(5, 4, seed=2)])
    with pytest.raises(ValueError, match=r"tf.matmul: both inputs need rank >= 2"):
        tf.matmul(rand(3), rand(3, 2))
    with pytest.raises(ValueError, match=r"tf.matmul: the inner dimensions differ: shapes \(2, 3, 4\) and \(5, 4\)"):
        tf.matmul(a, rand(5, 4))
    with pytest.raises(ValueError, match=r"tf.matmul: transpose and adjoint"):
        tf.matmul(a, b, transpose_a=True, adjoint_a=True)


def test_matvec():
    a, v = rand(2, 3, 4), rand(4, seed=1)
    np.testing.assert_allclose(tf.linalg.matvec(a, v).numpy(), a @ v)
    np.testing.assert_allclose(tf.linalg.matvec(a, rand(2, 3), transpose_a=True).numpy(),
                               np.einsum("bij,bi->bj", a, rand(2, 3)))
    assert tf.gradcheck(lambda s, t: tf.linalg.matvec(s, t), [a, v])


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij,k->i", [(2, 3), (4,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("bij,jk,bk->bi", [(2, 3, 4), (4, 5), (2, 5)]),
    ("iij->ij", [(2, 2, 3)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUMS)
def test_einsum_values_and_gradients(equation, shapes):
    xs = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_allclose(tf.einsum(equation, *xs).numpy(), np.einsum(equation, *xs), rtol=1e-12)
    assert tf.gradcheck(lambda *ts: tf.einsum(equation, *ts), xs)


def test_einsum_gradients_match_torch(torch):
    a, b = rand(2, 3, 4), rand(4, 3, seed=1)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    torch.einsum("bij,ji->b", ta, tb).sum().backward()
    sa, sb = tf.Variable(a), tf.Variable(b)
    tf.einsum("bij,ji->b", sa, sb).sum().backward()
    np.testing.assert_allclose(sa.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(sb.grad.numpy(), tb.grad.numpy())


def test_einsum_errors():
    with pytest.raises(ValueError, match=r"tf.einsum: the equation 'ij,jk->ik' has 2 inputs, but 1 were given"):
        tf.einsum("ij,jk->ik", rand(2, 3))
    with pytest.raises(ValueError, match=r"tf.einsum: subscripts 'ijk' do not fit an input of 2 dimensions"):
        tf.einsum("ijk->i", rand(2, 3))
    with pytest.raises(TypeError, match=r"tf.einsum: unexpected keyword"):
        tf.einsum("ij->i", rand(2, 3), axis=1)


def test_tensordot():
    a, b = rand(2, 3, 4), rand(3, 4, 5, seed=1)
    np.testing.assert_allclose(tf.tensordot(a, b, 2).numpy(), np.tensordot(a, b, 2))
    np.testing.assert_allclose(tf.tensordot(a, b, [[1], [0]]).numpy(), np.tensordot(a, b, [[1], [0]]))
    np.testing.assert_allclose(tf.tensordot(a, b, [[2, 1], [1, 0]]).numpy(), np.tensordot(a, b, [[2, 1], [1, 0]]))
    np.testing.assert_allclose(tf.tensordot(rand(3), rand(4, seed=1), 0).numpy(), np.outer(rand(3), rand(4, seed=1)))
    np.testing.assert_allclose(tf.tensordot(a, b, [1, 0]).numpy(), np.tensordot(a, b, [1, 0]))
    assert tf.gradcheck(lambda s, t: tf.tensordot(s, t, [[1, 2], [0, 1]]), [a, b])
    with pytest.raises(ValueError, match=r"tf.tensordot: axes"):
        tf.tensordot(a, b, [[0], [0]])


@pytest.mark.parametrize(("ord", "axis"), [("euclidean", None), (2, 1), (1, 0), (np.inf, -1), (3, None),
                                           (0.5, 1), ("fro", (0, 1)), ("euclidean", [1, 2]), (1, (1, 2)),
                                           (np.inf, (2, 1))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord, axis, keepdims):
    x = rand(2, 3, 4)
    if axis is None:
        expected = np.linalg.norm(x.reshape(-1), ord=2 if ord == "euclidean" else ord)
        expected = np.reshape(expected, (1, 1, 1)) if keepdims else expected
    else:
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else axis
        np_ord = "fro" if ord == "euclidean" and isinstance(axes, tuple) else 2 if ord == "euclidean" else ord
        expected = np.linalg.norm(x, ord=np_ord, axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(tf.norm(x, ord=ord, axis=axis, keepdims=keepdims).numpy(), expected, rtol=1e-12)
    assert tf.gradcheck(lambda t: tf.norm(t, ord=ord, axis=axis, keepdims=keepdims), [x])
    assert tf.linalg.norm is tf.norm


def test_norm_errors():
    with pytest.raises(ValueError, match=r"tf.norm: vector norms take ord"):
        tf.norm(rand(3), ord="fro")
    with pytest.raises(NotImplementedError, match=r"tf.norm: the matrix 2-norm"):
        tf.norm(rand(3, 3), ord=2, axis=[0, 1])
    with pytest.raises(ValueError, match=r"tf.norm: axis must be None"):
        tf.norm(rand(3, 3), axis=[0, 0])


def test_inv_det_slogdet_logdet_solve():
    a = well_conditioned(2)
    np.testing.assert_allclose(tf.linalg.inv(a).numpy(), np.linalg.inv(a))
    np.testing.assert_allclose(tf.linalg.inv(a, adjoint=True).numpy(), np.linalg.inv(a.transpose(0, 2, 1)))
    np.testing.assert_allclose(tf.linalg.det(a).numpy(), np.linalg.det(a))
    sign, logabs = tf.linalg.slogdet(-a)
    np.testing.assert_allclose(sign.numpy(), np.linalg.slogdet(-a)[0])
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(-a)[1])
    spd = a @ a.transpose(0, 2, 1)
    np.testing.assert_allclose(tf.linalg.logdet(spd).numpy(), np.log(np.linalg.det(spd)))
    b = rand(2, 3, 2, seed=1)
    np.testing.assert_allclose(tf.linalg.solve(a, b).numpy(), np.linalg.solve(a, b))
    np.testing.assert_allclose(tf.linalg.solve(a, b, adjoint=True).numpy(), np.linalg.solve(a.transpose(0, 2, 1), b))
    assert tf.gradcheck(tf.linalg.inv, [a])
    assert tf.gradcheck(tf.linalg.det, [a])
    assert tf.gradcheck(lambda t: tf.linalg.slogdet(t)[1], [-a])
    assert tf.gradcheck(tf.linalg.solve, [a, b])
    assert tf.gradcheck(lambda s, t: tf.linalg.solve(s, t), [a[0], b])  # one matrix for a batch of right sides
    for f in (tf.linalg.inv, tf.linalg.det, tf.linalg.logdet):  # a single matrix, not a batch
        assert tf.gradcheck(f, [spd[0]])
    with pytest.raises(ValueError, match=r"tf.linalg.inv: expected square matrices, got shape \(2, 3\)"):
        tf.linalg.inv(rand(2, 3))
    with pytest.raises(TypeError, match=r"tf.linalg.det: expected a float tensor"):
        tf.linalg.det(np.eye(2, dtype=int))
    with pytest.raises(ValueError, match=r"tf.linalg.solve: rhs must have shape \[..., 3, K\]"):
        tf.linalg.solve(a, rand(2, 3))


@pytest.mark.parametrize("k", [0, 1, -2])
def test_diag_and_diag_part(k):
    m = rand(2, 3, 4)
    expected = np.stack([np.diagonal(mat, offset=k) for mat in m])
    np.testing.assert_array_equal(tf.linalg.diag_part(m, k=k).numpy(), expected)
    assert tf.gradcheck(lambda t: tf.linalg.diag_part(t, k=k), [m])
    v = rand(2, 3)
    np.testing.assert_array_equal(tf.linalg.diag(v, k=k).numpy(), np.stack([np.diag(row, k) for row in v]))
    assert tf.gradcheck(lambda t: tf.linalg.diag(t, k=k), [v])


def test_diag_unsupported_arguments_say_so():
    with pytest.raises(NotImplementedError, match=r"tf.linalg.diag_part: a band of diagonals"):
        tf.linalg.diag_part(rand(3, 3), k=(0, 1))
    with pytest.raises(NotImplementedError, match=r"tf.linalg.diag: num_rows"):
        tf.linalg.diag(rand(3), num_rows=5)


def test_trace_band_part_transposes_eye():
    m = rand(2, 3, 3)
    np.testing.assert_allclose(tf.linalg.trace(m).numpy(), np.trace(m, axis1=1, axis2=2))
    assert tf.gradcheck(tf.linalg.trace, [m])
    full = rand(4, 5)
    for lower, upper in [(0, -1), (-1, 0), (1, 1), (0, 0), (-1, -1)]:
        i, j = np.ogrid[:4, :5]
        keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
        np.testing.assert_array_equal(tf.linalg.band_part(full, lower, upper).numpy(), np.where(keep, full, 0))
    assert tf.gradcheck(lambda t: tf.linalg.band_part(t, 1, 0), [full])
    np.testing.assert_array_equal(tf.linalg.matrix_transpose(m).numpy(), m.transpose(0, 2, 1))
    assert tf.linalg.transpose is tf.linalg.matrix_transpose
    np.testing.assert_array_equal(tf.linalg.adjoint(full).numpy(), full.T)
    np.testing.assert_array_equal(tf.linalg.eye(2).numpy(), np.eye(2))
    assert tf.linalg.l2_normalize is tf.math.l2_normalize
    assert tf.gradcheck(tf.linalg.matrix_transpose, [m])
