"""The tutorials' MNIST MLP (784-128-64-10, Adam, batch 64, one epoch) in shendu, PyTorch, Keras/TensorFlow and
JAX, each in its own process; then shendu's full-batch MLP (the seed listing: batches of 60,000) against NumPy's
matrix-product rate measured in its process just before it trains (the rate of the same moment cancels this VM's
drift).

Each framework trains the same network (Glorot-uniform weights, zero biases) on the same 60,000 images; each is
warmed up on a few batches first (Keras traces its graph, JAX compiles its step then), then one full epoch is
timed. JAX runs `jax.jit` around the whole training step with `optax.adam`. The peers run in $PEER_PYTHON (or
--peer-python) when set, shendu in this interpreter.
Run: `python benchmarks/mlp.py [--epochs N] [--full-batch-epochs N] [--frameworks shendu,pytorch,...]
[--threads N] [--rounds N] [--load N] [--peer-python PATH]`; with --rounds, the frameworks run in turn that many
times and each one's best round is shown (the machine's drift then weighs on all alike).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os

import numpy as np
from common import goal_line, mnist, report, run_worker, sgemm_gflops, timed

BATCH, LR, FULL_BATCH = 64, 1e-3, 60_000
SIZES = (784, 128, 64, 10)
FRAMEWORKS = ("shendu", "pytorch", "keras/tensorflow", "jax")
GOAL_RATIO, GOAL_PEAK = 0.8, 0.6


def warmup_size(n: int) -> int:
    """Ten batches plus the epoch's last, partial batch (so JAX has compiled both shapes before the timing)."""
    return 10 * BATCH + n % BATCH


def training_flops(n: int) -> float:
    """FLOPs of forward + backward of the three denses for n samples: 2 m k f per product, the forward and the
    weight gradient in every layer, the input gradient in all but the first."""
    return float(n * sum(2 * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(itertools.pairwise(SIZES))))


def run_shendu(data: tuple, epochs: int, batch: int) -> tuple[float, float]:
    import shendu as sd
    from shendu.keras import Sequential, layers

    (x, y), (xt, yt) = data
    sd.random.seed(0)
    model = Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    warm = warmup_size(len(x)) if batch == BATCH else batch
    model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0))
    return secs / epochs, model.evaluate(xt, yt, verbose=0)[1]


def run_torch(data: tuple, epochs: int, batch: int) -> tuple[float, float]:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(n: int = len(x)) -> None:
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    epoch(warmup_size(len(x)))
    secs, _ = timed(lambda: [epoch() for _ in range(epochs)])
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return secs / epochs, float(acc)


def run_keras(data: tuple, epochs: int, batch: int) -> tuple[float, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    warm = warmup_size(len(x))
    model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0))
    return secs / epochs, float(model.evaluate(xt, yt, verbose=0)[1])


def run_jax(data: tuple, epochs: int, batch: int) -> tuple[float, float]:
    import jax
    import jax.numpy as jnp
    import optax

    (x, y), (xt, yt) = data
    x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    keys = jax.random.split(jax.random.PRNGKey(0), len(SIZES) - 1)
    params = [(jax.nn.initializers.glorot_uniform()(k, (a, b), jnp.float32), jnp.zeros(b, jnp.float32))
              for k, (a, b) in zip(keys, itertools.pairwise(SIZES))]

    def logits(params: list, xb: jax.Array) -> jax.Array:
        for w, b in params[:-1]:
            xb = jax.nn.relu(xb @ w + b)
        w, b = params[-1]
        return xb @ w + b

    def loss(params: list, xb: jax.Array, yb: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(logits(params, xb), yb).mean()

    opt = optax.adam(LR, eps=1e-7)
    state = opt.init(params)

    @jax.jit
    def step(params: list, state: optax.OptState, xb: jax.Array, yb: jax.Array) -> tuple:
        updates, state = opt.update(jax.grad(loss)(params, xb, yb), state, params)
        return optax.apply_updates(params, updates), state

    rng = np.random.default_rng(0)

    def epoch(n: int = len(x)) -> None:
        nonlocal params, state
        perm = rng.permutation(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            params, state = step(params, state, x[idx], y[idx])
        jax.block_until_ready(params)

    epoch(warmup_size(len(x)))
    secs, _ = timed(lambda: [epoch() for _ in range(epochs)])
    acc = (np.asarray(jax.jit(logits)(params, xt)).argmax(1) == yt).mean()
    return secs / epochs, float(acc)


RUNNERS = {"shendu": run_shendu, "pytorch": run_torch, "keras/tensorflow": run_keras, "jax": run_jax}


def worker(name: str, epochs: int, batch: int) -> None:
    """Train one framework; print its seconds per epoch and test accuracy as one JSON line. The full batch's also
    carries NumPy's sgemm rate, measured in its process just before it trains."""
    peak = sgemm_gflops() if batch == FULL_BATCH else None
    secs, acc = RUNNERS[name](mnist(), epochs, batch)
    print(json.dumps({"secs": secs, "acc": float(acc), "sgemm": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--full-batch-epochs", type=int, default=5,
                        help="epochs of shendu's full-batch MLP (0 leaves it out)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated, from " + ", ".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, TF's pools); default: each framework's own")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the frameworks in turn this many times and keep each one's best round")
    parser.add_argument("--load", type=int, default=0, help="busy processes (Python loops) beside each framework")
    parser.add_argument("--peer-python", default=None, help="the interpreter for the peers (default: $PEER_PYTHON)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs, args.batch)
    if args.peer_python:
        os.environ["PEER_PYTHON"] = args.peer_python
    rows: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name in args.frameworks.split(","):
            result = run_worker(__file__, name, ["--epochs", str(args.epochs)], args.threads, args.load)
            if result is not None and (name not in rows or result["secs"] < rows[name][0]):
                rows[name] = (result["secs"], result["acc"])
    loaded = (f", best of {args.rounds} rounds" if args.rounds > 1 else "") + (
        f", beside {args.load} busy processes" if args.load else "")
    if rows:
        report(f"MNIST MLP 784-128-64-10, Adam, batch {BATCH}, 60000 images, {os.cpu_count()} cores{loaded}", rows)
    if "shendu" in rows:
        peers = {n: s for n, (s, _) in rows.items() if n != "shendu"}
        print("  " + goal_line(f"MLP batch {BATCH}", rows["shendu"][0], peers, GOAL_RATIO))
    if args.full_batch_epochs and "shendu" in args.frameworks.split(","):
        runs = [run_worker(__file__, "shendu", ["--epochs", str(args.full_batch_epochs), "--batch", str(FULL_BATCH)],
                           args.threads, args.load) for _ in range(args.rounds)]
        result = min((r for r in runs if r is not None), key=lambda r: r["secs"], default=None)
        if result is not None:
            rate, peak = training_flops(FULL_BATCH) / result["secs"] / 1e9, result["sgemm"]
            print(f"  MLP full batch {FULL_BATCH}: shendu {result['secs']:.3f} s/epoch, {rate:.1f} GFLOP/s effective, "
                  f"NumPy sgemm {peak:.1f} GFLOP/s before it, fraction {rate / peak:.3f} (goal >= {GOAL_PEAK}: "
                  f"{'met' if rate / peak >= GOAL_PEAK else 'not met'})")


if __name__ == "__main__":
    main()
