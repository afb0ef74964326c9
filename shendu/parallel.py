"""Threads for the heavy per-sample ops: the batch is cut into one chunk per free core and the chunks run at once.

NumPy's loops and BLAS release the GIL, so the array work of the chunks overlaps; inside a chunk BLAS runs on
one thread, so the cores are not asked for more threads than they have. Measured on 2 cores, the tutorial
CNN's convolutions and poolings run 1.8x faster this way, while BLAS's own threads gained nothing on their
products.

The thread policy (how many threads, and whether BLAS may use its own):

- A count set with `set_num_threads(n)` or SHENDU_NUM_THREADS=n is kept as given.
- By default the count adapts to the cores that are free: every POLICY_INTERVAL seconds the calling thread reads
  how many threads the machine is running (/proc/loadavg) and subtracts this process's own running threads
  (/proc/self/task); what is left is the other programs' demand for cores. Its running average is subtracted
  from the cores this process may use, and the rest, at least one, is the thread count (`choose_threads`).
  Why: a thread that loses its core to another program stalls every thread waiting for it. On 2 cores beside
  two busy Python loops, the MLP's epoch went from 0.17 to 2-9 s while BLAS's two threads waited on each other;
  on one thread it took 0.24-0.59 s.
- BLAS (OpenBLAS, as NumPy ships it) runs on one thread once shendu's own threads have started (its idle threads
  spin after each product and took the cores from shendu's: a CNN step ran 1.4x slower), and whenever the
  policy's count is 1; otherwise on its own default.
- Without /proc (macOS, Windows) the count is the cores this process may use, as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import itertools
import operator
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

MIN_CHUNK_WORK = 1 << 16
"""Elements an op must touch per chunk before a thread pays for its hand-off (about 30 us)."""
MIN_PRODUCT_WORK = 1 << 24
"""Multiply-adds a matrix product must do per chunk before a thread pays for its hand-off, when the calling thread
waits for it: 16M, about 150 us on one core, what a hand-off costs on this 2-core VM. (With 4M, the tutorial CNN's
64 x 1600 @ 1600 x 128 Dense ran in two chunks: its forward and backward took 0.45 + 0.74 ms a step against
0.33 + 0.59 on one thread; the step 7.6 -> 7.1 ms.)"""
OVERLAPPED_PRODUCT_WORK = 1 << 22
"""The same where the calling thread has its own share to do meanwhile (the recurrent ops' projections and
products), which hides the hand-off: 4M, as tuned on the LSTM benchmark."""
POLICY_INTERVAL = 0.1
"""Seconds between two looks at the machine's load (a look costs about 30 us)."""
LOAD_SMOOTHING = 0.3
"""Weight of the newest look in the running average of the other programs' running threads."""

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_num_threads: int | None = max(1, int(os.environ["SHENDU_NUM_THREADS"])) if os.environ.get("SHENDU_NUM_THREADS") \
    else None  # set by set_num_threads or SHENDU_NUM_THREADS: kept as given


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist here, so the next parallel op starts new ones."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def choose_threads(cores: int, others_running: float | None) -> int:
    """The thread count for `cores` cores when other programs keep `others_running` threads running on average
    (None: unknown): the cores they leave free, rounded, at least one and at most `cores`."""
    if others_running is None:
        return cores
    return max(1, min(cores, int(cores - others_running + 0.5)))


def blas_threads_wanted(threads: int, pool_started: bool, default: int) -> int:
    """BLAS's thread count under the policy: one when shendu's threads run (they split the large products
    themselves) or when the policy is down to one thread (a BLAS thread would wait for a taken core), else
    BLAS's own default."""
    return 1 if pool_started or threads == 1 else default


def others_running(loadavg: str, own_running: int) -> int:
    """Threads of other programs running now: the machine's running count (the 4th field of /proc/loadavg,
    "running/total") less this process's own running threads."""
    return max(0, int(loadavg.split()[3].split("/")[0]) - own_running)


def smoothed(average: float | None, sample: float) -> float:
    """The running average after one more look: LOAD_SMOOTHING of the new sample, the rest the old average
    (the first sample as it is)."""
    return sample if average is None else LOAD_SMOOTHING * sample + (1 - LOAD_SMOOTHING) * average


def _own_running_threads() -> int:
    """How many of this process's threads are running or ready to run now (state R in /proc/self/task/*/stat)."""
    count = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        count += stat[stat.rindex(")") + 2] == "R"
    return count


