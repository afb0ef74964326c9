"""The tutorials' two-layer LSTM: LSTM(64, return_sequences=True) -> LSTM(64) -> Dense(10, softmax), Adam,
sparse categorical cross-entropy, batches of 64 sequences of 50 steps with 10 features, one epoch of 10,000
generated sequences, in shendu, PyTorch eager (nn.LSTM x2 + Linear) and Keras/TensorFlow, each in its own process.

Each framework is warmed up on a few batches, then one epoch is timed `--repeats` times and the fastest counts
(the machine may be shared). `--threads N` sets every framework's thread pools (as benchmarks/cnn.py).
Run: `python benchmarks/lstm.py [--repeats N] [--threads N] [--frameworks shendu,pytorch,keras/tensorflow]`.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from common import report, run_worker, timed

BATCH, STEPS, FEATURES, UNITS, CLASSES, SAMPLES, LR = 64, 50, 10, 64, 10, 10_000, 1e-3
FRAMEWORKS = ("shendu", "pytorch", "keras/tensorflow")


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences whose class is the feature with the largest mean over the steps (a whole-sequence property)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    y = x.mean(axis=1).argmax(axis=1).astype("int64")
    return x, y


def run_shendu(data: tuple, repeats: int) -> tuple[float, float]:
    import shendu as sd
    from shendu.keras import Sequential, layers
    from shendu.layers.recurrent import LSTM

    (x, y), (xt, yt) = data
    sd.random.seed(0)
    model = Sequential([LSTM(UNITS, return_sequences=True, input_shape=(STEPS, FEATURES)), LSTM(UNITS),
                        layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs = min(timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0))[0] for _ in range(repeats))
    return secs, model.evaluate(xt, yt, verbose=0)[1]


def run_torch(data: tuple, repeats: int) -> tuple[float, float]:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm1 = nn.LSTM(FEATURES, UNITS, batch_first=True)
            self.lstm2 = nn.LSTM(UNITS, UNITS, batch_first=True)
            self.dense = nn.Linear(UNITS, CLASSES)

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            seq, _ = self.lstm1(inputs)
            _, (h, _) = self.lstm2(seq)
            return self.dense(h[-1])

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(n: int = len(x)) -> None:
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(xs[idx]), ys[idx]).backward()
            opt.step()

    epoch(640)
    secs = min(timed(epoch)[0] for _ in range(repeats))
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return secs, float(acc)


def run_keras(data: tuple, repeats: int) -> tuple[float, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.LSTM(UNITS, return_sequences=True),
                              keras.layers.LSTM(UNITS), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs = min(timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0))[0] for _ in range(repeats))
    return secs, float(model.evaluate(xt, yt, verbose=0)[1])


RUNNERS = {"shendu": run_shendu, "pytorch": run_torch, "keras/tensorflow": run_keras}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per framework; the fastest counts")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated, from " + ", ".join(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (BLAS, OpenMP, TF's pools); default: each framework's own")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        secs, acc = RUNNERS[args.worker]((make_data(SAMPLES, 0), make_data(2_000, 1)), args.repeats)
        print(json.dumps({"secs": secs, "acc": float(acc)}))
        return
    rows = {}
    for name in args.frameworks.split(","):
        result = run_worker(__file__, name, ["--repeats", str(args.repeats)], args.threads)
        if result is None:
            continue
        rows[name] = (result["secs"], result["acc"])
    if not rows:
        return
    threads = f"{args.threads} thread(s) each" if args.threads else "default threads"
    report(f"Two-layer LSTM(64), Adam, batch {BATCH}, {SAMPLES} sequences of {STEPS}x{FEATURES}, "
           f"{os.cpu_count()} cores, {threads}, best of {args.repeats} epochs", rows)
    peers = {k: v[0] for k, v in rows.items() if k != "shendu"}
    if "shendu" in rows and peers:
        fastest = min(peers, key=peers.get)
        print(f"  goal: shendu at most 1.0x the fastest peer ({fastest}); "
              f"measured {rows['shendu'][0] / peers[fastest]:.2f}x")


if __name__ == "__main__":
    main()
