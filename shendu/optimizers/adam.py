"""Adam and AdamW (Kingma & Ba 2014; Loshchilov & Hutter 2019), with Keras 3's update rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu import backend
from shendu.ops import kernels
from shendu.optimizers import compiled
from shendu.optimizers.optimizer import Optimizer, flush_subnormal, in_one_call


class Adam(Optimizer):
    """m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g**2;  w -= lr*sqrt(1-b2**t)/(1-b1**t) * m / (sqrt(v) + epsilon).

    m and v below the smallest normal float are flushed to 0 (`flush_subnormal`: subnormal arithmetic is 10-100x
    slower on x86; TensorFlow flushes them too), which moves w by less than step * tiny / epsilon, about 1e-34.

    epsilon is Keras's "epsilon hat" (added to sqrt(v), not to the bias-corrected sqrt(v) as in PyTorch).
    amsgrad uses v_hat = max(v_hat, v) in place of v. The slots hold m ("momentum"), v ("velocity") and v_hat
    ("velocity_hat"), as in Keras.
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

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        b1, b2 = self.beta_1, self.beta_2
        m = flush_subnormal(b1 * slots["momentum"] + (1 - b1) * g)
        v = flush_subnormal(b2 * slots["velocity"] + (1 - b2) * g**2)
        new_slots = {"momentum": m, "velocity": v}
        if self.amsgrad:
            v = new_slots["velocity_hat"] = xp.maximum(slots["velocity_hat"], v)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * m / (xp.sqrt(v) + self.epsilon), new_slots

    def _coefficients(self, lr: float, t: int) -> tuple[float, ...]:
        b1, b2 = self.beta_1, self.beta_2
        return b1, 1 - b1, b2, 1 - b2, lr * math.sqrt(1 - b2**t) / (1 - b1**t), self.epsilon

    def fused_update(self, variables: Any) -> tuple[list[tuple[np.ndarray, ...]], tuple[Any, ...]] | None:
        """(m, v) flat per variable and this step's `kernels.adam` scalars, for Adam itself (not a subclass, no
        amsgrad) on a plain step of variables that `apply` would not split over threads; else None."""
        if (type(self) is not Adam or self.amsgrad or not self._plain_step(variables)
                or not all(in_one_call(v.data) for v in variables)):
            return None
        slots = [self._flat_slots(id(v), self._slots[id(v)]) for v in variables]
        if any(s is None for s in slots):
            return None
        raw_step = int(self._iterations.data)
        dtype = variables[0].data.dtype.type
        return slots, tuple(dtype(c) for c in self._coefficients(self._lr_at(raw_step), raw_step + 1))

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], coeffs: tuple[float, ...]) -> None:
        """`_update` in fourteen passes over memory (fifteen with amsgrad), with one scratch array."""
        b1, c1, b2, c2, alpha, eps = coeffs
        m, v, t = slots["momentum"], slots["velocity"], scratch[0]
        m *= b1
        np.multiply(g, c1, out=t)
        m += t
        flush_subnormal(m, t)
        v *= b2
        np.multiply(g, g, out=t)
        t *= c2
        v += t
        flush_subnormal(v, t)
        if self.amsgrad:
            v = np.maximum(slots["velocity_hat"], v, out=slots["velocity_hat"])
        np.sqrt(v, out=t)
        t += eps
        np.divide(m, t, out=t)
        t *= alpha
        w -= t

    def _has_compiled_update(self) -> bool:
        return not self.amsgrad

    def _update_compiled(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                         scratch: tuple[np.ndarray, ...], coeffs: tuple[float, ...]) -> None:
        """`_update_inplace` in one pass (`kernels.adam`), the same values bit for bit; amsgrad is not covered."""
        m, v = slots["momentum"], slots["velocity"]
        kernels.adam(g.reshape(-1), w.reshape(-1), m.reshape(-1), v.reshape(-1), *(w.dtype.type(c) for c in coeffs))

    def _update_compiled_group(self, gs: list[np.ndarray], ws: list[np.ndarray], slots: list[tuple[np.ndarray, ...]],
                               coeffs: tuple[float, ...]) -> None:
        """`_update_compiled` on many flat variables of one dtype, a group of them per call (`compiled.adam_group`)."""
        dtype = ws[0].dtype.type
        compiled.in_groups(compiled.adam_group, [gs, ws, [s[0] for s in slots], [s[1] for s in slots]],
                           tuple(dtype(c) for c in coeffs))

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
