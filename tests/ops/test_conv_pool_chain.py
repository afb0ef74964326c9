"""Two Conv2D + MaxPool2D blocks run depth first as one op (ConvPoolChain) against the two fused ops one after the
other: the same values and gradients, in one piece and in chunks on two threads, with and without biases, a first
block that runs the compiled first-layer loop (no input gradient), and one whose weights want no gradient."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.ops.conv_pool import Conv2DMaxPool, ConvPoolChain

VALID = {"strides": (1, 1), "padding": ((0, 0), (0, 0)), "dilation": (1, 1), "groups": 1}
SAME = {**VALID, "padding": ((1, 1), (1, 1))}
POOL = {"pool_size": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}


def _run(chain, x, weights, biases, wants, first_conv, second_conv, g):
    """Values and gradients of the chain, or of the two fused ops one after the other."""
    ts = [sd.Tensor(a, requires_grad=w) for a, w in zip((x, *weights), wants)]
    cut = 3 if biases[0] else 2
    first = {"conv": first_conv, "pool": POOL, "relu": True, "input_grad": wants[0]}
    second = {"conv": second_conv, "pool": POOL, "relu": True, "input_grad": True}
    if chain:
        y = ConvPoolChain.apply(*ts, first=first, second=second, biases=biases)
    else:
        y = Conv2DMaxPool.apply(Conv2DMaxPool.apply(*ts[:cut], **first), *ts[cut:], **second)
    y.backward(g)
    return [y.numpy()] + [None if t.grad is None else t.grad.numpy() for t in ts]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("channels", "biases", "wants", "second_conv"), [
    (1, (True, True), (False, True, True, True, True), VALID),  # the tutorial's: first layer, compiled loop
    (3, (False, True), (True, True, True, True), SAME),  # the input's gradient too, no first bias
    (16, (True, False), (False, False, False, True), VALID),  # the first block frozen: only the second's kernel
])
def test_chain_equals_the_two_blocks_one_after_the_other(monkeypatch, compiled, threads, channels, biases, wants,
                                                         second_conv):
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)  # chunks even for these small images
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 12, 11, channels)).astype(np.float32)
    weights = [rng.standard_normal((3, 3, channels, 8)).astype(np.float32) * 0.5]
    if biases[0]:
        weights.append(rng.standard_normal(8).astype(np.float32) * 0.1)
    weights.append(rng.standard_normal((3, 3, 8, 5)).astype(np.float32) * 0.3)
    if biases[1]:
        weights.append(rng.standard_normal(5).astype(np.float32) * 0.1)
    side = 1 if second_conv is VALID else 2  # 12 x 11 -> 10 x 9 -> 5 x 4 -> 3 x 2 (5 x 4 with padding) -> pooled
    g = rng.standard_normal((6, side, side, 5)).astype(np.float32)
    with parallel.num_threads(threads):
        got = _run(True, x, weights, biases, wants, VALID, second_conv, g)
        want = _run(False, x, weights, biases, wants, VALID, second_conv, g)
    np.testing.assert_array_equal(got[0], want[0])
    for a, b, w in zip(got[1:], want[1:], wants):
        assert (a is None) == (b is None) == (not w)
        if w:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_a_balanced_chain_moves_rows_to_the_caller_with_the_same_results(monkeypatch, compiled):
    """With a Balance, the caller's chunk takes `lead` more images; values and gradients are those of even chunks,
    and the step's gap is spent on the balance's update (at most a row's move)."""
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 12, 11, 1)).astype(np.float32)
    weights = [rng.standard_normal((3, 3, 1, 8)).astype(np.float32), rng.standard_normal(8).astype(np.float32) * 0.1,
               rng.standard_normal((3, 3, 8, 5)).astype(np.float32) * 0.3, rng.standard_normal(5).astype(np.float32)]
    first = {"conv": VALID, "pool": POOL, "relu": True, "input_grad": False}
    second = {"conv": VALID, "pool": POOL, "relu": True, "input_grad": True}
    g = rng.standard_normal((8, 1, 1, 5)).astype(np.float32)

    def run(balance):
        ts = [sd.Tensor(a, requires_grad=w) for a, w in zip((x, *weights), (False, True, True, True, True))]
        op = ConvPoolChain(first, second, (True, True), balance)
        y = op.forward(*(t.data for t in ts))
        op.inputs = ts
        grads = op.backward(g)
        return op, [y, *(a for a in grads if a is not None)]

    balance = parallel.Balance()
    balance.lead = 2
    with parallel.num_threads(2):
        op, got = run(balance)
        _, want = run(None)
    assert op.blocks[0].chunks == [slice(0, 6), slice(6, 8)]
    np.testing.assert_array_equal(got[0], want[0])
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert balance.gap == 0.0 and balance.lead in (1, 2, 3)
