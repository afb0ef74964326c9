"""Shared pieces of the benchmarks: MNIST loading, timing, peak memory, the workers' processes, busy processes
for a loaded machine, NumPy's matrix-product rate, and the printed table with each goal beside its figure."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

RESULTS_ENV = "SHENDU_BENCH_RESULTS"
"""When set, `report` also appends each row as a JSON line to this file (benchmarks/loaded.py reads them)."""


def mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as float32 in [0, 1] with integer labels (read through SHENDU_DATA_DIR when set)."""
    from shendu.datasets import mnist as loader

    (x, y), (xt, yt) = loader.load_data()
    return (x.astype("float32") / 255.0, y.astype("int64")), (xt.astype("float32") / 255.0, yt.astype("int64"))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by fn() and its result."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(title: str, rows: dict[str, tuple[float, float]], unit: str = "s/epoch") -> None:
    """Print time and accuracy per framework and each peer's time relative to shendu's (and record the rows
    where RESULTS_ENV names a file)."""
    print(f"\n{title}")
    base = rows.get("shendu")
    for name, (secs, acc) in rows.items():
        line = f"  {name:<18} {secs:8.3f} {unit}   test accuracy {acc:.4f}"
        if base and name != "shendu":
            line += f"   shendu/{name} = {base[0] / secs:.2f}x"
        print(line)
    if os.environ.get(RESULTS_ENV):
        with open(os.environ[RESULTS_ENV], "a") as f:
            for name, (secs, acc) in rows.items():
                f.write(json.dumps({"title": title, "name": name, "secs": secs, "acc": acc}) + "\n")


def goal_line(label: str, shendu: float, peers: dict[str, float], goal: float, unit: str = "s") -> str:
    """'<label>: shendu 1.02 s, fastest peer JAX 0.95 s, ratio 1.07x (goal <= 0.8x: not met)' for a time
    (lower is better) against the fastest peer."""
    if not peers:
        return f"{label}: shendu {shendu:.3f} {unit}, no peer ran (goal <= {goal}x: not measured)"
    fastest = min(peers, key=peers.get)
    ratio = shendu / peers[fastest]
    return (f"{label}: shendu {shendu:.3f} {unit}, fastest peer {fastest} {peers[fastest]:.3f} {unit}, ratio "
            f"{ratio:.2f}x (goal <= {goal}x: {'met' if ratio <= goal else 'not met'})")


def skipped(name: str, err: Exception) -> None:
    print(f"  {name:<18} not run: {type(err).__name__}: {err}")


def thread_env(threads: int | None) -> dict[str, str]:
    """The environment for a worker, with every thread pool the frameworks read set to `threads` when given
    (on a shared machine, pools larger than the free cores spin and wait on descheduled threads)."""
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS"):
            env[var] = str(threads)
    return env


def peer_python() -> str:
    """The interpreter for the peers (PyTorch, Keras, JAX): $PEER_PYTHON, else this one."""
    return os.environ.get("PEER_PYTHON", sys.executable)


def run_worker(script: str, name: str, args: list[str], threads: int | None, load: int = 0) -> dict[str, Any] | None:
    """Run `script --worker name *args` in its own process (so frameworks' thread pools do not fight; shendu in
    this interpreter, `shendu-numpy` with SHENDU_NUMBA=0, the peers in `peer_python()`), beside `load` busy
    processes, and return the JSON line it prints last; print why and return None when it could not run."""
    python = sys.executable if name.startswith("shendu") else peer_python()
    env = thread_env(threads)
    if name == "shendu-numpy":
        env["SHENDU_NUMBA"] = "0"
    with busy_processes(load):
        proc = subprocess.run([python, script, "--worker", name, *args], capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        skipped(name, RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1]))
        return None
    return json.loads(lines[-1])


@contextlib.contextmanager
def busy_processes(n: int) -> Iterator[None]:
    """n processes that each spin a plain Python loop while inside: a machine where other programs take cores."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if procs:
            time.sleep(0.5)  # the loops are running before the measurement starts
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def sgemm_gflops(size: int = 2048, repeats: int = 5) -> float:
    """NumPy's float32 matrix-product rate in GFLOP/s (best of `repeats` products of two size x size matrices),
    the peak that the effective FLOP rates are measured against."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)
    a @ b
    best = min(timed(lambda: a @ b)[0] for _ in range(repeats))
    return 2 * size**3 / best / 1e9
