"""The compiled forward and backward of a dense stack (shendu/ops/kernels_dense.py) against the ops it fuses (Linear,
LinearReLU, SparseSoftmaxCrossEntropy), its reference: the loss, its gradient, every weight gradient and the hits."""

import itertools

import numpy as np
import pytest

from shendu.ops import blas
from shendu.ops.losses import SparseSoftmaxCrossEntropy
from shendu.ops.nn import Linear, LinearReLU


@pytest.fixture
def kernel(numba):
    from shendu.ops import kernels_dense

    if blas.sgemm() is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS that shendu can reach")
    return kernels_dense


NO_MASK = np.empty((0, 0), np.float32)


class _In:
    requires_grad = True


class _Mask:
    """A Dropout op with a given scaled mask (`ops.nn.Dropout`'s forward and backward)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, a):
        return a * self.mask

    def backward(self, g):
        return (g * self.mask,)


def _reference(x, labels, ws, bs, relus, reduction, drops):
    """Loss, (dW, db) per layer and hits from the ops, as the lean step runs them."""
    ops, a = [], x
    for w, b, relu, drop in zip(ws, bs, relus, drops):
        op = (LinearReLU if relu else Linear)()
        op.inputs = (_In(), _In()) if b is None else (_In(), _In(), _In())
        a = op.forward(a, w) if b is None else op.forward(a, w, b)
        ops.append(op)
        if drop.size:
            ops.append(_Mask(drop))
            a = ops[-1].forward(a)
    loss_op = SparseSoftmaxCrossEntropy(labels=labels, reduction=reduction)
    loss = loss_op.forward(a)
    (g,) = loss_op.backward(np.ones((), np.float32))
    grads = []
    for op in reversed(ops):
        if isinstance(op, _Mask):
            (g,) = op.backward(g)
            continue
        dx, dw, *db = op.backward(g)
        grads.append((dw, db[0] if db else None))
        g = dx
    return float(loss), grads[::-1], int(np.count_nonzero(a.argmax(axis=1) == labels)), g


def _stack(rng, sizes, bias):
    ws = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32) for a, b in itertools.pairwise(sizes)]
    bs = [(0.1 * rng.standard_normal(b)).astype(np.float32) if bias else None for b in sizes[1:]]
    return ws, bs


@pytest.mark.parametrize("n", [1, 7, 64])
@pytest.mark.parametrize(("sizes", "relus", "bias"), [
    ((30, 16, 12, 5), (True, True, False), True),
    ((30, 16, 12, 5), (True, False, False), False),  # a linear hidden layer, no biases
    ((9, 4), (False,), True),  # one layer: no input gradient at all
])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
@pytest.mark.parametrize("dropout", [False, True])
def test_dense_step_equals_the_ops(kernel, n, sizes, relus, bias, reduction, dropout):
    rng = np.random.default_rng(n)
    ws, bs = _stack(rng, sizes, bias)
    x = rng.standard_normal((n, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], n)
    drops = tuple((rng.random((n, w.shape[1])) >= 0.3).astype(np.float32) / np.float32(0.7)
                  if dropout and i < len(ws) - 1 else NO_MASK for i, w in enumerate(ws))
    loss, grads, hits, want_dx = _reference(x, labels, ws, bs, relus, reduction, drops)
    empty = np.empty(0, np.float32)
    dws = tuple(np.full_like(w, np.nan) for w in ws)
    dbs = tuple(np.full(w.shape[1] if bias else 0, np.nan, np.float32) for w in ws)
    factor = 1.0 / n if reduction != "sum" else 1.0
    dx = np.full_like(x, np.nan)
    none = ((empty, empty),) * len(ws)
    total, got_hits = kernel.dense_step(blas.sgemm(), x, labels, tuple(ws), tuple(b if bias else empty for b in bs),
                                        np.array(relus), drops, factor, dws, dbs, dx, False, none, none,
                                        (np.float32(0),) * 6, NO_MASK, False)
    assert got_hits == hits
    np.testing.assert_allclose(total * factor, loss, rtol=1e-6)
    np.testing.assert_allclose(dx, want_dx, rtol=2e-5, atol=1e-6)  # the input's gradient, asked for here
    for (dw, db), got_w, got_b in zip(grads, dws, dbs):
        np.testing.assert_allclose(got_w, dw, rtol=2e-5, atol=1e-6)
        if bias:
            np.testing.assert_allclose(got_b, db, rtol=2e-5, atol=1e-6)
    assert any((g != 0).any() for g in dws)


@pytest.mark.parametrize("dropout", [False, True])
def test_blocks_accumulate_to_the_whole_batch(kernel, dropout):
    """Rows run in blocks, the later ones with `accumulate`, add up to the gradients of one call on all rows (to
    rounding: the bias sums and the products' sums over rows are split at the blocks), with the same losses and
    hits."""
    rng = np.random.default_rng(3)
    ws, bs = _stack(rng, (30, 16, 12, 5), True)
    x = rng.standard_normal((50, 30)).astype(np.float32)
    labels = rng.integers(0, 5, 50)
    drops = tuple((rng.random((50, w.shape[1])) >= 0.3).astype(np.float32) / np.float32(0.7)
                  if dropout and i < 2 else NO_MASK for i, w in enumerate(ws))
    empty = np.empty(0, np.float32)
    none = ((empty, empty),) * 3
    relus = np.array([True, True, False])

    def run(blocks):
        dws, dbs = tuple(np.full_like(w, np.nan) for w in ws), tuple(np.full_like(b, np.nan) for b in bs)
        total, hits = 0.0, 0
        for k, rows in enumerate(blocks):
            part, part_hits = kernel.dense_step(blas.sgemm(), x[rows], labels[rows], tuple(ws), tuple(bs), relus,
                                                tuple(d[rows] for d in drops), 0.02, dws, dbs, NO_MASK, False, none,
                                                none, (np.float32(0),) * 6, NO_MASK, k > 0)
            total, hits = total + part, hits + part_hits
        return total, hits, [*dws, *dbs]

    whole, blocked = run([slice(0, 50)]), run([slice(0, 16), slice(16, 32), slice(32, 50)])
    assert blocked[1] == whole[1]
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-6)
    for got, want in zip(blocked[2], whole[2]):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert all(np.isfinite(g).all() for g in blocked[2])


@pytest.mark.parametrize("defer", [False, True])
@pytest.mark.parametrize("loss_scale", [1.0, np.inf])
def test_fused_adam_equals_adam_after_the_step(kernel, loss_scale, defer):
    """Adam applied inside the step, each variable right after its gradient, gives the weights and slots that
    `kernels.adam` gives after the step, bit for bit; a non-finite loss updates nothing. With the first layer's
    gradient and update deferred to `weight_step` (as the lean step runs it on a worker), the same bits."""
    from shendu.ops.kernels import adam

    rng = np.random.default_rng(5)
    ws, bs = _stack(rng, (30, 16, 12, 5), True)
    x = rng.standard_normal((20, 30)).astype(np.float32) * np.float32(loss_scale)
    labels = rng.integers(0, 5, 20)
    coeffs = tuple(np.float32(c) for c in (0.9, 0.1, 0.999, 0.001, 0.01, 1e-7))
    slots = [(rng.random(a.size, dtype=np.float32), rng.random(a.size, dtype=np.float32)) for a in (*ws, *bs)]
    relus = np.array([True, True, False])

    def run(fused):
        w2, b2 = tuple(w.copy() for w in ws), tuple(b.copy() for b in bs)
        s2 = [(m.copy(), v.copy()) for m, v in slots]
        dws, dbs = tuple(np.full_like(w, np.nan) for w in ws), tuple(np.empty_like(b) for b in bs)
        first = np.full((len(x), ws[0].shape[1]), np.nan, np.float32) if fused and defer else NO_MASK
        total, _ = kernel.dense_step(blas.sgemm(), x, labels, w2, b2, relus, (NO_MASK,) * 3, 0.05, dws, dbs, NO_MASK,
                                     fused, tuple(s2[:3]), tuple(s2[3:]), coeffs, first, False)
        if first.size:  # W_0 untouched so far: its gradient and step are weight_step's
            assert np.isnan(dws[0]).all() and np.array_equal(w2[0], ws[0])
            kernel.weight_step(blas.sgemm(), x, first, dws[0], w2[0], bool(np.isfinite(np.float32(total * 0.05))),
                               s2[0], coeffs)
        if not fused and np.isfinite(dws[0]).all():
            for g, w, (m, v) in zip((*dws, *dbs), (*w2, *b2), s2):
                adam(g.reshape(-1), w.reshape(-1), m, v, *coeffs)
        return [*dws, *w2, *b2, *(a for pair in s2 for a in pair)]

    fused, after = run(True), run(False)
    for a, b in zip(fused, after):
        np.testing.assert_array_equal(a, b)
    changed = any(not np.array_equal(a, w) for a, w in zip(fused[len(ws):], (*ws, *bs)))  # after the dws
    assert changed == np.isfinite(loss_scale)


def test_softmax_cross_entropy_keeps_nan_and_refuses_labels_out_of_range(kernel):
    z = np.array([[1.0, 2.0, 0.5], [np.nan, 0.0, 1.0]], np.float32)
    g = np.empty_like(z)
    total, hits = kernel.softmax_cross_entropy(z, np.array([1, 2]), 0.5, g)
    assert np.isnan(total) and hits == 1  # the first row's maximum is at its label; NaN never wins
    np.testing.assert_allclose(g[0].sum(), 0.0, atol=1e-7)
    assert np.isnan(g[1]).all()
    total, hits = kernel.softmax_cross_entropy(z, np.array([1, 3]), 0.5, g)
    assert np.isnan(total) and hits == -1
    total, hits = kernel.softmax_cross_entropy(z, np.array([-1, 0]), 0.5, g)
    assert hits == -1
