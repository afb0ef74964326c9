"""shendu on a GPU (CuPy) against PyTorch CUDA on the same GPU, in the same run: training images (or sequences) per
second of the tutorial MLP, CNN and LSTM and of a ResNet-style CIFAR network, at batch 256, and the ratio.

Each model trains on synthetic data of its tutorial's shapes (speed does not depend on the values; the device
machine has no network for the data sets), Adam, a few warm-up steps, then `--steps` timed steps; both frameworks
copy each batch from host memory to the GPU, as `fit` does. The goal: shendu within 1.5x of PyTorch on the CNN and
the MLP. On a machine without CuPy, a GPU or PyTorch CUDA, it says what it could not run and why.
Run: `python benchmarks/gpu.py [--models mlp,cnn,lstm,resnet] [--steps N] [--batch N] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

MODELS = ("mlp", "cnn", "lstm", "resnet")
SHAPES = {"mlp": (28, 28), "cnn": (28, 28, 1), "lstm": (50, 10), "resnet": (32, 32, 3)}
GOAL = {"mlp": 1.5, "cnn": 1.5}
LR, WARMUP = 1e-3, 3


def data(model: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n synthetic samples of the model's input shape (channels last) and labels in 0..9."""
    rng = np.random.default_rng(0)
    return rng.random((n, *SHAPES[model]), dtype=np.float32), rng.integers(0, 10, n)


def shendu_model(name: str) -> Any:
    """The Keras tutorial's network (or a small CIFAR ResNet) in shendu."""
    from shendu.keras import Model, Sequential, layers

    if name == "mlp":
        return Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"),
                           layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    if name == "cnn":
        return Sequential([layers.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                           layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                           layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                           layers.Dense(10, activation="softmax")])
    if name == "lstm":
        return Sequential([layers.Input((50, 10)), layers.LSTM(64, return_sequences=True), layers.LSTM(64),
                           layers.Dense(10, activation="softmax")])
    inputs = layers.Input((32, 32, 3))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(16, 3, padding="same")(inputs)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        y = layers.Activation("relu")(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
        shortcut = x if stride == 1 else layers.BatchNormalization()(layers.Conv2D(filters, 1, strides=stride)(x))
        x = layers.Activation("relu")(layers.Add()([y, shortcut]))
    out = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    return Model(inputs, out)


def run_shendu(name: str, batch: int, steps: int) -> float:
    """Training samples per second of shendu on GPU 0."""
    import cupy

    import shendu as sd

    x, y = data(name, batch * (steps + WARMUP))
    with sd.device("/GPU:0"):
        model = shendu_model(name)
        model.compile(optimizer=sd.keras.optimizers.Adam(LR), loss="sparse_categorical_crossentropy")
        warm = batch * WARMUP
        model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, shuffle=False, verbose=0)
        cupy.cuda.Device(0).synchronize()
        start = time.perf_counter()
        model.fit(x[warm:], y[warm:], batch_size=batch, epochs=1, shuffle=False, verbose=0)
        cupy.cuda.Device(0).synchronize()
    assert all(sd.backend.is_device_array(w.data) for w in model.weights), "weights left the GPU"
    return batch * steps / (time.perf_counter() - start)


def torch_model(name: str) -> Any:
    """The same network in PyTorch (logits; the loss applies the softmax)."""
    from torch import nn

    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                             nn.Linear(64, 10))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(128, 10))
    if name == "lstm":
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = nn.LSTM(10, 64, num_layers=2, batch_first=True)
                self.dense = nn.Linear(64, 10)

            def forward(self, x: Any) -> Any:
                return self.dense(self.rnn(x)[0][:, -1])
        return Net()

    def block(cin: int, cout: int, stride: int) -> Any:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout))

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU())
            self.blocks = nn.ModuleList([block(16, 16, 1), block(16, 32, 2), block(32, 64, 2)])
            self.shortcuts = nn.ModuleList([nn.Identity(), nn.Sequential(nn.Conv2d(16, 32, 1, 2), nn.BatchNorm2d(32)),
                                            nn.Sequential(nn.Conv2d(32, 64, 1, 2), nn.BatchNorm2d(64))])
            self.head = nn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            x = self.stem(x)
            for blk, short in zip(self.blocks, self.shortcuts):
                x = (blk(x) + short(x)).relu()
            return self.head(x.mean(dim=(2, 3)))
    return ResNet()


def run_torch(name: str, batch: int, steps: int) -> float:
    """Training samples per second of PyTorch on CUDA device 0 (eager, float32, TF32 off as shendu's float32)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    x, y = data(name, batch * (steps + WARMUP))
    xt = torch.from_numpy(x if x.ndim != 4 else np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)
    model = torch_model(name).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i: int) -> None:
        xb, yb = xt[i * batch:(i + 1) * batch].cuda(), yt[i * batch:(i + 1) * batch].cuda()
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        loss.item()  # as fit reads each step's loss

    for i in range(WARMUP):
        step(i)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(WARMUP, WARMUP + steps):
        step(i)
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def availability() -> dict[str, str | None]:
    """Why each side cannot run here (None where it can)."""
    from shendu import backend

    shendu_gpu = None if backend.gpu_count() else f"{backend._missing}: {backend.GPU_INSTALL}"
    try:
        import torch
        torch_gpu = None if torch.cuda.is_available() else f"PyTorch {torch.__version__} sees no CUDA device"
    except ImportError:
        torch_gpu = "PyTorch is not installed"
    return {"shendu": shendu_gpu, "pytorch": torch_gpu}


def measure(fn: Callable[[str, int, int], float], name: str, batch: int, steps: int) -> tuple[float | None, str]:
    """(samples per second, '') or (None, the error's last line), so one failing model does not stop the rest."""
    try:
        return fn(name, batch, steps), ""
    except Exception as err:  # report and go on: the table says which model failed where
        traceback.print_exc()
        return None, f"{type(err).__name__}: {err}".splitlines()[0][:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    missing = availability()
    for side, why in missing.items():
        if why:
            print(f"{side} on the GPU: not run: {why}")
    results: list[dict[str, Any]] = []
    if not any(v is None for v in missing.values()):
        print("nothing to measure on this machine")
    else:
        gpu = "?"
        if missing["shendu"] is None:
            from shendu import devices
            gpu = devices.gpu_name(0)
        print(f"GPU: {gpu}; batch {args.batch}, {args.steps} timed steps after {WARMUP} warm-up steps, Adam, float32")
        print(f"{'model':8} {'shendu/s':>10} {'pytorch/s':>10} {'ratio':>7}  goal   note")
        for name in args.models.split(","):
            ours, why_ours = (None, "not run") if missing["shendu"] else measure(run_shendu, name, args.batch,
                                                                                  args.steps)
            theirs, why_theirs = (None, "not run") if missing["pytorch"] else measure(run_torch, name, args.batch,
                                                                                       args.steps)
            ratio = theirs / ours if ours and theirs else None
            goal = GOAL.get(name)
            verdict = "" if goal is None or ratio is None else ("met" if ratio <= goal else "MISSED")
            print(f"{name:8} {ours or 0:10.0f} {theirs or 0:10.0f} {ratio or 0:7.2f}  "
                  f"{'<=' + str(goal) if goal else '-':5}  {verdict} {why_ours or why_theirs}")
            results.append({"model": name, "shendu_per_s": ours, "pytorch_per_s": theirs, "ratio": ratio,
                            "goal": goal, "gpu": gpu, "errors": [why_ours, why_theirs]})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"missing": missing, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
