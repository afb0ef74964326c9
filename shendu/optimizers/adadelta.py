"""Adadelta (Zeiler 2012): steps scaled by the ratio of RMS past updates to RMS past gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.optimizers.optimizer import Optimizer, flush_subnormal


class Adadelta(Optimizer):
    """Eg2 = rho*Eg2 + (1-rho)*g**2;  delta = sqrt(Edx2 + eps) / sqrt(Eg2 + eps) * g;
    Edx2 = rho*Edx2 + (1-rho)*delta**2;  w -= lr * delta  (slots "accumulated_grad", "accumulated_delta_var"). Eg2
    and Edx2 are flushed to 0 below the smallest normal float (`flush_subnormal`)."""

    _n_scratch = 2

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7, name: str = "adadelta",
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulated_grad", "accumulated_delta_var")

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        rho, eps = self.rho, self.epsilon
        eg2 = flush_subnormal(rho * slots["accumulated_grad"] + (1 - rho) * g**2)
        delta = xp.sqrt(slots["accumulated_delta_var"] + eps) / xp.sqrt(eg2 + eps) * g
        edx2 = flush_subnormal(rho * slots["accumulated_delta_var"] + (1 - rho) * delta**2)
        return w - lr * delta, {"accumulated_grad": eg2, "accumulated_delta_var": edx2}

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], lr: float) -> None:
        """`_update` in twenty-two passes, with two scratch arrays."""
        rho, eps = self.rho, self.epsilon
        eg2, edx2 = slots["accumulated_grad"], slots["accumulated_delta_var"]
        t, u = scratch
        eg2 *= rho
        np.multiply(g, g, out=t)
        t *= 1 - rho
        eg2 += t
        flush_subnormal(eg2, t)
        np.add(edx2, eps, out=t)
        np.sqrt(t, out=t)
        t *= g
        np.add(eg2, eps, out=u)
        np.sqrt(u, out=u)
        t /= u  # t = delta
        edx2 *= rho
        np.multiply(t, t, out=u)
        u *= 1 - rho
        edx2 += u
        flush_subnormal(edx2, u)
        t *= lr
        w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
