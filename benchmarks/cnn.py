"""The tutorials' MNIST CNN (Conv 32 - pool - Conv 64 - pool - Dense 128 - Dropout - Dense 10, Adam, batch 64)
trained in shendu, PyTorch eager and Keras/TensorFlow, each in its own process.

Separate processes keep one framework's spinning worker threads (OpenMP, OpenBLAS) off the cores of the
next, and give each its own peak RSS. Each framework is warmed up on 10 batches, then timed on the epochs.
Run: `python benchmarks/cnn.py [--epochs N] [--limit N] [--threads N] [--rounds N]
[--frameworks shendu,pytorch,keras/tensorflow]`. shendu runs its compiled loops (pooling, Winograd convolutions,
Adam) when numba is installed (`pip install 'shendu[fast]'`); SHENDU_NUMBA=0 measures the pure-NumPy path.
"""

from __future__ import annotations

import argparse
import json
import os

from common import mnist, peak_rss_mb, report, run_worker, timed

BATCH, LR, WARMUP = 64, 1e-3, 640
FRAMEWORKS = ("shendu", "pytorch", "keras/tensorflow")


def training_flops(n: int) -> float:
    """FLOPs of forward + backward of the convs and denses for n images: 2 m k f per matrix product, the
    forward once, the kernel gradient once and the input gradient once (none for the first conv)."""
    conv1 = 2 * 26 * 26 * (3 * 3 * 1) * 32 * 2          # forward + dkernel
    conv2 = 2 * 11 * 11 * (3 * 3 * 32) * 64 * 3         # forward + dkernel + dx
    dense = 2 * (5 * 5 * 64 * 128 + 128 * 10) * 3
    return float(n * (conv1 + conv2 + dense))


def run_shendu(data: tuple, epochs: int) -> tuple[float, float, float]:
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
    model.fit(x[:WARMUP], y[:WARMUP], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0))
    return secs / epochs, peak_rss_mb(), model.evaluate(xt, yt, verbose=0)[1]


def run_torch(data: tuple, epochs: int) -> tuple[float, float, float]:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10))
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

    epoch(WARMUP)
    secs, _ = timed(lambda: [epoch() for _ in range(epochs)])
    rss = peak_rss_mb()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt).permute(0, 3, 1, 2)).argmax(1).numpy() == yt).mean()
    return secs / epochs, rss, float(acc)


def run_keras(data: tuple, epochs: int) -> tuple[float, float, float]:
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
    model.fit(x[:WARMUP], y[:WARMUP], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0))
    return secs / epochs, peak_rss_mb(), float(model.evaluate(xt, yt, verbose=0)[1])


RUNNERS = {"shendu": run_shendu, "pytorch": run_torch, "keras/tensorflow": run_keras}


def worker(name: str, epochs: int, limit: int | None) -> None:
    """Train one framework; print its time, accuracy and peak RSS up to the end of training as one JSON line."""
    (x, y), test = mnist()
    x = x[:limit, ..., None] if limit else x[..., None]
    secs, rss, acc = RUNNERS[name](((x, y[:len(x)]), (test[0][..., None], test[1])), epochs)
    print(json.dumps({"secs": secs, "acc": float(acc), "rss_mb": rss, "n": len(x)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated, from " + ", ".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, TF's pools); default: each framework's own")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the frameworks in turn this many times and keep each one's best epoch (a shared "
                             "machine's speed drifts over minutes; interleaving gives each framework the same drift)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs, args.limit)
    rows, rss, n = {}, {}, None
    for _ in range(args.rounds):
        for name in args.frameworks.split(","):
            extra = ["--epochs", str(args.epochs)] + (["--limit", str(args.limit)] if args.limit else [])
            result = run_worker(__file__, name, extra, args.threads)
            if result is None or (name in rows and rows[name][0] <= result["secs"]):
                continue
            rows[name], rss[name], n = (result["secs"], result["acc"]), result["rss_mb"], result["n"]
    if not rows:
        return
    threads = f"{args.threads} thread(s) each" if args.threads else "default threads"
    best = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
    report(f"MNIST CNN (tutorial), Adam, batch {BATCH}, {n} images, {args.epochs} epoch(s), {os.cpu_count()} cores, "
           f"{threads}{best}", rows)
    for name, mb in rss.items():
        print(f"  {name:<18} peak RSS {mb:7.0f} MB (data and model included, up to the end of training)")
    if "shendu" in rows:
        from shendu.ops import kernels

        flops = training_flops(n)
        loops = f"on (numba {kernels.numba.__version__})" if kernels.enabled() else "off (pure NumPy)"
        print(f"  shendu: compiled loops {loops}; {flops / 1e12:.3f} TFLOP per epoch as direct convolutions and "
              f"denses (forward + backward), {flops / rows['shendu'][0] / 1e9:.1f} GFLOP/s effective")
        peers = [s for name, (s, _) in rows.items() if name != "shendu"]
        if peers:
            ratio = rows["shendu"][0] / min(peers)
            print(f"  goal: shendu at most 1.0x the fastest peer's time; measured {ratio:.2f}x")


if __name__ == "__main__":
    main()
