"""Nadam (Dozat 2015): Adam with Nesterov momentum and Keras's momentum schedule mu_t = b1*(1 - 0.5*0.96**t)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.optimizers.optimizer import Optimizer, flush_subnormal


class Nadam(Optimizer):
    """m, v as in Adam;  m_hat = mu_{t+1}*m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t)*g / (1 - prod_{i<=t} mu_i);
    v_hat = v / (1 - b2**t);  w -= lr * m_hat / (sqrt(v_hat) + epsilon).

    prod mu_i is a running product, advanced once per step (rebuilt in the same order after `set_state`). m and v
    are flushed to 0 below the smallest normal float (`flush_subnormal`).
    """

    _n_scratch = 2

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str = "nadam", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._u_product = 1.0  # prod_{i<=_u_steps} mu_i
        self._u_steps = 0

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def _mu(self, t: int) -> float:
        """Keras's momentum schedule mu_t = b1 * (1 - 0.5 * 0.96**t)."""
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _mu_product(self, t: int) -> float:
        """prod_{i<=t} mu_i: the running product, advanced to step t (from 1 again if the steps went back)."""
        if self._u_steps > t:
            self._u_product, self._u_steps = 1.0, 0
        while self._u_steps < t:
            self._u_steps += 1
            self._u_product *= self._mu(self._u_steps)
        return self._u_product

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        b1, b2 = self.beta_1, self.beta_2
        m = flush_subnormal(b1 * slots["momentum"] + (1 - b1) * g)
        v = flush_subnormal(b2 * slots["velocity"] + (1 - b2) * g**2)
        mu_t, mu_next, product = self._mu(t), self._mu(t + 1), self._mu_product(t)
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
        v_hat = v / (1 - b2**t)
        return w - lr * m_hat / (xp.sqrt(v_hat) + self.epsilon), {"momentum": m, "velocity": v}

    def _coefficients(self, lr: float, t: int) -> tuple[float, ...]:
        mu_t, mu_next, product = self._mu(t), self._mu(t + 1), self._mu_product(t)
        return mu_next / (1 - product * mu_next), (1 - mu_t) / (1 - product), 1 / (1 - self.beta_2**t), lr

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], coeffs: tuple[float, ...]) -> None:
        """`_update` in twenty-three passes, with two scratch arrays; m_hat = c_m*m + c_g*g."""
        c_m, c_g, inv_bc2, lr = coeffs
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots["momentum"], slots["velocity"]
        t, u = scratch
        m *= b1
        np.multiply(g, 1 - b1, out=t)
        m += t
        flush_subnormal(m, t)
        v *= b2
        np.multiply(g, g, out=t)
        t *= 1 - b2
        v += t
        flush_subnormal(v, t)
        np.multiply(m, c_m, out=t)
        np.multiply(g, c_g, out=u)
        t += u
        np.multiply(v, inv_bc2, out=u)
        np.sqrt(u, out=u)
        u += self.epsilon
        t /= u
        t *= lr
        w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
