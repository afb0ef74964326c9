"""The ops on every backend: forward values within 1e-4 of NumPy's formula, and on a device the gradients within
1e-4 of the NumPy run's, with the results left on the device (no host round trip: the fake device refuses one)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import shendu as sd
from shendu import Tensor
from shendu.ops import attention, normalization

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5)).astype(np.float32)
Y = rng.standard_normal((4, 5)).astype(np.float32)
P = (np.abs(X) + 0.5).astype(np.float32)
M = (rng.standard_normal((5, 3)) * 0.5).astype(np.float32)
SQ = (rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name: (inputs, shendu function, NumPy formula)
CASES: dict[str, tuple[tuple[np.ndarray, ...], Callable, Callable]] = {
    "add_broadcast": ((X, X[:1]), lambda a, b: a + b, lambda a, b: a + b),
    "sub_scalar": ((X,), lambda a: 2.0 - a, lambda a: 2.0 - a),
    "mul_div": ((X, P), lambda a, b: a * b / (b + 1.0), lambda a, b: a * b / (b + 1.0)),
    "pow": ((P, Y), lambda a, b: a ** b, lambda a, b: a ** b),
    "pow_scalar": ((X,), lambda a: a ** 3, lambda a: a ** 3),
    "neg_abs": ((X,), lambda a: (-a).abs(), lambda a: np.abs(-a)),
    "maximum": ((X, Y), sd.maximum, np.maximum),
    "minimum": ((X, Y), sd.minimum, np.minimum),
    "exp_log": ((P,), lambda a: sd.math.log(a) + sd.exp(a * 0.1), lambda a: np.log(a) + np.exp(a * 0.1)),
    "sqrt": ((P,), sd.sqrt, np.sqrt),
    "tanh": ((X,), sd.tanh, np.tanh),
    "sigmoid": ((X,), sd.sigmoid, _sigmoid),
    "relu": ((X,), sd.nn.relu, lambda a: np.maximum(a, 0)),
    "leaky_relu": ((X,), lambda a: sd.nn.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
    "sin_cos": ((X,), lambda a: sd.sin(a) * sd.cos(a), lambda a: np.sin(a) * np.cos(a)),
    "clip": ((X,), lambda a: sd.clip_by_value(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    "square": ((X,), sd.square, np.square),
    "sum_axis": ((X,), lambda a: sd.reduce_sum(a, axis=0), lambda a: a.sum(axis=0)),
    "mean_keepdims": ((X,), lambda a: sd.reduce_mean(a, axis=1, keepdims=True), lambda a: a.mean(1, keepdims=True)),
    "max": ((X,), lambda a: sd.reduce_max(a, axis=1), lambda a: a.max(axis=1)),
    "min_all": ((X,), sd.reduce_min, np.min),
    "prod": ((P,), lambda a: sd.reduce_prod(a, axis=0), lambda a: a.prod(axis=0)),
    "logsumexp": ((X,), lambda a: sd.reduce_logsumexp(a, axis=1),
                  lambda a: np.log(np.exp(a).sum(axis=1))),
    "var": ((X,), lambda a: a.var(axis=0), lambda a: a.var(axis=0)),
    "cumsum": ((X,), lambda a: sd.cumsum(a, axis=1), lambda a: np.cumsum(a, axis=1)),
    "reshape_transpose": ((X,), lambda a: sd.transpose(sd.reshape(a, (2, 10))), lambda a: a.reshape(2, 10).T),
    "getitem": ((X,), lambda a: a[1:3, ::2], lambda a: a[1:3, ::2]),
    "getitem_int": ((X,), lambda a: a[2], lambda a: a[2]),
    "concat": ((X, Y), lambda a, b: sd.concat([a, b], axis=1), lambda a, b: np.concatenate([a, b], axis=1)),
    "stack": ((X, Y), lambda a, b: sd.stack([a, b]), lambda a, b: np.stack([a, b])),
    "where": ((X, Y), lambda a, b: sd.where(a > b, a, b), lambda a, b: np.where(a > b, a, b)),
    "pad": ((X,), lambda a: sd.pad(a, [[1, 0], [0, 2]]), lambda a: np.pad(a, [[1, 0], [0, 2]])),
    "broadcast_to": ((X[:1],), lambda a: sd.broadcast_to(a, (3, 5)), lambda a: np.broadcast_to(a, (3, 5))),
    "matmul": ((X, M), sd.matmul, np.matmul),
    "einsum": ((X, M), lambda a, b: sd.einsum("ij,jk->ik", a, b), lambda a, b: a @ b),
    "softmax": ((X,), sd.nn.softmax, _softmax),
    "log_softmax": ((X,), sd.nn.log_softmax, lambda a: np.log(_softmax(a))),
    "inv": ((SQ,), sd.linalg.inv, np.linalg.inv),
    "det": ((SQ,), sd.linalg.det, np.linalg.det),
    "solve": ((SQ, M[:3]), sd.linalg.solve, np.linalg.solve),
    "normalize": ((X,), lambda a: normalization.Normalize.apply(a, axes=(-1,), epsilon=1e-3, scale=False,
                                                                   center=False),
                  lambda a: (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-3)),
    "batch_norm_training": ((X, P[0]), lambda a, g: normalization.BatchNorm.apply(a, g, axis=-1, center=False),
                            lambda a, g: g * (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-3)),
}


def _run(fn: Callable, arrays: tuple[np.ndarray, ...], put: Callable) -> tuple[Tensor, list[Tensor]]:
    """The op's output and its inputs' gradients (of sum(out * out-shaped weights))."""
    ts = [Tensor(put(a), requires_grad=True) for a in arrays]
    out = fn(*ts)
    w = Tensor(put(np.linspace(-1, 1, out.size, dtype=np.float32).reshape(out.shape)))
    (out * w).sum().backward()
    return out, [t.grad for t in ts]


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_matches_numpy(case, device):
    arrays, fn, formula = CASES[case]
    out, grads = _run(fn, arrays, device.put)
    np.testing.assert_allclose(device.get(out), formula(*arrays), rtol=1e-4, atol=1e-4)
    _, ref_grads = _run(fn, arrays, np.asarray)
    for g, ref in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(device.get(g), ref.data, rtol=1e-4, atol=1e-4)


def test_attention_matches_numpy(device):
    q, k, v = (rng.standard_normal((2, 3, 4)).astype(np.float32) for _ in range(3))
    ref = _softmax(q @ k.transpose(0, 2, 1) / 2.0) @ v
    ts = [Tensor(device.put(a), requires_grad=True) for a in (q, k, v)]
    out = attention.ScaledDotProductAttention.apply(*ts, scale=0.5)
    np.testing.assert_allclose(device.get(out), ref, rtol=1e-4, atol=1e-4)
    out.sum().backward()
    assert all(device.get(t.grad).shape == (2, 3, 4) for t in ts)


def test_gather_rows_on_the_device(device):
    table = Tensor(device.put(M), requires_grad=True)
    ids = Tensor(device.put(np.array([[0, 4], [2, 0]])))
    out = sd.gather(table, ids)
    np.testing.assert_allclose(device.get(out), M[[[0, 4], [2, 0]]])
    out.sum().backward()
    np.testing.assert_allclose(device.get(table.grad), np.bincount([0, 4, 2, 0], minlength=5)[:, None] * np.ones(3))
