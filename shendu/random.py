"""tf.random, and the seeded source that shendu's initializers, dropout and shuffling draw from.

`set_seed(s)` (TensorFlow's global seed) restarts that source, so everything drawn after it repeats from run to
run: `tf.random.*` calls, unseeded layer initializers, dropout masks, augmentation and dataset shuffling. An op's
own `seed=` gives that op a stream of its own, started from (global seed, op seed) and keyed by the op's name and
seed: its successive calls give successive values (as TensorFlow's eager kernels do), the same in every run and
whatever else draws in between, and `set_seed` starts it over. Without a global seed, the op seed pairs with
TensorFlow's default, 87654321. Values are NumPy's (PCG64), not TensorFlow's: the same seed gives other numbers.
`tf.random.Generator` and the `stateless_*` ops are TensorFlow's Philox (`shendu.random_generator`): they give
TensorFlow's numbers.
"""

from __future__ import annotations

import random as _pyrandom
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from shendu.creation import as_dtype, shape_tuple
from shendu.tensor import Tensor

DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's DEFAULT_GRAPH_SEED, paired with an op seed when no global seed is set

_global_seed: int | None = None
_rng = np.random.default_rng()
_op_rngs: dict[tuple[str, int], np.random.Generator] = {}


def set_seed(seed: int | None) -> None:
    """Set the global seed (None: unseeded): every random draw that follows repeats from run to run."""
    global _global_seed, _rng
    _global_seed = None if seed is None else _seed_value(seed)
    _rng = np.random.default_rng(_global_seed)
    _op_rngs.clear()


seed = set_seed  # shendu's own name for it


def generator() -> np.random.Generator:
    """The global NumPy generator (initializers, dropout and shuffling draw from it)."""
    return _rng


def op_generator(op: str, seed: int | None) -> np.random.Generator:
    """The generator op `op` draws from: the global one, or with a seed its own stream (see the module docstring)."""
    if seed is None:
        return _rng
    key = (op, _seed_value(seed))
    rng = _op_rngs.get(key)
    if rng is None:
        base = DEFAULT_GLOBAL_SEED if _global_seed is None else _global_seed
        rng = _op_rngs[key] = np.random.default_rng([base, key[1]])
    return rng


