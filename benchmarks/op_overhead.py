"""Per-step overhead of the autograd engine: forward + backward of a small graph, shendu vs PyTorch eager.

The graph is `relu(x @ w + b).sum()` with x 64x128, w 128x128, b 128 (float32), small enough that
Python overhead (op dispatch, graph recording, the backward walk) is a large share of the time.
Both frameworks get the same number of threads (NumPy's BLAS through the environment, set before
NumPy loads; torch through `set_num_threads`). The machine may be shared, so each framework is timed
in several interleaved rounds and the best and the median round are reported.

Run: `python benchmarks/op_overhead.py [--threads N] [--steps N] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # run from a checkout without installing


def time_round(step: Callable[[], None], steps: int) -> float:
    """Microseconds per call of step, averaged over `steps` calls."""
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1e6


def shendu_step(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Callable[[], None]:
    import shendu as sd

    xt = sd.tensor(x)
    wt = sd.tensor(w.copy(), requires_grad=True)
    bt = sd.tensor(b.copy(), requires_grad=True)

    def step() -> None:
        wt.grad = bt.grad = None
        (xt @ wt + bt).relu().sum().backward()

    return step


def torch_step(x: np.ndarray, w: np.ndarray, b: np.ndarray, threads: int) -> Callable[[], None]:
    import torch

    torch.set_num_threads(threads)
    xt = torch.from_numpy(x)
    wt = torch.from_numpy(w.copy()).requires_grad_()
    bt = torch.from_numpy(b.copy()).requires_grad_()

    def step() -> None:
        wt.grad = bt.grad = None
        (xt @ wt + bt).relu().sum().backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, 2))
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed round")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per framework")
    args = parser.parse_args()
    if "numpy" in sys.modules:
        print("warning: NumPy was loaded before the thread count could be set")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 128), dtype=np.float32)
    w = rng.standard_normal((128, 128), dtype=np.float32) * 0.1
    b = rng.standard_normal(128, dtype=np.float32) * 0.1

    steps = {"shendu": shendu_step(x, w, b)}
    try:
        steps["torch"] = torch_step(x, w, b, args.threads)
    except ImportError as err:
        print(f"torch not run ({err}); install torch to compare")
    print(f"relu(x @ w + b).sum() forward+backward, x 64x128, w 128x128, float32, {args.threads} threads, "
          f"{args.repeats} rounds x {args.steps} steps")
    rounds: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm up
        time_round(step, max(args.steps // 10, 10))
    for _ in range(args.repeats):  # interleaved, so that a busy spell hits both frameworks
        for name, step in steps.items():
            rounds[name].append(time_round(step, args.steps))
    for name, times in rounds.items():
        print(f"{name:7s}: {min(times):8.1f} us/step (best)  {statistics.median(times):8.1f} us/step (median)")
    if "torch" in rounds:
        sd_t, th_t = rounds["shendu"], rounds["torch"]
        print(f"ratio shendu/torch: {min(sd_t) / min(th_t):.2f} (best)  "
              f"{statistics.median(sd_t) / statistics.median(th_t):.2f} (median)")


if __name__ == "__main__":
    main()
