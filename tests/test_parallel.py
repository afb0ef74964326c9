"""Batch-parallel ops: chunking, the thread pool, the BLAS thread policy, and ops that give the same values and
gradients in chunks on two threads as in one piece (chunking forced on small inputs)."""

from __future__ import annotations

import io
import itertools
import os
import threading
import time

import numpy as np
import pytest

import shendu as sd
from shendu import parallel
from shendu.layers.recurrent import GRU, LSTM
from shendu.ops import conv, nn, normalization, pool, recurrent


@pytest.fixture
def threads():
    """Two threads, and chunks however small the work; the default restored afterwards."""
    before = parallel.get_num_threads()
    mp = pytest.MonkeyPatch()
    mp.setattr(parallel, "MIN_CHUNK_WORK", 1)
    mp.setattr(nn, "MIN_PRODUCT_WORK", 1)
    mp.setattr(recurrent, "OVERLAPPED_PRODUCT_WORK", 1)
    mp.setattr(normalization, "MIN_WORK", 1)
    with parallel.num_threads(before):
        yield parallel.set_num_threads
    mp.undo()


def test_batch_chunks_cover_the_batch_once(threads):
    threads(3)
    chunks = parallel.batch_chunks(10, 1)
    assert len(chunks) == 3
    assert [i for c in chunks for i in range(10)[c]] == list(range(10))
    assert parallel.batch_chunks(2, 1) == [slice(0, 1), slice(1, 2)]  # never more chunks than samples
    assert parallel.batch_chunks(10, 1, min_work=100) == [slice(0, 10)]  # too little work to share
    threads(1)
    assert parallel.batch_chunks(10, 1) == [slice(0, 10)]


def test_run_chunks_keeps_order_uses_threads_and_does_not_nest(threads):
    threads(2)
    seen = []

    def work(sl, item):
        seen.append((threading.current_thread().name, parallel.batch_chunks(8, 1)))
        time.sleep(0.1)  # holds this thread, so the other takes the next chunk
        return sl.start, item

    assert parallel.run_chunks(work, [slice(0, 4), slice(4, 8)], ["a", "b"]) == [(0, "a"), (4, "b")]
    assert {name.startswith("shendu") for name, _ in seen} == {True, False}
    assert all(inner == [slice(0, 8)] for _, inner in seen)  # inside a chunk, no further chunks
    assert len(parallel.batch_chunks(8, 1)) == 2  # and the calling thread is out of its chunk again


def test_run_chunks_raises_a_worker_error(threads):
    threads(2)

    def work(sl):
        if sl.start:
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        parallel.run_chunks(work, [slice(0, 1), slice(1, 2)])


def test_run_chunks_gives_the_caller_the_first_chunk_and_the_balance_the_gap(threads):
    threads(2)
    balance = parallel.Balance()
    names = {}

    def work(sl):
        names[sl.start] = threading.current_thread().name
        time.sleep(0.02 if sl.start else 0.001)  # the worker's chunk is the slow one: the caller waits for it

    parallel.run_chunks(work, [slice(0, 4), slice(4, 8)], balance=balance)
    assert names[0] == threading.current_thread().name and names[4].startswith("shendu")
    assert balance.gap < -0.01
    balance.update(0.001)
    assert (balance.lead, balance.gap) == (1, 0.0)


def test_balance_moves_rows_toward_whoever_waited():
    balance = parallel.Balance()
    halves = [slice(0, 8), slice(8, 16)]
    assert balance.split(halves) == halves
    for gap, lead in ((-0.5, 1), (-0.5, 2), (0.05, 2), (0.5, 1)):  # a row takes 0.1 s: within it, no change
        balance.gap = gap
        balance.update(0.1)
        assert (balance.lead, balance.gap) == (lead, 0.0)
    balance.lead = 3
    assert balance.split(halves) == [slice(0, 11), slice(11, 16)]
    thirds = [slice(0, 5), slice(5, 10), slice(10, 15)]
    assert balance.split(thirds) == [slice(0, 8), slice(8, 13), slice(13, 15)]
    for lead, first in ((100, 15), (-100, 1)):  # every chunk keeps a row, and the lead is cut to match
        balance.lead = lead
        got = balance.split(halves)
        assert got[0] == slice(0, first) and got[-1].stop == 16 and got[-1].stop > got[-1].start
        assert balance.lead == first - 8


