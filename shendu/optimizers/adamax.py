"""Adamax (Kingma & Ba 2014, section 7.1): Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.optimizers.optimizer import Optimizer, flush_subnormal


class Adamax(Optimizer):
    """m = b1*m + (1-b1)*g;  u = max(b2*u, |g|);  w -= lr / (1 - b1**t) * m / (u + epsilon). m and u are flushed to
    0 below the smallest normal float (`flush_subnormal`)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str = "adamax", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "norm")

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        m = flush_subnormal(self.beta_1 * slots["momentum"] + (1 - self.beta_1) * g)
        u = flush_subnormal(xp.maximum(self.beta_2 * slots["norm"], xp.abs(g)))
        return w - lr / (1 - self.beta_1**t) * m / (u + self.epsilon), {"momentum": m, "norm": u}

    def _coefficients(self, lr: float, t: int) -> float:
        return lr / (1 - self.beta_1**t)

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], step_size: float) -> None:
        """`_update` in sixteen passes, with one scratch array."""
        m, u, t = slots["momentum"], slots["norm"], scratch[0]
        m *= self.beta_1
        np.multiply(g, 1 - self.beta_1, out=t)
        m += t
        flush_subnormal(m, t)
        u *= self.beta_2
        np.abs(g, out=t)
        np.maximum(u, t, out=u)
        flush_subnormal(u, t)
        np.add(u, self.epsilon, out=t)
        np.divide(m, t, out=t)
        t *= step_size
        w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
