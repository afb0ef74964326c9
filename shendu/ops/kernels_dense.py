"""The forward and backward of a stack of dense layers (each with a ReLU or none, and a dropout mask or none) under a
softmax cross-entropy, and optionally Adam's update, as one compiled call (numba, the optional `shendu[fast]` extra)
with BLAS's sgemm for the products.

At batch 64 the MNIST MLP's lean step (`models.lean_step`) made about fifty NumPy and compiled calls from Python for
its forward and backward, and they cost more than the arithmetic outside the products. The lean step runs the same
formulas as those ops and is the reference: tests/ops/test_kernels_dense.py compares the two.

Products follow NumPy's matmul for the same operands (`cblas_sgemm`, row-major, the transposes as flags), so they
agree bit for bit; the loss, its gradient and the bias sums accumulate in float64, so they agree to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops.blas import NO_TRANS, ROW_MAJOR
from shendu.ops.kernels import _jit, adam, bias_relu_rows, column_sums, relu_mask_rows

TRANS = 112  # CBLAS_TRANSPOSE.CblasTrans


@_jit
def _gemm(blas: Any, trans_a: int, trans_b: int, a: Any, b: Any, out: Any, beta: float = 0.0) -> None:
    """out = op(a) @ op(b) + beta out by sgemm for C-contiguous float32 arrays, op the transpose where its flag is
    TRANS."""
    m, n = out.shape
    k = a.shape[0] if trans_a == TRANS else a.shape[1]
    blas(ROW_MAJOR, trans_a, trans_b, m, n, k, np.float32(1), a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1],
         np.float32(beta), out.ctypes.data, n)


@_jit
def softmax_cross_entropy(z: Any, labels: Any, factor: float, g: Any) -> tuple[float, int]:
    """Per row of logits z: loss = log(sum e) - (z[label] - max z) with e = exp(z - max z), and its gradient
    g = (e / sum e - onehot(label)) * factor. Returns (the losses summed in float64, the rows whose first maximum is
    at the label: accuracy's hits), or (NaN, -1) when a label is not in [0, classes)."""
    total, hits = 0.0, 0
    f = np.float32(factor)
    for i in range(z.shape[0]):
        if not 0 <= labels[i] < z.shape[1]:
            return np.nan, -1
        top, arg = z[i, 0], 0
        for j in range(1, z.shape[1]):
            if z[i, j] > top:
                top, arg = z[i, j], j
        s = 0.0
        for j in range(z.shape[1]):
            e = np.exp(z[i, j] - top)
            g[i, j] = e
            s += e
        label = labels[i]
        total += np.log(s) - (z[i, label] - top)
        hits += arg == label
        scale = np.float32(f / np.float32(s))
        for j in range(z.shape[1]):
            g[i, j] *= scale
        g[i, label] -= f
    return total, hits


@_jit
def dense_step(blas: Any, x: Any, labels: Any, ws: Any, bs: Any, relus: Any, drops: Any, factor: float, dws: Any,
               dbs: Any, dx: Any, fused: bool, adam_w: Any, adam_b: Any, coeffs: Any,
               first_grad: Any, accumulate: bool) -> tuple[float, int]:
    """Forward: a_{i+1} = relu?(a_i @ W_i + b_i) * drops[i] from a_0 = x (drops[i] a Dropout's scaled mask, or
    empty); the loss of the last (`softmax_cross_entropy`); then backward: g times the dropout mask, masked by the
    ReLU's output (db_i its column sums), dW_i = a_i^T g, g = g W_i^T. Writes dws and dbs (empty biases are
    skipped), and x's gradient into dx unless dx is empty; returns (the losses summed, the hits), or (NaN, -1) and
    no backward when a label is out of range. When fused, with Adam's slots (adam_w[i] = (m, v) of W_i flat,
    adam_b[i] of b_i), each variable takes `kernels.adam`'s step with `coeffs` as soon as its gradient is done (W_i
    after g W_i^T), while the gradient is in cache; a loss that is not finite (as the float32 mean) updates
    nothing. When first_grad is not empty, W_0's gradient and update are left to `weight_step` (on another thread
    while the caller goes on): g at the first layer's output is written into first_grad instead. When accumulate
    (a block of rows after the first, without Adam), the gradients are added to dws and dbs instead of written."""
    n = x.shape[0]
    acts = [x]
    for i in range(len(ws)):
        y = np.empty((n, ws[i].shape[1]), np.float32)
        _gemm(blas, NO_TRANS, NO_TRANS, acts[i], ws[i], y)
        bias_relu_rows(y, bs[i], relus[i])
        if drops[i].size:
            _times(y, drops[i])
        acts.append(y)
    g = np.empty_like(acts[-1])
    total, hits = softmax_cross_entropy(acts[-1], labels, factor, g)
    if hits < 0:
        return total, hits
    update = fused and np.isfinite(np.float32(total * factor))
    for i in range(len(ws) - 1, -1, -1):
        if drops[i].size:  # (a_{i+1} > 0) below is the ReLU's mask too: where the dropout mask is 0, so is g
            _times(g, drops[i])
        sums = np.empty_like(dbs[i]) if accumulate else dbs[i]
        if relus[i]:
            relu_mask_rows(g, acts[i + 1], g, sums)
        elif sums.size:
            column_sums(g, sums)
        if accumulate:
            db = dbs[i]
            db += sums
        if update and dbs[i].size:
            _adam(dbs[i], bs[i], adam_b[i], coeffs)
        deferred = i == 0 and first_grad.size > 0
        if deferred:
            first_grad[:] = g
        else:
            _gemm(blas, TRANS, NO_TRANS, acts[i], g, dws[i], 1.0 if accumulate else 0.0)
        if i:
            below = np.empty_like(acts[i])
            _gemm(blas, NO_TRANS, TRANS, g, ws[i], below)
            g = below
        elif dx.size:
            _gemm(blas, NO_TRANS, TRANS, g, ws[0], dx)
        if update and not deferred:
            _adam(dws[i].reshape(dws[i].size), ws[i].reshape(ws[i].size), adam_w[i], coeffs)
    return total, hits


@_jit
def weight_step(blas: Any, x: Any, g: Any, dw: Any, w: Any, update: bool, slots: Any, coeffs: Any) -> None:
    """A layer's weight gradient dw = x^T g and, when `update`, Adam's step of w with slots (m, v) and coeffs: the
    part of `dense_step` that its first_grad defers, the same products and values."""
    _gemm(blas, TRANS, NO_TRANS, x, g, dw)
    if update:
        _adam(dw.reshape(dw.size), w.reshape(w.size), slots, coeffs)


@_jit
def _adam(g: Any, w: Any, slots: Any, coeffs: Any) -> None:
    """`kernels.adam` on flat g and w with slots (m, v) and coeffs (b1, 1 - b1, b2, 1 - b2, step size, eps)."""
    b1, c1, b2, c2, step_size, eps = coeffs
    adam(g, w, slots[0], slots[1], b1, c1, b2, c2, step_size, eps)


@_jit
def _times(a: Any, mask: Any) -> None:
    """a *= mask, in place, for (rows, columns) arrays."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] *= mask[i, j]
