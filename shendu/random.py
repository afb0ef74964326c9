"""A seeded random source for tensors: `seed` makes runs repeatable."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor

_rng = np.random.default_rng()


def seed(value: int | None) -> None:
    """Reset the random source so that what follows is repeatable."""
    global _rng
    _rng = np.random.default_rng(value)


def generator() -> np.random.Generator:
    """The current NumPy generator (initializers, dropout and shuffling draw from it)."""
    return _rng


def _shape(size: Any) -> tuple[int, ...]:
    if size is None:
        return ()
    return (size,) if isinstance(size, int) else tuple(size)


def normal(loc: float = 0.0, scale: float = 1.0, size: Any = None, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples from N(loc, scale^2)."""
    data = _rng.normal(loc, scale, _shape(size)).astype(dtype or backend.floatx())
    return Tensor(data, requires_grad=requires_grad)


def uniform(low: float = 0.0, high: float = 1.0, size: Any = None, dtype: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Samples from U[low, high)."""
    data = _rng.uniform(low, high, _shape(size)).astype(dtype or backend.floatx())
    return Tensor(data, requires_grad=requires_grad)


def set_random_seed(value: int) -> None:
    """Seed shendu, NumPy's global generator and Python's `random` at once (Keras's `utils.set_random_seed`)."""
    import random as _pyrandom

    seed(value)
    np.random.seed(value)
    _pyrandom.seed(value)