def test_set_num_threads_rejects_zero_and_sets_blas_threads():
    before = parallel._num_threads
    with pytest.raises(ValueError, match="at least 1"):
        parallel.set_num_threads(0)
    get = parallel._blas_thread_setters()[1]
    try:
        parallel.set_num_threads(2)
        parallel.run_chunks(lambda sl: None, [slice(0, 1), slice(1, 2)])
        if get is not None:
            assert get() == 1  # BLAS on one thread once shendu splits the batch itself
        parallel.set_num_threads(1)
        assert sd.get_num_threads() == 1 and parallel.threads_now() == 1
        if get is not None:
            assert get() == 1  # one thread means one thread, BLAS's products included
    finally:
        parallel._num_threads = before


def test_choose_threads_leaves_the_other_programs_their_cores():
    assert parallel.choose_threads(2, None) == 2  # load unknown: every core
    assert parallel.choose_threads(2, 0.0) == 2  # quiet
    assert parallel.choose_threads(2, 0.4) == 2  # a light load rounds away
    assert parallel.choose_threads(2, 1.0) == 1
    assert parallel.choose_threads(2, 2.0) == 1  # the cores are taken: one thread, never zero
    assert parallel.choose_threads(2, 7.0) == 1
    assert parallel.choose_threads(8, 2.6) == 5
    assert parallel.choose_threads(8, -1.0) == 8  # never more than the cores


def test_blas_threads_under_the_policy():
    assert parallel.blas_threads_wanted(2, pool_started=False, default=2) == 2  # quiet, shendu not splitting
    assert parallel.blas_threads_wanted(2, pool_started=True, default=2) == 1  # shendu splits the products
    assert parallel.blas_threads_wanted(1, pool_started=False, default=4) == 1  # cores taken


def test_others_running_subtracts_this_process():
    assert parallel.others_running("1.55 3.52 3.94 4/115 10621", own_running=2) == 2
    assert parallel.others_running("0.00 0.01 0.05 1/80 4242", own_running=1) == 0
    assert parallel.others_running("0.00 0.01 0.05 1/80 4242", own_running=3) == 0  # counts read at two moments


def test_smoothed_load_follows_the_samples():
    assert parallel.smoothed(None, 3.0) == 3.0
    avg = 0.0
    for _ in range(10):
        avg = parallel.smoothed(avg, 2.0)
    assert 1.9 < avg < 2.0  # a steady load is reached in a second of looks
    assert parallel.smoothed(2.0, 0.0) == pytest.approx(2.0 * (1 - parallel.LOAD_SMOOTHING))


@pytest.fixture
def adaptive(monkeypatch):
    """The adaptive count (no count set), with a policy whose look at the machine is scripted."""
    monkeypatch.setattr(parallel, "_num_threads", None)
    policy = parallel._Policy()
    policy.cores, policy.can_look = 2, True
    monkeypatch.setattr(parallel, "_policy", policy)
    return policy


def test_policy_adapts_to_the_load_and_comes_back(adaptive, monkeypatch):
    looks = itertools.chain(["0.0 0.0 0.0 3/90 1"] * 3, itertools.repeat("0.0 0.0 0.0 1/90 1"))
    monkeypatch.setattr(parallel, "_own_running_threads", lambda: 1)
    monkeypatch.setattr(parallel, "open", lambda path: io.StringIO(next(looks)), raising=False)
    monkeypatch.setattr(parallel, "POLICY_INTERVAL", 0.0)
    seen = [parallel.threads_now() for _ in range(23)]
    assert seen[:3] == [1, 1, 1]  # two other programs run: one thread
    assert seen[-1] == 2 and seen.index(2) > 3  # they stopped: back to two, after a few looks
    assert parallel.batch_chunks(8, 1 << 20) == [slice(0, 4), slice(4, 8)]


