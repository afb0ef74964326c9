"""Stochastic gradient descent with optional (Nesterov) momentum, Keras 3's formulation."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.optimizers.optimizer import Optimizer, flush_subnormal


class SGD(Optimizer):
    """w -= lr * g; with momentum: velocity = momentum * velocity - lr * g, then w += velocity
    (Nesterov: w += momentum * velocity - lr * g). The velocity is flushed to 0 below the smallest normal float
    (`flush_subnormal`)."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False, name: str = "SGD",
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: `momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if self.momentum == 0:
            return w - lr * g, {}
        m = flush_subnormal(self.momentum * slots["momentum"] - lr * g)
        if self.nesterov:
            return w + (self.momentum * m - lr * g), {"momentum": m}
        return w + m, {"momentum": m}

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], lr: float) -> None:
        """`_update` in two to nine passes, with one scratch array."""
        t = np.multiply(g, lr, out=scratch[0])
        if self.momentum == 0:
            w -= t
            return
        m = slots["momentum"]
        m *= self.momentum
        m -= t
        flush_subnormal(m)
        if self.nesterov:
            w -= t
            np.multiply(m, self.momentum, out=t)
            w += t
        else:
            w += m

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
