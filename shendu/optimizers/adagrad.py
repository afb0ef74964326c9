"""Adagrad (Duchi et al. 2011): per-parameter rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """accumulator += g**2 (starting at initial_accumulator_value);  w -= lr * g / sqrt(accumulator + epsilon)."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 name: str = "adagrad", **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError(
                f"Adagrad: `initial_accumulator_value` must be non-negative. Received: {initial_accumulator_value}"
            )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _create_slots(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"accumulator": backend.get_array_module(w).full_like(w, self.initial_accumulator_value)}

    def _update(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray], lr: float,
                t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        xp = backend.get_array_module(w)  # NumPy, or CuPy for weights on a GPU
        accumulator = slots["accumulator"] + g**2
        return w - lr * g / xp.sqrt(accumulator + self.epsilon), {"accumulator": accumulator}

    def _update_inplace(self, g: np.ndarray, w: np.ndarray, slots: dict[str, np.ndarray],
                        scratch: tuple[np.ndarray, ...], lr: float) -> None:
        """`_update` in seven passes, with one scratch array."""
        acc, t = slots["accumulator"], scratch[0]
        np.multiply(g, g, out=t)
        acc += t
        np.add(acc, self.epsilon, out=t)
        np.sqrt(t, out=t)
        np.divide(g, t, out=t)
        t *= lr
        w -= t

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
