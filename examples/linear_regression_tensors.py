"""Linear regression y = 3x + 2 + noise with raw tensors and gradient descent: the engine without the model API."""

from __future__ import annotations

import numpy as np

import shendu as sd


def main(steps: int = 200, lr: float = 0.1) -> tuple[float, float]:
    """Learn w and b by minimising the mean squared error; returns the learned (w, b)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 1)).astype("float32")
    y = 3 * x + 2 + rng.normal(0, 0.1, x.shape).astype("float32")
    w = sd.zeros((1, 1), requires_grad=True)
    b = sd.zeros(1, requires_grad=True)
    xt, yt = sd.tensor(x), sd.tensor(y)
    for step in range(steps + 1):
        loss = ((xt @ w + b - yt) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with sd.no_grad():
            w.data -= lr * w.grad.data
            b.data -= lr * b.grad.data
        if step % 25 == 0:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    print(f"learned w = {w.item():.3f} (true 3), b = {b.item():.3f} (true 2)")
    return w.item(), b.item()


if __name__ == "__main__":
    main()
