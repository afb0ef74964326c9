"""The tutorials' MNIST CNN (Conv 32 - pool - Conv 64 - pool - Dense 128 - Dropout - Dense 10, Adam, batch 64)
trained in shendu (compiled loops, and pure NumPy with SHENDU_NUMBA=0), PyTorch eager, Keras/TensorFlow and JAX,
each in its own process; then prediction throughput and peak memory, and NumPy's matrix-product rate measured in
shendu's process just before it trains, against which shendu's effective FLOP rate is set (this VM's speed drifts
over minutes; the rate of the same moment cancels the drift).

Separate processes keep one framework's spinning worker threads (OpenMP, OpenBLAS) off the cores of the
next, and give each its own peak RSS. Each framework is warmed up on 10 batches, then timed on the epochs;
prediction is timed on the second pass over the test images (the first compiles or traces). JAX runs `jax.jit`
around the whole training step with `optax.adam`. The peers run in $PEER_PYTHON (or --peer-python) when set.
Run: `python benchmarks/cnn.py [--quick] [--epochs N] [--limit N] [--threads N] [--rounds N] [--load N]
[--frameworks shendu,shendu-numpy,pytorch,keras/tensorflow,jax] [--peer-python PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from common import goal_line, mnist, peak_rss_mb, report, run_worker, sgemm_gflops, timed

BATCH, LR, PREDICT_BATCH, QUICK_LIMIT = 64, 1e-3, 256, 6400
FRAMEWORKS = ("shendu", "shendu-numpy", "pytorch", "keras/tensorflow", "jax")
GOAL_RATIO, GOAL_NUMPY_RATIO, GOAL_PEAK = 1 / 1.7, 1.0, 0.6


def warmup_size(n: int) -> int:
    """Ten batches plus the epoch's last, partial batch (so JAX has compiled both shapes before the timing)."""
    return 10 * BATCH + n % BATCH


def training_flops(n: int) -> float:
    """FLOPs of forward + backward of the convs and denses for n images: 2 m k f per matrix product, the
    forward once, the kernel gradient once and the input gradient once (none for the first conv)."""
    conv1 = 2 * 26 * 26 * (3 * 3 * 1) * 32 * 2          # forward + dkernel
    conv2 = 2 * 11 * 11 * (3 * 3 * 32) * 64 * 3         # forward + dkernel + dx
    dense = 2 * (5 * 5 * 64 * 128 + 128 * 10) * 3
    return float(n * (conv1 + conv2 + dense))


def predict_rate(predict: object, xt: np.ndarray, yt: np.ndarray) -> tuple[float, float]:
    """Images per second of the second pass of predict(xt) (the first compiles or traces) and its accuracy."""
    predict(xt)
    secs, out = timed(lambda: predict(xt))
    return len(xt) / secs, float((np.asarray(out).argmax(1) == yt).mean())


def run_shendu(data: tuple, epochs: int) -> dict:
    import shendu as sd
    from shendu.keras import Sequential, layers

    (x, y), (xt, yt) = data
    sd.random.seed(0)
    model = Sequential([layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
                        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128, activation="relu"),
                        layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    warm = warmup_size(len(x))
    model.fit(x[:warm], y[:warm], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0))
    rss = peak_rss_mb()
    rate, acc = predict_rate(lambda a: model.predict(a, batch_size=PREDICT_BATCH, verbose=0), xt, yt)
    return {"secs": secs / epochs, "rss_mb": rss, "acc": acc, "predict": rate}


def run_torch(data: tuple, epochs: int) -> dict:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10))
    for m in model:
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y)  # NHWC -> NCHW

    def epoch(n: int = len(x)) -> None:
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    def predict(a: np.ndarray) -> np.ndarray:
        model.eval()
        inputs = torch.from_numpy(a).permute(0, 3, 1, 2)
        with torch.no_grad():
            return torch.cat([model(inputs[i:i + PREDICT_BATCH]) for i in range(0, len(a), PREDICT_BATCH)]).numpy()

    epoch(warmup_size(len(x)))
    secs, _ = timed(lambda: [epoch() for _ in range(epochs)])
    rss = peak_rss_mb()
    rate, acc = predict_rate(predict, xt, yt)
    return {"secs": secs / epochs, "rss_mb": rss, "acc": acc, "predict": rate}


