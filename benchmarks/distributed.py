"""Data parallelism on this machine: 2 ranks x 1 thread (mpiexec) against 1 process x 2 threads, per epoch, for
the tutorials' MLP and CNN on MNIST (batch 128 global), and the allreduce time of their gradients.

    python benchmarks/distributed.py [--samples 12000] [--epochs 2]

Prints one line per configuration; docs/distributed.md explains the scaling model these numbers feed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)


def worker(model_name: str, samples: int, epochs: int, batch: int) -> None:
    """Runs in each process: time the epochs after the first (warm-up) and the gradient allreduce."""
    import shendu as tf
    from shendu import cli, keras
    from shendu.distribute.strategy import communicator

    (x, y), _ = cli._load("mnist")
    x, y = x[:samples], y[:samples]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = cli.ARCHITECTURES[model_name]()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)  # warm-up (compiled loops)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    per_epoch = (time.perf_counter() - start) / epochs
    comm = communicator()
    grads = np.zeros(model.count_params() + 1, "float32")
    comm.allreduce_(grads)
    start = time.perf_counter()
    for _ in range(20):
        comm.allreduce_(grads)
    allreduce = (time.perf_counter() - start) / 20
    if strategy.is_chief:
        steps = -(-samples // batch)
        print(f"RESULT {model_name} ranks={comm.size} threads={tf.get_num_threads()} epoch_s={per_epoch:.3f} "
              f"step_ms={1000 * per_epoch / steps:.2f} allreduce_ms={1000 * allreduce:.3f} "
              f"grad_bytes={4 * model.count_params()}", flush=True)


def run(model: str, ranks: int, threads: int, args: argparse.Namespace) -> str:
    from shendu.distribute.launch import find_mpiexec

    env = dict(os.environ, SHENDU_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), PYTHONPATH=ROOT)
    command = [sys.executable, __file__, "--worker", model, "--samples", str(args.samples), "--epochs",
               str(args.epochs), "--batch", str(args.batch)]
    if ranks > 1:
        command = [find_mpiexec(), "-n", str(ranks), *command]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return next(line[len("RESULT "):] for line in out.splitlines() if line.startswith("RESULT "))


LATENCY_S = 20e-6  # per message of the ring (TCP over Ethernet; about 2 us on InfiniBand)


def ring_allreduce_s(nbytes: float, ranks: int, gbit_per_s: float, latency_s: float = LATENCY_S) -> float:
    """Ring allreduce: 2(p-1) steps, each moving bytes/p over every link: 2(p-1)/p x bytes / bandwidth + 2(p-1) x
    latency."""
    return 2 * (ranks - 1) / ranks * nbytes / (gbit_per_s * 1e9 / 8) + 2 * (ranks - 1) * latency_s


def scaling_table(name: str, step_s: float, nbytes: float) -> None:
    """Efficiency t_compute / (t_compute + t_allreduce) per step, each rank on its own machine with the per-rank
    batch of the measured single-process step (weak scaling; no overlap of the allreduce with the backward pass)."""
    ranks = (2, 4, 8, 16, 32, 64, 128, 256)
    print(f"\n{name}: compute {1000 * step_s:.2f} ms/step per rank, gradients {nbytes / 1e6:.2f} MB; efficiency")
    print("| Gbit/s | " + " | ".join(f"p={p}" for p in ranks) + " |")
    print("|---|" + "---|" * len(ranks))
    for bw in (1, 10, 25, 100):
        cells = [f"{step_s / (step_s + ring_allreduce_s(nbytes, p, bw)):.2f}" for p in ranks]
        print(f"| {bw} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--worker", default=None)
    parser.add_argument("--configs", default="1x2,2x1,1x1,3x1", help="ranks x threads, comma-separated")
    parser.add_argument("--table", nargs=3, metavar=("NAME", "STEP_MS", "BYTES"), default=None,
                        help="only print the scaling table for this compute time per step and gradient size")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.samples, args.epochs, args.batch)
        return
    if args.table:
        scaling_table(args.table[0], float(args.table[1]) / 1000, float(args.table[2]))
        return
    print(f"# {args.samples} MNIST images, global batch {args.batch}, {os.cpu_count()} cores (shared machine)")
    for model in ("mlp", "cnn"):
        for config in args.configs.split(","):
            ranks, threads = map(int, config.split("x"))
            line = run(model, ranks, threads, args)
            print(line, flush=True)
            fields = dict(item.split("=") for item in line.split()[1:])
            if config == "1x1":
                single = (float(fields["step_ms"]) / 1000, float(fields["grad_bytes"]))
        scaling_table(model, *single)


if __name__ == "__main__":
    main()
