"""Adam and AdamW (Kingma & Ba 2014; Loshchilov & Hutter 2019), with Keras 3's update rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu.ops import kernels
from shendu.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g**2;  w -= lr*sqrt(1-b2**t)/(1-b1**t) * m / (sqrt(v) + epsilon).

    epsilon is Keras's "epsilon hat" (added to sqrt(v), not to the bias-corrected sqrt(v) as in PyTorch).
    amsgrad uses max(v_hat, v) in place of v. For speed the slots hold the unnormalised sums
    "momentum" = m / (1-b1) and "velocity" = v / (1-b2) (and "velocity_hat" likewise), which need two
    fewer passes per step; the constants (1-b1) and (1-b2) are folded into the step size and epsilon.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, name: str = "adam", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"{type(self).__name__}: `{arg}` must be in [0, 1). Received: {arg}={value}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def _coefficients(self, lr: float, step: int) -> Any:
        t = step + 1
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        root = math.sqrt(1 - b2)
        return b1, b2, alpha * (1 - b1) / root, self.epsilon / root

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], scratch: tuple[np.ndarray, ...],
                coeffs: Any) -> None:
        b1, b2, step_size, eps = coeffs
        m, v = slots["momentum"], slots["velocity"]
        if (not self.amsgrad and kernels.enabled() and isinstance(w, np.ndarray)
                and all(a.flags.c_contiguous for a in (g, w, m, v))):
            kernels.adam(g.reshape(-1), w.reshape(-1), m.reshape(-1), v.reshape(-1),
                         *(w.dtype.type(c) for c in coeffs))
            return
        t = scratch[0]
        m *= b1
        m += g
        np.multiply(g, g, out=t)
        v *= b2
        v += t
        if self.amsgrad:
            v = np.maximum(slots["velocity_hat"], v, out=slots["velocity_hat"])
        np.sqrt(v, out=t)
        t += eps
        np.divide(m, t, out=t)
        t *= step_size
        w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): w -= w * weight_decay * lr before each Adam step."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, name: str = "adamw",
                 **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         name=name, weight_decay=weight_decay, **kwargs)