def run_keras(data: tuple, epochs: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu"),
                              layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
                              layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    warm = warmup_size(len(x))
    model.fit(x[:warm], y[:warm], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0))
    rss = peak_rss_mb()
    rate, acc = predict_rate(lambda a: model.predict(a, batch_size=PREDICT_BATCH, verbose=0), xt, yt)
    return {"secs": secs / epochs, "rss_mb": rss, "acc": acc, "predict": rate}


def run_jax(data: tuple, epochs: int) -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    (x, y), (xt, yt) = data
    init, keys = jax.nn.initializers.glorot_uniform(), jax.random.split(jax.random.PRNGKey(0), 5)
    shapes = [(3, 3, 1, 32), (3, 3, 32, 64), (1600, 128), (128, 10)]
    params = [(init(k, s, jnp.float32), jnp.zeros(s[-1], jnp.float32)) for k, s in zip(keys, shapes)]

    def conv_relu_pool(h: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
        h = jax.lax.conv_general_dilated(h, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jax.lax.reduce_window(jax.nn.relu(h + b), -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def logits(params: list, h: jax.Array, key: jax.Array | None = None) -> jax.Array:
        h = conv_relu_pool(conv_relu_pool(h, *params[0]), *params[1]).reshape(len(h), -1)
        h = jax.nn.relu(h @ params[2][0] + params[2][1])
        if key is not None:  # Dropout(0.2) while training
            h = jnp.where(jax.random.bernoulli(key, 0.8, h.shape), h / 0.8, 0.0)
        return h @ params[3][0] + params[3][1]

    def loss(params: list, xb: jax.Array, yb: jax.Array, key: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(logits(params, xb, key), yb).mean()

    opt = optax.adam(LR, eps=1e-7)
    state = opt.init(params)

    @jax.jit
    def step(params: list, state: optax.OptState, xb: jax.Array, yb: jax.Array, i: jax.Array) -> tuple:
        updates, state = opt.update(jax.grad(loss)(params, xb, yb, jax.random.fold_in(keys[4], i)), state, params)
        return optax.apply_updates(params, updates), state

    rng, forward = np.random.default_rng(0), jax.jit(logits)

    def epoch(n: int = len(x)) -> None:
        nonlocal params, state
        perm = rng.permutation(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            params, state = step(params, state, x[idx], y[idx], i)
        jax.block_until_ready(params)

    def predict(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(forward(params, a[i:i + PREDICT_BATCH]))
                               for i in range(0, len(a), PREDICT_BATCH)])

    epoch(warmup_size(len(x)))
    secs, _ = timed(lambda: [epoch() for _ in range(epochs)])
    rss = peak_rss_mb()
    rate, acc = predict_rate(predict, xt, yt)
    return {"secs": secs / epochs, "rss_mb": rss, "acc": acc, "predict": rate}


RUNNERS = {"shendu": run_shendu, "shendu-numpy": run_shendu, "pytorch": run_torch, "keras/tensorflow": run_keras,
           "jax": run_jax}


def worker(name: str, epochs: int, limit: int | None) -> None:
    """Train one framework and time its prediction; print the figures as one JSON line. shendu's also carry NumPy's
    sgemm rate, measured in its process just before it trains, which its effective rate is set against."""
    peak = sgemm_gflops() if name.startswith("shendu") else None
    (x, y), test = mnist()
    x = x[:limit, ..., None] if limit else x[..., None]
    result = RUNNERS[name](((x, y[:len(x)]), (test[0][..., None], test[1])), epochs)
    print(json.dumps({**result, "n": len(x), "sgemm": peak}))


def print_goals(results: dict[str, dict], n: int) -> None:
    """The issue's goals, each beside its figure: time against the fastest peer (both shendu paths), the
    effective FLOP rate against NumPy's sgemm, prediction throughput, and peak memory against PyTorch's."""
    peers = {k: r for k, r in results.items() if not k.startswith("shendu")}
    times = {k: r["secs"] for k, r in peers.items()}
    flops = training_flops(n)
    for name, goal in (("shendu", GOAL_RATIO), ("shendu-numpy", GOAL_NUMPY_RATIO)):
        if name in results:
            print("  " + goal_line(f"CNN batch {BATCH} ({name})", results[name]["secs"], times, round(goal, 2)))
            rate, peak = flops / results[name]["secs"] / 1e9, results[name]["sgemm"]
            met = "met" if rate / peak >= GOAL_PEAK else "not met"
            print(f"  CNN effective rate ({name}): {rate:.1f} GFLOP/s ({flops / 1e12:.3f} TFLOP per epoch as direct "
                  f"convolutions and denses), NumPy sgemm {peak:.1f} GFLOP/s before it, fraction {rate / peak:.3f} "
                  f"(goal >= {GOAL_PEAK}: {met})")
    if "shendu" in results and peers:
        fastest = max(peers, key=lambda k: peers[k]["predict"])
        ratio = results["shendu"]["predict"] / peers[fastest]["predict"]
        print(f"  CNN predict (batch {PREDICT_BATCH}): shendu {results['shendu']['predict']:.0f} images/s, fastest "
              f"peer {fastest} {peers[fastest]['predict']:.0f} images/s, ratio {ratio:.2f}x (goal >= 1.0x: "
              f"{'met' if ratio >= 1.0 else 'not met'})")
    if "shendu" in results and "pytorch" in results:
        ratio = results["shendu"]["rss_mb"] / results["pytorch"]["rss_mb"]
        print(f"  CNN peak memory: shendu {results['shendu']['rss_mb']:.0f} MB, pytorch "
              f"{results['pytorch']['rss_mb']:.0f} MB, ratio {ratio:.2f}x (goal < 1.0x: "
              f"{'met' if ratio < 1.0 else 'not met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--quick", action="store_true", help=f"train on {QUICK_LIMIT} images (as --limit)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated, from " + ", ".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, TF's pools); default: each framework's own")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the frameworks in turn this many times and keep each one's best epoch and predict "
                             "(a shared machine's speed drifts over minutes; interleaving gives each framework the "
                             "same drift)")
    parser.add_argument("--load", type=int, default=0, help="busy processes (Python loops) beside each framework")
    parser.add_argument("--peer-python", default=None, help="the interpreter for the peers (default: $PEER_PYTHON)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    limit = args.limit or (QUICK_LIMIT if args.quick else None)
    if args.worker:
        return worker(args.worker, args.epochs, limit)
    if args.peer_python:
        os.environ["PEER_PYTHON"] = args.peer_python
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name in args.frameworks.split(","):
            extra = ["--epochs", str(args.epochs)] + (["--limit", str(limit)] if limit else [])
            result = run_worker(__file__, name, extra, args.threads, args.load)
            if result is None:
                continue
            best = results.get(name)
            if best is None or result["secs"] < best["secs"]:  # the best round's training; its best predict
                results[name] = {**result, "predict": max(result["predict"], best["predict"] if best else 0.0)}
            else:
                best["predict"] = max(best["predict"], result["predict"])
    if not results:
        return
    n = next(iter(results.values()))["n"]
    threads = f"{args.threads} thread(s) each" if args.threads else "default threads"
    extras = (f", best of {args.rounds} rounds" if args.rounds > 1 else "") + (
        f", beside {args.load} busy processes" if args.load else "")
    report(f"MNIST CNN (tutorial), Adam, batch {BATCH}, {n} images, {args.epochs} epoch(s), {os.cpu_count()} cores, "
           f"{threads}{extras}", {name: (r["secs"], r["acc"]) for name, r in results.items()})
    for name, r in results.items():
        print(f"  {name:<18} peak RSS {r['rss_mb']:7.0f} MB (to the end of training), predict {r['predict']:7.0f} "
              f"images/s")
    print_goals(results, n)


if __name__ == "__main__":
    main()