def set_random_seed(value: int) -> None:
    """Seed shendu, NumPy's global generator and Python's `random` at once (Keras's `utils.set_random_seed`)."""
    set_seed(value)
    np.random.seed(_seed_value(value) % 2**32)
    _pyrandom.seed(value)


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run the block with shendu, NumPy and Python seeded by `seed` (nothing changes with None); the random states
    outside the block are put back afterwards (the scikit-learn wrappers' `random_state`)."""
    global _global_seed, _rng
    if seed is None:
        yield
        return
    saved = (_global_seed, _rng, dict(_op_rngs), np.random.get_state(), _pyrandom.getstate())
    set_random_seed(seed)
    try:
        yield
    finally:
        _global_seed, _rng = saved[0], saved[1]
        _op_rngs.clear()
        _op_rngs.update(saved[2])
        np.random.set_state(saved[3])
        _pyrandom.setstate(saved[4])


def _seed_value(value: Any) -> int:
    """A seed as the non-negative integer NumPy wants (negative TensorFlow seeds wrap around)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"tf.random: a seed must be an int, got {type(value).__name__} {value!r}")
    return int(value) % 2**63


# --- the draws, on any generator ---------------------------------------------------------------------------------
def _dtype(dtype: Any, fn: str, kinds: str) -> np.dtype:
    dt = as_dtype(dtype)
    if dt.kind not in kinds:
        names = {"f": "a float", "i": "an int", "fi": "a float or int"}[kinds]
        raise ValueError(f"{fn}: dtype must be {names} dtype, got {dt}")
    return dt


def _values(x: Any) -> Any:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def truncated_standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal samples, those beyond two standard deviations drawn again (TensorFlow's and Keras's)."""
    out = rng.standard_normal(tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out


def _normal(rng: np.random.Generator, shape: Any, mean: Any, stddev: Any, dtype: Any, fn: str) -> Tensor:
    dt = _dtype(dtype, fn, "f")
    z = rng.standard_normal(shape_tuple(shape, fn))
    return Tensor((z * _values(stddev) + _values(mean)).astype(dt))


def _truncated_normal(rng: np.random.Generator, shape: Any, mean: Any, stddev: Any, dtype: Any, fn: str) -> Tensor:
    dt = _dtype(dtype, fn, "f")
    z = truncated_standard_normal(rng, shape_tuple(shape, fn))
    return Tensor((z * _values(stddev) + _values(mean)).astype(dt))


def _uniform(rng: np.random.Generator, shape: Any, minval: Any, maxval: Any, dtype: Any, fn: str) -> Tensor:
    dt = _dtype(dtype, fn, "fi")
    dims = shape_tuple(shape, fn)
    if dt.kind == "i":
        if maxval is None:
            raise ValueError(f"{fn}: an integer dtype ({dt}) needs maxval (the values are in [minval, maxval))")
        return Tensor(rng.integers(_values(minval), _values(maxval), dims, dtype=dt))
    lo, hi = _values(minval), _values(1.0 if maxval is None else maxval)
    return Tensor((lo + (hi - lo) * rng.random(dims)).astype(dt))


# --- tf.random ---------------------------------------------------------------------------------------------------
def normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32, seed: int | None = None,
           name: str | None = None) -> Tensor:
    """Samples from N(mean, stddev^2) of the given shape."""
    return _normal(op_generator("normal", seed), shape, mean, stddev, dtype, "tf.random.normal")


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Samples from U[minval, maxval) (maxval 1 for floats; integer dtypes need maxval)."""
    return _uniform(op_generator("uniform", seed), shape, minval, maxval, dtype, "tf.random.uniform")


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                     seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples from N(mean, stddev^2), those beyond two standard deviations drawn again."""
    return _truncated_normal(op_generator("truncated_normal", seed), shape, mean, stddev, dtype,
                             "tf.random.truncated_normal")


def categorical(logits: Any, num_samples: int, dtype: Any = None, seed: int | None = None,
                name: str | None = None) -> Tensor:
    """Class indices (batch, num_samples) drawn from softmax(logits) row by row (logits (batch, classes)), by the
    Gumbel-max rule: argmax(logits - log(-log U)) with U ~ U(0, 1) is distributed as softmax(logits)."""
    x = _values(logits)
    if x.ndim != 2:
        raise ValueError(f"tf.random.categorical: logits must be 2-D (batch, classes), got shape {x.shape}")
    dt = _dtype(np.int64 if dtype is None else dtype, "tf.random.categorical", "i")
    u = op_generator("categorical", seed).random((x.shape[0], int(num_samples), x.shape[1]))
    gumbel = -np.log(-np.log(np.maximum(u, np.finfo(u.dtype).tiny)))
    return Tensor((x[:, None, :] + gumbel).argmax(axis=-1).astype(dt))


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """value with its first axis in a random order (no gradient, as in TensorFlow)."""
    x = _values(value)
    if x.ndim == 0:
        raise ValueError("tf.random.shuffle: value must have at least one axis, got a scalar")
    return Tensor(x[op_generator("shuffle", seed).permutation(x.shape[0])])


def gamma(shape: Any, alpha: Any, beta: Any = None, dtype: Any = np.float32, seed: int | None = None,
          name: str | None = None) -> Tensor:
    """Samples of shape shape + broadcast(alpha, beta).shape from Gamma(alpha, rate beta) (mean alpha / beta)."""
    dt = _dtype(dtype, "tf.random.gamma", "f")
    a = _values(alpha)
    b = np.ones_like(a, dtype=np.float64) if beta is None else _values(beta)
    a, b = np.broadcast_arrays(a, b)
    dims = shape_tuple(shape, "tf.random.gamma") + a.shape
    return Tensor(op_generator("gamma", seed).gamma(a, 1.0 / b, dims).astype(dt))


def poisson(shape: Any, lam: Any, dtype: Any = np.float32, seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples of shape shape + lam.shape from Poisson(lam)."""
    dt = _dtype(dtype, "tf.random.poisson", "fi")
    lam = _values(lam)
    dims = shape_tuple(shape, "tf.random.poisson") + lam.shape
    return Tensor(op_generator("poisson", seed).poisson(lam, dims).astype(dt))


from shendu.random_generator import (  # noqa: E402  (tf.random's counter-based half, which uses the floors above)
    Algorithm,
    Generator,
    get_global_generator,
    set_global_generator,
    stateless_normal,
    stateless_truncated_normal,
    stateless_uniform,
)

__all__ = [
    "Algorithm", "Generator", "categorical", "gamma", "generator", "get_global_generator", "normal", "poisson", "seed",
    "set_global_generator", "set_random_seed", "set_seed", "shuffle", "stateless_normal", "stateless_truncated_normal",
    "stateless_uniform", "truncated_normal", "uniform",
]
