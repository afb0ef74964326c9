"""RMSprop (Hinton 2012), with Keras 3's placement of epsilon inside the square root."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.optimizers.optimizer import Optimizer, flush_subnormal


class RMSprop(Optimizer):
    """v = rho*v + (1-rho)*g**2;  increment = lr * g / sqrt(v + epsilon);  w -= increment.

    centered: also a = rho*a + (1-rho)*g and the denominator is sqrt(v - a**2 + epsilon).
    momentum > 0: buffer = momentum*buffer + increment; w -= buffer.
    v, a and the buffer are flushed to 0 below the smallest normal float (`flush_subnormal`).
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, name: str = "rmsprop", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= rho <= 1:
            raise ValueError(f"RMSprop: `rho` must be in [0, 1]. Received: rho={rho}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop: `momentum` must be in [0, 1]. Received: momentum={momentum}")
        if not epsilon > 0:
            raise ValueError(f"RMSprop: `epsilon` must be positive. Received: epsilon={epsilon}")
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def slot_names(self) -> tuple[str, ...]:
        return ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + (
            ("average_gradient",) if self.centered else ())

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        rho = self.rho
        v = flush_subnormal(rho * slots["velocity"] + (1 - rho) * g**2)
        new_slots = {"velocity": v}
        if self.centered:
            a = new_slots["average_gradient"] = flush_subnormal(rho * slots["average_gradient"] + (1 - rho) * g)
            denominator = v - a**2 + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = lr * g / xp.sqrt(denominator)
        if self.momentum > 0:
            buffer = new_slots["momentum"] = flush_subnormal(self.momentum * slots["momentum"] + increment)
            return w - buffer, new_slots
        return w - increment, new_slots

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], lr: float) -> None:
        """`_update` in twelve to twenty-five passes, with one scratch array."""
        rho = self.rho
        v, t = slots["velocity"], scratch[0]
        v *= rho
        np.multiply(g, g, out=t)
        t *= 1 - rho
        v += t
        flush_subnormal(v, t)
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            np.multiply(g, 1 - rho, out=t)
            a += t
            flush_subnormal(a, t)
            np.multiply(a, a, out=t)
            np.subtract(v, t, out=t)
            t += self.epsilon
        else:
            np.add(v, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        t *= lr
        if self.momentum > 0:
            buf = slots["momentum"]
            buf *= self.momentum
            buf += t
            flush_subnormal(buf)
            w -= buf
        else:
            w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
