"""The tutorials' MNIST MLP (784-128-64-10, Adam, batch 64, one epoch) in shendu, PyTorch and Keras.

Each framework trains the same network on the same 60,000 images; each is warmed up on a few batches
first (Keras traces its graph then), then one full epoch is timed. Run: `python benchmarks/mlp.py`.
"""

from __future__ import annotations

import os

from common import mnist, report, skipped, timed

BATCH, EPOCHS, LR = 64, 1, 1e-3


def run_shendu(data: tuple) -> tuple[float, float]:
    import shendu as sd
    from shendu.keras import Sequential, layers

    (x, y), (xt, yt) = data
    sd.random.seed(0)
    model = Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0))
    return secs / EPOCHS, model.evaluate(xt, yt, verbose=0)[1]


def run_torch(data: tuple) -> tuple[float, float]:
    import torch
    from torch import nn

    (x, y), (xt, yt) = data
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(n: int = len(x)) -> None:
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()

    epoch(640)
    secs, _ = timed(lambda: [epoch() for _ in range(EPOCHS)])
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return secs / EPOCHS, float(acc)


def run_keras(data: tuple) -> tuple[float, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    (x, y), (xt, yt) = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:640], y[:640], batch_size=BATCH, epochs=1, verbose=0)
    secs, _ = timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0))
    return secs / EPOCHS, float(model.evaluate(xt, yt, verbose=0)[1])


def main() -> None:
    data = mnist()
    rows = {}
    for name, fn in (("shendu", run_shendu), ("pytorch", run_torch), ("keras/tensorflow", run_keras)):
        try:
            rows[name] = fn(data)
        except ImportError as err:
            skipped(name, err)
    report(f"MNIST MLP 784-128-64-10, Adam, batch {BATCH}, {len(data[0][0])} images, {os.cpu_count()} cores",
           rows)
    if "shendu" in rows and "pytorch" in rows:
        print(f"  goal: shendu at most 0.7x PyTorch's time; measured {rows['shendu'][0] / rows['pytorch'][0]:.2f}x")


if __name__ == "__main__":
    main()