def test_policy_without_proc_uses_every_core(adaptive):
    adaptive.can_look, adaptive.others = False, None
    assert parallel.threads_now() == 2


def test_policy_looks_at_the_real_machine(adaptive):
    """On Linux the look reads real numbers: a count between one and the cores."""
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("needs /proc")
    adaptive.look()
    assert adaptive.others is not None and adaptive.others >= 0
    assert 1 <= adaptive.threads <= 2


def values_and_grads(fn, *arrays):
    """fn's output and the gradients of sum(output * g) for every input, as NumPy arrays."""
    ts = [sd.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(np.random.default_rng(3).standard_normal(y.shape).astype(y.dtype))
    return [y.numpy()] + [t.grad.numpy() for t in ts]


def conv_relu_pool(x, k, b):
    y = conv.Conv2D.apply(x, k, b, padding=((1, 1), (0, 1)), strides=(1, 2), relu=True)
    return pool.MaxPool2D.apply(y, pool_size=(2, 2), strides=(2, 2), padding=((0, 1), (0, 1)))


CASES = {
    "conv": (lambda x, k, b: conv.Conv2D.apply(x, k, b, padding=((1, 1), (1, 1)), relu=True),
             [(5, 7, 6, 4), (3, 3, 4, 6), (6,)]),
    "grouped conv": (lambda x, k, b: conv.Conv2D.apply(x, k, b, groups=2, strides=(2, 1)),
                     [(5, 7, 6, 4), (3, 2, 2, 6), (6,)]),
    "first conv": (lambda x, k, b: conv.Conv2D.apply(x, k, b, relu=True), [(5, 7, 6, 1), (3, 3, 1, 4), (4,)]),
    "conv relu pool": (conv_relu_pool, [(5, 9, 8, 3), (3, 3, 3, 4), (4,)]),
    "depthwise conv": (lambda x, k, b: conv.DepthwiseConv2D.apply(x, k, b, padding=((1, 0), (0, 1)), strides=(2, 1),
                                                                 relu=True), [(5, 7, 6, 3), (3, 2, 3, 2), (6,)]),
    "transposed conv": (lambda x, k, b: conv.Conv2DTranspose.apply(x, k, b, out_hw=(9, 12), crop=(1, 0), strides=(2, 3),
                                                                  relu=True), [(5, 4, 4, 3), (3, 2, 4, 3), (4,)]),
    "batch norm": (lambda x, gamma, beta: normalization.BatchNorm.apply(x, gamma, beta), [(5, 4, 3, 6), (6,), (6,)]),
    "batch norm axis 1": (lambda x, gamma: normalization.BatchNorm.apply(x, gamma, axis=1, center=False),
                          [(5, 6, 4, 3), (6,)]),
    "batch norm inference": (lambda x, gamma, beta: normalization.BatchNorm.apply(
        x, gamma, beta, mean=np.linspace(-1, 1, 6), variance=np.linspace(0.5, 2, 6)), [(5, 4, 3, 6), (6,), (6,)]),
    "max pool": (lambda x: pool.MaxPool2D.apply(x, pool_size=(3, 2), strides=(2, 1)), [(5, 7, 6, 3)]),
    "avg pool": (lambda x: pool.AvgPool2D.apply(x, pool_size=(2, 2), strides=(2, 2), padding=((0, 1), (0, 1))),
                 [(5, 7, 5, 3)]),
    "linear": (lambda x, w, b: nn.Linear.apply(x, w, b), [(7, 3, 5), (5, 4), (4,)]),
    "linear relu": (lambda x, w, b: nn.LinearReLU.apply(x, w, b), [(7, 5), (5, 4), (4,)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_chunked_ops_match_one_piece(threads, name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    threads(1)
    whole = values_and_grads(fn, *arrays)
    threads(2)
    chunked = values_and_grads(fn, *arrays)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_fused_relu_conv_then_pool_with_and_without_a_second_consumer():
    """conv(relu) -> max pool gives the gradients of a separate relu, also when a second consumer of the conv
    output sends it a gradient of its own."""
    rng = np.random.default_rng(1)
    x, k, b = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3) - 1.5

    def fused(x, k, b, extra):
        y = conv.Conv2D.apply(x, k, b, relu=True)
        out = pool.MaxPool2D.apply(y, pool_size=(2, 2), strides=(2, 2)).sum()
        return out + (y * 0.5).sum() if extra else out

    def reference(x, k, b, extra):
        y = sd.maximum(conv.Conv2D.apply(x, k, b), 0.0)
        out = pool.MaxPool2D.apply(y, pool_size=(2, 2), strides=(2, 2)).sum()
        return out + (y * 0.5).sum() if extra else out

    for extra in (False, True):
        got = values_and_grads(lambda *a, e=extra: fused(*a, e), x, k, b)
        want = values_and_grads(lambda *a, e=extra: reference(*a, e), x, k, b)
        for a, w in zip(got, want):
            np.testing.assert_allclose(a, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer", [LSTM, GRU])
def test_recurrent_products_in_chunks_match_one_piece(threads, layer):
    """The input projection and the weight gradients of a recurrent op, computed over chunks of the steps."""
    x = np.random.default_rng(2).standard_normal((3, 7, 4))
    results = []
    for n in (1, 2):
        threads(n)
        sd.random.seed(0)
        rnn = layer(5, return_sequences=True, go_backwards=True, dtype="float64")
        xs = sd.Tensor(x, requires_grad=True)
        y = rnn(xs)
        y.backward(np.random.default_rng(3).standard_normal(y.shape))
        results.append([y.numpy(), xs.grad.numpy()] + [w.grad.numpy() for w in rnn.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: sd.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: sd.optimizers.Adam(0.01, amsgrad=True),
    lambda: sd.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: sd.optimizers.Adagrad(0.1),
    lambda: sd.optimizers.Adadelta(1.0),
    lambda: sd.optimizers.Adamax(0.01),
    lambda: sd.optimizers.Nadam(0.01),
])
def test_optimizer_updates_in_slices_match_one_piece(threads, make):
    rng = np.random.default_rng(4)
    start, grads = rng.standard_normal((6, 7)), [rng.standard_normal((6, 7)) for _ in range(3)]
    results = []
    for n in (1, 2):
        threads(n)
        v, opt = sd.Variable(start.copy()), make()
        for g in grads:
            opt.apply_gradients([(g, v)])
        results.append(v.numpy())
    np.testing.assert_array_equal(results[1], results[0])


def _chunked_sum_in_child(queue):
    queue.put(sum(parallel.run_chunks(lambda sl: sl.stop - sl.start, [slice(0, 3), slice(3, 5)])))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threads_work_in_a_forked_child(threads):
    """A child forked after the threads started gets its own (the parent's do not exist in it): no hang."""
    import multiprocessing

    threads(2)
    parallel.run_chunks(lambda sl: None, [slice(0, 1), slice(1, 2)])  # the parent's threads are running
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_chunked_sum_in_child, args=(queue,))
    child.start()
    child.join(timeout=20)
    if child.exitcode is None:  # hung: do not leave it behind
        child.kill()
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 5


def test_num_threads_restores_the_adaptive_default_or_the_count_set_before():
    with parallel.num_threads(parallel.get_num_threads()):  # whatever this session had is put back at the end
        parallel.use_adaptive_threads()
        with parallel.num_threads(1):
            assert parallel.get_num_threads() == 1
        assert parallel._num_threads is None
        with parallel.num_threads(2):
            with parallel.num_threads(1):
                assert parallel.get_num_threads() == 1
            assert parallel.get_num_threads() == 2
        assert parallel._num_threads is None
