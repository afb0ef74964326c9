"""Convolution and pooling ops, forward + backward, shendu vs PyTorch, at the tutorial CNN's shapes.

Each case times one op's forward and backward (with a fixed upstream gradient) on raw float32 arrays:
shendu's `Function` (apply + backward) against `torch.nn.functional` with autograd, the same number of
threads for both (NCHW, PyTorch's default layout). Convolutions include the bias and the ReLU that the
tutorial network applies after them; the first layer's input needs no gradient (as in training). The
frameworks are timed in separate processes, alternated (so that one framework's spinning worker threads
never steal the cores from the other's), and the best round is reported, since the machine may be shared.
Run: `python benchmarks/conv_ops.py [--threads N] [--steps N] [--repeats N] [--processes N] [--default-malloc]`.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

# (name, input NHWC, kind, kernel size or pool size, filters, input needs a gradient)
CASES = [
    ("conv 28x28x1 -> 32, 3x3", (64, 28, 28, 1), "conv", 3, 32, False),
    ("conv 13x13x32 -> 64, 3x3", (64, 13, 13, 32), "conv", 3, 64, True),
    ("maxpool 2x2 26x26x32", (64, 26, 26, 32), "maxpool", 2, 0, True),
    ("maxpool 2x2 11x11x64", (64, 11, 11, 64), "maxpool", 2, 0, True),
    ("avgpool 2x2 26x26x32", (64, 26, 26, 32), "avgpool", 2, 0, True),
]


def shendu_step(shape: tuple[int, ...], kind: str, k: int, filters: int, x_grad: bool) -> Callable[[], None]:
    import numpy as np

    from shendu import Tensor
    from shendu.ops import conv, pool

    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=x_grad)
    if kind == "conv":
        w = Tensor(rng.standard_normal((k, k, shape[3], filters), dtype=np.float32) * 0.1, requires_grad=True)
        b = Tensor(np.zeros(filters, np.float32), requires_grad=True)
        out = (shape[0], shape[1] - k + 1, shape[2] - k + 1, filters)

        def forward() -> Any:
            return conv.conv2d(x, w, b, relu=True)
    else:
        op = pool.MaxPool2D if kind == "maxpool" else pool.AvgPool2D
        out = (shape[0], shape[1] // k, shape[2] // k, shape[3])

        def forward() -> Any:
            return op.apply(x, pool_size=(k, k), strides=(k, k))

    g = rng.standard_normal(out, dtype=np.float32)

    def step() -> None:
        forward().grad_fn.backward(g)

    return step


def torch_step(shape: tuple[int, ...], kind: str, k: int, filters: int, x_grad: bool) -> Callable[[], None]:
    import torch
    import torch.nn.functional as F

    n, h, w_, c = shape
    x = torch.randn(n, c, h, w_, requires_grad=x_grad)
    if kind == "conv":
        w = (torch.randn(filters, c, k, k) * 0.1).requires_grad_()
        b = torch.zeros(filters, requires_grad=True)
        g = torch.randn(n, filters, h - k + 1, w_ - k + 1)

        def forward() -> Any:
            return torch.relu(F.conv2d(x, w, b))
    else:
        pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
        g = torch.randn(n, c, h // k, w_ // k)

        def forward() -> Any:
            return pool(x, k)

    def step() -> None:
        torch.autograd.backward(forward(), g)

    return step


def time_round(step: Callable[[], None], steps: int) -> float:
    """Milliseconds per call of step, over one round of `steps` calls."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def keep_freed_memory() -> None:
    """Make glibc's malloc keep freed memory (no trimming; arrays up to 32 MB from the heap). Both frameworks
    allocate the same large temporaries every step, and in a VM each fresh page costs ~1 us to fault in."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD


def measure(framework: str, threads: int, steps: int, repeats: int) -> dict[str, float]:
    """Best milliseconds per forward+backward of each case, in this process, for one framework."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    make = shendu_step if framework == "shendu" else torch_step
    best = {}
    for name, *case in CASES:
        step = make(*case)
        time_round(step, 3)
        best[name] = min(time_round(step, steps) for _ in range(repeats))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, 2))
    parser.add_argument("--steps", type=int, default=10, help="calls per timed round")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per case in each process")
    parser.add_argument("--processes", type=int, default=2, help="processes per framework, alternated")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc trimming freed memory (each fresh page then faults in again)")
    parser.add_argument("--only", choices=["shendu", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = {v: str(args.threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **threads}
    if args.only:  # a worker: print the results as JSON
        if not args.default_malloc:
            keep_freed_memory()
        print(json.dumps(measure(args.only, args.threads, args.steps, args.repeats)))
        return
    frameworks = ["shendu"]
    if importlib.util.find_spec("torch") is not None:
        frameworks.append("torch")
    else:
        print("torch not installed: shendu only")
    results: dict[str, dict[str, float]] = {f: {} for f in frameworks}
    for _ in range(args.processes):
        for framework in frameworks:
            cmd = [sys.executable, __file__, "--only", framework, "--threads", str(args.threads),
                   "--steps", str(args.steps), "--repeats", str(args.repeats)]
            cmd += ["--default-malloc"] if args.default_malloc else []
            out = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
            for name, ms in out.items():
                results[framework][name] = min(ms, results[framework].get(name, float("inf")))
    malloc = "default malloc" if args.default_malloc else "malloc keeping freed memory"
    print(f"forward + backward per op, float32, batch 64, {args.threads} threads, {malloc}, best of "
          f"{args.processes} processes x {args.repeats} rounds x {args.steps} calls (ms)")
    print(f"{'op':28s} {'shendu':>8s} {'torch':>8s} {'shendu/torch':>13s}")
    for name, *_ in CASES:
        line = f"{name:28s} {results['shendu'][name]:8.3f}"
        if "torch" in results:
            line += f" {results['torch'][name]:8.3f} {results['shendu'][name] / results['torch'][name]:13.2f}"
        print(line)


if __name__ == "__main__":
    main()
