"""Shared pieces of the benchmarks: MNIST loading, timing, peak memory and the printed table."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


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
    """Print time and accuracy per framework and each peer's time relative to shendu's."""
    print(f"\n{title}")
    base = rows.get("shendu")
    for name, (secs, acc) in rows.items():
        line = f"  {name:<18} {secs:8.3f} {unit}   test accuracy {acc:.4f}"
        if base and name != "shendu":
            line += f"   shendu/{name} = {base[0] / secs:.2f}x"
        print(line)


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


def run_worker(script: str, name: str, args: list[str], threads: int | None) -> dict[str, Any] | None:
    """Run `script --worker name *args` in its own process (so frameworks' thread pools do not fight) and return
    the JSON line it prints last; print why and return None when it could not run."""
    cmd = [sys.executable, script, "--worker", name, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(threads))
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        skipped(name, RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1]))
        return None
    return json.loads(lines[-1])
