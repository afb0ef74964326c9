"""Threads for the heavy per-sample ops: the batch is cut into one chunk per core and the chunks run at once.

NumPy's loops and BLAS release the GIL, so the array work of the chunks overlaps; inside a chunk BLAS runs on
one thread, so the cores are not asked for more threads than they have. Measured on 2 cores, the tutorial
CNN's convolutions and poolings run 1.8x faster this way, while BLAS's own threads gained nothing on their
products. Once the threads have started, BLAS runs on one thread (its idle threads would spin on the cores
these need); `set_num_threads(1)` (or SHENDU_NUM_THREADS=1) runs every chunk on the calling thread and gives
BLAS its threads back.
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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

MIN_CHUNK_WORK = 1 << 16
"""Elements an op must touch per chunk before a thread pays for its hand-off (about 30 us)."""
MIN_PRODUCT_WORK = 1 << 22
"""Multiply-adds a matrix product must do per chunk before a thread pays for its hand-off."""

_local = threading.local()
_pool: ThreadPoolExecutor | None = None
_num_threads: int | None = None


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist here, so the next parallel op starts new ones."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _default_threads() -> int:
    env = os.environ.get("SHENDU_NUM_THREADS")
    if env:
        return max(1, int(env))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def get_num_threads() -> int:
    """How many threads the batch-parallel ops use (as torch.get_num_threads)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use n threads for the batch-parallel ops (as torch.set_num_threads); 1 turns the threads off."""
    global _num_threads, _pool
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected at least 1 thread, got {n}")
    _num_threads = int(n)
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
        _set_blas_threads(_blas_default_threads())


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
def _blas_thread_setters() -> tuple[Any, Any, Any]:
    """OpenBLAS's (set for this thread, set for the process, get for the process) thread counts."""
    return (_openblas_function("openblas_set_num_threads_local"),
            _openblas_function("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                               "scipy_openblas_set_num_threads"),
            _openblas_function("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                               "scipy_openblas_get_num_threads"))


@functools.cache
def _blas_default_threads() -> int:
    get = _blas_thread_setters()[2]
    return int(get()) if get is not None else 0


def _set_blas_threads(n: int) -> None:
    """Set BLAS's thread count for the whole process (when NumPy's BLAS is an OpenBLAS we can reach)."""
    set_global = _blas_thread_setters()[1]
    if set_global is not None and n and _blas_default_threads():  # the default is read before the first change
        set_global(ctypes.c_int(n))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run BLAS products on the calling thread only while inside: for products too small to gain from BLAS's
    threads, and on a busy machine where waiting for a descheduled BLAS thread makes each ten times slower."""
    setter = _blas_thread_setters()[0]
    if setter is None:
        yield
        return
    previous = setter(ctypes.c_int(1))
    try:
        yield
    finally:
        setter(ctypes.c_int(previous))


def _init_worker() -> None:
    _local.inside = True
    setter = _blas_thread_setters()[0]
    if setter is not None:
        setter(ctypes.c_int(1))


def batch_chunks(n: int, work_per_sample: int, min_work: int | None = None) -> list[slice]:
    """Slices covering range(n): one per thread when each gets at least `min_work` (MIN_CHUNK_WORK if not
    given) of work, else the whole batch as one chunk (also inside a worker, so chunks never nest)."""
    k = min(_num_threads or get_num_threads(), n, n * work_per_sample // (min_work or MIN_CHUNK_WORK))
    if k <= 1 or getattr(_local, "inside", False):
        return [slice(0, n)]
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def sum_parts(parts: Sequence[Any]) -> Any:
    """The sum of the chunks' partial results (a weight gradient summed over the batch chunks)."""
    return functools.reduce(operator.add, parts)


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """fn(*args) started on a worker thread (at once on this thread when shendu runs on one), for work that can
    overlap with what the calling thread does next; `.result()` waits for it."""
    if get_num_threads() == 1 or getattr(_local, "inside", False):
        done: Future = Future()
        done.set_result(fn(*args))
        return done
    return _workers().submit(fn, *args)


def _workers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(get_num_threads() - 1, thread_name_prefix="shendu", initializer=_init_worker)
        # BLAS's idle threads spin after each product and take the cores from these (a CNN step ran 1.4x
        # slower): from now on BLAS runs on one thread and shendu splits its large products itself
        _set_blas_threads(1)
    return _pool


def run_chunks(fn: Callable[..., Any], chunks: Sequence[slice], *per_chunk: Sequence[Any]) -> list[Any]:
    """[fn(chunk, *items) for each chunk]: the calling thread and the workers take the next chunk as they get
    free (a worker wakes up late, so fixed shares would leave the calling thread waiting); results in chunk
    order, an exception raised again here."""
    if len(chunks) == 1:
        return [fn(chunks[0], *(items[0] for items in per_chunk))]
    args = [(chunk, *items) for chunk, *items in zip(chunks, *per_chunk)]
    results: list[Any] = [None] * len(args)
    take = itertools.count().__next__

    def drain() -> None:
        while (i := take()) < len(args):
            results[i] = fn(*args[i])

    pool = _workers()
    futures = [pool.submit(drain) for _ in range(min(get_num_threads(), len(args)) - 1)]
    _local.inside = True
    try:
        with one_blas_thread():
            drain()
    finally:
        _local.inside = False
        wait(futures)
    for f in futures:
        f.result()
    return results