class _Policy:
    """The adaptive thread count: the running average of the other programs' running threads, looked at again
    every POLICY_INTERVAL seconds by the thread that asks."""

    def __init__(self) -> None:
        self.cores = available_cores()
        self.can_look = os.path.exists("/proc/loadavg") and os.path.isdir("/proc/self/task")
        self.others: float | None = None
        self.next_look = 0.0
        self.threads = self.cores
        self.blas = 0  # BLAS's count as last set by the policy (0: not set yet)

    def look(self) -> None:
        """Read the machine's load once, update the average and the thread count, and set BLAS's count to match."""
        self.next_look = time.monotonic() + POLICY_INTERVAL
        try:
            with open("/proc/loadavg") as f:
                sample = others_running(f.read(), _own_running_threads())
        except (OSError, ValueError, IndexError):
            self.can_look, self.others = False, None
        else:
            self.others = smoothed(self.others, sample)
        self.threads = choose_threads(self.cores, self.others)
        self.set_blas(self.threads)

    def set_blas(self, threads: int) -> None:
        """Set BLAS's thread count for `threads` shendu threads (a call into OpenBLAS only when it changes)."""
        wanted = blas_threads_wanted(threads, _pool is not None, _blas_default_threads())
        if wanted != self.blas:
            self.blas = wanted
            _set_blas_threads(wanted)


_policy = _Policy()


def threads_now() -> int:
    """The threads the batch-parallel ops use for the op about to run: the count set, else the policy's."""
    if _num_threads is not None:
        if not _policy.blas:
            _policy.set_blas(_num_threads)
        return _num_threads
    if _policy.can_look and time.monotonic() >= _policy.next_look:
        _policy.look()
    return _policy.threads


def get_num_threads() -> int:
    """How many threads the batch-parallel ops use (as torch.get_num_threads): the count set, else the count
    the adaptive policy chose last (the cores that other programs leave free)."""
    return _num_threads if _num_threads is not None else _policy.threads


def set_num_threads(n: int) -> None:
    """Use exactly n threads for the batch-parallel ops (as torch.set_num_threads), whatever the load; 1 runs
    every op, BLAS's products included, on the calling thread."""
    global _num_threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected at least 1 thread, got {n}")
    _num_threads = int(n)
    if _pool is not None and _pool._max_workers < _num_threads - 1:
        _pool.shutdown(wait=True)
        _pool = None
    _policy.blas = 0
    _policy.set_blas(_num_threads)


def use_adaptive_threads() -> None:
    """Forget a count set with `set_num_threads`: the thread count follows the free cores again (the default)."""
    global _num_threads
    _num_threads = None
    _policy.blas = 0
    _policy.next_look = 0.0


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run a block with exactly n threads, then go back to what held before: a count set, or the adaptive default."""
    before = _num_threads
    set_num_threads(n)
    try:
        yield
    finally:
        if before is None:
            use_adaptive_threads()
        else:
            set_num_threads(before)


def _openblas_function(*names: str) -> Callable[..., int] | None:
    """The first of these functions the OpenBLAS that NumPy ships with exports (its names carry a prefix and
    suffix in NumPy's own build), or None (another BLAS, or none found)."""
    folders = [os.path.dirname(np.__file__) + ".libs", os.path.join(os.path.dirname(np.__file__), ".dylibs")]
    for path in sorted(p for folder in folders for p in glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return fn
    return None


@functools.cache
def _blas_thread_setters() -> tuple[Any, Any]:
    """OpenBLAS's (set for the process, get for the process) thread counts. (Its "local" setter changes the
    process's count too in the pthreads build NumPy ships, so it is not used.)"""
    return (_openblas_function("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                               "scipy_openblas_set_num_threads"),
            _openblas_function("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                               "scipy_openblas_get_num_threads"))


@functools.cache
def _blas_default_threads() -> int:
    get = _blas_thread_setters()[1]
    return int(get()) if get is not None else 0


def _set_blas_threads(n: int) -> None:
    """Set BLAS's thread count for the whole process (when NumPy's BLAS is an OpenBLAS we can reach)."""
    set_global = _blas_thread_setters()[0]
    if set_global is not None and n and _blas_default_threads():  # the default is read before the first change
        set_global(ctypes.c_int(n))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run BLAS products on one thread while inside: for products too small to gain from BLAS's threads, and
    on a busy machine where waiting for a descheduled BLAS thread makes each ten times slower."""
    set_global, get = _blas_thread_setters()
    if set_global is None or get is None:
        yield
        return
    previous = int(get())
    if previous != 1:
        set_global(ctypes.c_int(1))
    try:
        yield
    finally:
        if previous != 1:
            set_global(ctypes.c_int(previous))


def _init_worker() -> None:
    _local.inside = True


def batch_chunks(n: int, work_per_sample: int, min_work: int | None = None) -> list[slice]:
    """Slices covering range(n): one per thread when each gets at least `min_work` (MIN_CHUNK_WORK if not
    given) of work, else the whole batch as one chunk (also inside a worker, so chunks never nest)."""
    if getattr(_local, "inside", False):
        return [slice(0, n)]
    k = min(threads_now(), n, n * work_per_sample // (min_work or MIN_CHUNK_WORK))
    if k <= 1:
        return [slice(0, n)]
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def sum_parts(parts: Sequence[Any]) -> Any:
    """The sum of the chunks' partial results (a weight gradient summed over the batch chunks)."""
    return functools.reduce(operator.add, parts)


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """fn(*args) started on a worker thread (at once on this thread when shendu runs on one), for work that can
    overlap with what the calling thread does next; `.result()` waits for it."""
    if getattr(_local, "inside", False) or threads_now() == 1:
        done: Future = Future()
        done.set_result(fn(*args))
        return done
    return _workers().submit(fn, *args)


def _workers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max(1, max(_num_threads or 0, _policy.cores) - 1), thread_name_prefix="shendu",
                                   initializer=_init_worker)
        # BLAS's idle threads spin after each product and take the cores from these (a CNN step ran 1.4x
        # slower): from now on BLAS runs on one thread and shendu splits its large products itself
        _set_blas_threads(1)
        _policy.blas = 1
    return _pool


def run_chunks(fn: Callable[..., Any], chunks: Sequence[slice], *per_chunk: Sequence[Any],
               balance: Balance | None = None) -> list[Any]:
    """[fn(chunk, *items) for each chunk]: the calling thread takes the first chunk, and it and the workers take
    the next as they get free (a worker wakes up late, so fixed shares would leave the calling thread waiting);
    results in chunk order, an exception raised again here. `balance` learns who waited for whom."""
    if len(chunks) == 1:
        return [fn(chunks[0], *(items[0] for items in per_chunk))]
    args = [(chunk, *items) for chunk, *items in zip(chunks, *per_chunk)]
    results: list[Any] = [None] * len(args)
    take = itertools.count(1).__next__
    ends: list[float] = []  # when each worker ran out of chunks

    def drain(i: int) -> float:
        while i < len(args):
            results[i] = fn(*args[i])
            i = take()
        return time.perf_counter()

    pool = _workers()
    futures = [pool.submit(lambda: ends.append(drain(take()))) for _ in range(min(pool._max_workers, len(args) - 1))]
    _local.inside = True
    try:
        with one_blas_thread():
            mine = drain(0)
    finally:
        _local.inside = False
        wait(futures)
    for f in futures:
        f.result()
    if balance is not None:
        balance.gap += mine - max(ends)
    return results


class Balance:
    """How many rows beyond an even share the calling thread takes in a pass over batch chunks that a training
    step runs again and again (the conv head's forward and backward over the same chunks). The workers start a
    chunk later than the caller, and a worker may have other work first (the lean step's first Dense weight
    gradient), so even shares leave the caller waiting. `run_chunks` adds to `gap` the caller's finish time less
    the last worker's (negative: the caller waited); `update` moves a row per step toward the caller while it
    waits longer than a row takes, and back while the workers wait for it. Tutorial CNN, 2 cores: the caller
    settles at 33 or 34 images of 64."""

    def __init__(self) -> None:
        self.lead, self.gap = 0, 0.0

    def split(self, chunks: list[slice]) -> list[slice]:
        """The chunks with `lead` rows moved into the first (the caller's) from the last, each keeping a row (the
        lead cut to what these chunks allow, so that it never runs away)."""
        if len(chunks) < 2 or not self.lead:
            return chunks
        first, last = chunks[0], chunks[-1]
        move = self.lead = max(-(first.stop - first.start - 1), min(self.lead, last.stop - last.start - 1))
        middle = [slice(c.start + move, c.stop + move) for c in chunks[1:-1]]
        return [slice(first.start, first.stop + move), *middle, slice(last.start + move, last.stop)]

    def update(self, row_seconds: float) -> None:
        """After a step: a row more for the caller when it waited over `row_seconds` (a row's time in the passes),
        a row less when the workers did; then the gap starts again."""
        if self.gap < -row_seconds:
            self.lead += 1
        elif self.gap > row_seconds:
            self.lead -= 1
        self.gap = 0.0
