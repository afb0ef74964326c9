"""tf.random.Generator and tf.random.stateless_*: TensorFlow's counter-based random numbers (Philox, `shendu.philox`),
so that a seed gives the numbers TensorFlow gives: integers and float64 normal and uniform values exactly, float32
ones to a few units in the last place (TensorFlow's float32 log and sin round differently). Truncated normals are
TensorFlow's float32 ones, cast for other dtypes.

A Generator's state is TensorFlow's: an int64 variable [counter low, counter high, key]. `from_seed(s)` splits s into
those 64-bit words (a short list of seeds is padded with zeros on the left); each draw of n values reads the
counter and moves it on by 256 n, as TensorFlow's kernels do. A stateless op turns its seed (s0, s1) into a key and a
counter by one Philox call under a fixed key. The global `tf.random.set_seed` stream (`shendu.random`) is NumPy's
and separate.
"""

from __future__ import annotations

import enum
import secrets
from typing import Any

import numpy as np

from shendu import philox
from shendu.creation import as_dtype, shape_tuple
from shendu.tensor import Tensor
from shendu.variable import Variable

_MASK64 = (1 << 64) - 1


class Algorithm(enum.Enum):
    """tf.random.Algorithm: the counter-based generators (shendu has Philox; AUTO_SELECT picks it)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


def _algorithm(alg: Any, where: str) -> int:
    """Philox's number for alg (None, 'philox', 'auto_select', 1, 3 or the enum); other algorithms are refused."""
    value = alg.value if isinstance(alg, Algorithm) else alg
    if value in (None, 1, 3, "philox", "auto_select"):
        return Algorithm.PHILOX.value
    raise ValueError(f"{where}: the random algorithm {alg!r} is not available in shendu; use 'philox' (the default)")


def _words(seed: Any, size: int) -> np.ndarray:
    """A seed as `size` int64 words, TensorFlow's way: an int split into 64-bit words from the lowest; a list padded
    with zeros on the left (so that a short seed goes into the key, not the counter) or cut to size."""
    if isinstance(seed, Tensor):
        seed = seed.numpy()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        value = int(seed)
        words = [(value >> (64 * i)) & _MASK64 for i in range(size)]
    else:
        flat = np.asarray(seed).reshape(-1)
        if flat.dtype.kind not in "iu":
            raise TypeError(f"tf.random: a seed must be an int or integers, got {seed!r}")
        words = [0] * max(0, size - flat.size) + [int(v) & _MASK64 for v in flat[:size]]
    return np.array(words, dtype=np.uint64).view(np.int64)


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"{where}: dtype must be a float dtype, got {dt}")
    return dt


def _shape(shape: Any, where: str) -> tuple[tuple[int, ...], int]:
    dims = shape_tuple(shape, where)
    return dims, int(np.prod(dims, dtype=np.int64))


def _scaled(z: np.ndarray, dims: tuple[int, ...], scale: Any, shift: Any, dt: np.dtype) -> Tensor:
    """z * scale + shift in dtype dt, shaped dims (TensorFlow's rnd * stddev + mean)."""
    scale, shift = (np.asarray(_value(v), dtype=dt) for v in (scale, shift))
    return Tensor((z.astype(dt).reshape(dims) * scale + shift).astype(dt))


def _draw_normal(start: tuple[int, int], key: int, n: int, dt: np.dtype) -> np.ndarray:
    return philox.normal(start, key, n, np.float64 if dt == np.float64 else np.float32)


def _draw_uniform(start: tuple[int, int], key: int, n: int, dims: tuple[int, ...], minval: Any, maxval: Any,
                  dt: np.dtype, where: str) -> Tensor:
    """Uniform values in [minval, maxval): floats (maxval 1 when None), or integers (both None: the full range)."""
    if dt.kind == "f":
        u = philox.uniform(start, key, n, np.float64 if dt == np.float64 else np.float32)
        return _scaled(u, dims, (1.0 if maxval is None else _value(maxval)) - _value(minval), minval, dt)
    if dt.kind not in "iu":
        raise ValueError(f"{where}: dtype must be a float or int dtype, got {dt}")
    if (minval is None) != (maxval is None):
        raise ValueError(f"{where}: for the integer dtype {dt}, give both minval and maxval (values in [minval, "
                         f"maxval)), or neither (the whole range)")
    if minval is None:
        return Tensor(philox.integers(start, key, n, dt).reshape(dims))
    low, high = int(_value(minval)), int(_value(maxval))
    info = np.iinfo(dt)
    if not info.min <= low < high <= info.max:  # the bounds are values of dt, as TensorFlow's are
        raise ValueError(f"{where}: need {info.min} <= minval < maxval <= {info.max} for {dt}, got minval={low}, "
                         f"maxval={high}")
    return Tensor(philox.integers(start, key, n, dt, low, high).reshape(dims))


def _value(x: Any) -> Any:
    return x.numpy() if isinstance(x, Tensor) else x


class Generator:
    """tf.random.Generator: a random stream of its own (Philox), independent of the global seed; the same seed
    gives TensorFlow's numbers. Make one with `from_seed`, `from_state`, `from_key_counter` or
    `from_non_deterministic_state`; `split` gives independent children."""

    def __init__(self, copy_from: Generator | None = None, state: Any = None, alg: Any = None) -> None:
        if copy_from is not None:
            state, alg = copy_from.state.numpy(), copy_from.algorithm
        elif state is None:
            state = _words(secrets.randbits(192), 3)
        self._alg = _algorithm(alg, "tf.random.Generator")
        self._state = Variable(_words(state, 3), trainable=False, dtype=np.int64, name="Variable")

    @classmethod
    def from_seed(cls, seed: Any, alg: Any = None) -> Generator:
        """A generator whose draws repeat for the same seed (an int, or a list of up to three ints)."""
        return cls(state=_words(seed, 3), alg=alg)

    @classmethod
    def from_state(cls, state: Any, alg: Any) -> Generator:
        """A generator from a state [counter low, counter high, key]."""
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key: Any, counter: Any, alg: Any) -> Generator:
        """A generator from a key (one int64) and a counter (two int64)."""
        return cls(state=np.concatenate([_words(counter, 2), _words(key, 1)]), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg: Any = None) -> Generator:
        """A generator seeded from the operating system's entropy."""
        return cls(alg=alg)

    @property
    def state(self) -> Variable:
        """The state variable, int64 [counter low, counter high, key]."""
        return self._state

    @property
    def algorithm(self) -> int:
        """The algorithm's number (1, Philox)."""
        return self._alg

    @property
    def key(self) -> Tensor:
        """The key: the state's last word."""
        return Tensor(self._state.data[-1].copy())

    def reset(self, state: Any) -> None:
        """Set the state to a new [counter low, counter high, key]."""
        self._state.data[...] = _words(state, 3)

    def reset_from_seed(self, seed: Any) -> None:
        """Set the state as `from_seed(seed)` would make it."""
        self._state.data[...] = _words(seed, 3)

    def reset_from_key_counter(self, key: Any, counter: Any) -> None:
        """Set the state from a key and a counter."""
        self._state.data[...] = np.concatenate([_words(counter, 2), _words(key, 1)])

    def skip(self, delta: int) -> None:
        """Move the counter on as a draw of `delta` values would."""
        self._take(int(delta))

    def _take(self, n: int) -> tuple[tuple[int, int], int]:
        """(counter, key) for a draw of n values, and the counter moved on by 256 n."""
        lo, hi, key = (int(w) for w in self._state.data.view(np.uint64))
        after = philox.advance((lo, hi), philox.RESERVED_PER_OUTPUT * n)
        self._state.data[:2] = np.array(after, dtype=np.uint64).view(np.int64)
        return (lo, hi), key

    def normal(self, shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
               name: str | None = None) -> Tensor:
        """Samples from N(mean, stddev^2)."""
        dt = _float_dtype(dtype, "Generator.normal")
        dims, n = _shape(shape, "Generator.normal")
        start, key = self._take(n)
        return _scaled(_draw_normal(start, key, n, dt), dims, stddev, mean, dt)

    def truncated_normal(self, shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                         name: str | None = None) -> Tensor:
        """Samples from N(mean, stddev^2) cut at two standard deviations (those beyond drawn again)."""
        dt = _float_dtype(dtype, "Generator.truncated_normal")
        dims, n = _shape(shape, "Generator.truncated_normal")
        start, key = self._take(n)
        return _scaled(philox.truncated_normal(start, key, n), dims, stddev, mean, dt)

    def uniform(self, shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
                name: str | None = None) -> Tensor:
        """Samples from U[minval, maxval): maxval 1 for floats; integer dtypes need maxval (or both bounds None for
        the whole range)."""
        dims, n = _shape(shape, "Generator.uniform")
        dt = as_dtype(dtype)
        if dt.kind in "iu" and minval is not None and maxval is None:
            raise ValueError(f"Generator.uniform: an integer dtype ({dt}) needs maxval (the values are in [minval, "
                             f"maxval)), or minval=None and maxval=None for the whole range")
        start, key = self._take(n)
        return _draw_uniform(start, key, n, dims, minval, maxval, dt, "Generator.uniform")

    def uniform_full_int(self, shape: Any, dtype: Any = np.uint64, name: str | None = None) -> Tensor:
        """Integers over the whole range of dtype."""
        dims, n = _shape(shape, "Generator.uniform_full_int")
        start, key = self._take(n)
        return _draw_uniform(start, key, n, dims, None, None, as_dtype(dtype), "Generator.uniform_full_int")

    def split(self, count: int = 1) -> list[Generator]:
        """`count` independent generators, each keyed by a full-range int64 drawn from this one (which moves on)."""
        keys = self.uniform_full_int([count], dtype=np.int64).numpy()
        return [Generator(state=np.array([0, 0, k], dtype=np.int64), alg=self._alg) for k in keys]

    def make_seeds(self, count: int = 1) -> Tensor:
        """A (2, count) int64 tensor of seeds for the stateless ops: full-range keys over zeros."""
        keys = self.uniform_full_int([count], dtype=np.int64).numpy()
        return Tensor(np.stack([keys, np.zeros_like(keys)]))

    def __repr__(self) -> str:
        return f"<tf.random.Generator state={self._state.data.tolist()} alg={self._alg}>"


_global_generator: Generator | None = None


def get_global_generator() -> Generator:
    """The generator that `tf.random.get_global_generator()` gives: made from the OS's entropy at first use."""
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(generator: Generator) -> None:
    """Make `generator` the global one (it is used as it is, not copied)."""
    global _global_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"tf.random.set_global_generator: expected a tf.random.Generator, got {generator!r}")
    _global_generator = generator


# --- stateless ops ---------------------------------------------------------------------------------------------
def _seed_key_counter(seed: Any, alg: Any, where: str) -> tuple[int, tuple[int, int]]:
    _algorithm(alg, where)
    values = np.asarray(_value(seed)).reshape(-1)
    if values.size != 2 or values.dtype.kind not in "iu":
        raise ValueError(f"{where}: seed must be two integers (shape [2]), got {seed!r}")
    return philox.key_counter_from_seed((int(values[0]), int(values[1])))


def stateless_normal(shape: Any, seed: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                     name: str | None = None, alg: Any = "auto_select") -> Tensor:
    """N(mean, stddev^2) samples that depend on the seed (two ints) alone: the same seed, the same values."""
    dt = _float_dtype(dtype, "tf.random.stateless_normal")
    dims, n = _shape(shape, "tf.random.stateless_normal")
    key, start = _seed_key_counter(seed, alg, "tf.random.stateless_normal")
    return _scaled(_draw_normal(start, key, n, dt), dims, stddev, mean, dt)


def stateless_truncated_normal(shape: Any, seed: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                               name: str | None = None, alg: Any = "auto_select") -> Tensor:
    """Truncated N(mean, stddev^2) samples (cut at two standard deviations) that depend on the seed alone."""
    dt = _float_dtype(dtype, "tf.random.stateless_truncated_normal")
    dims, n = _shape(shape, "tf.random.stateless_truncated_normal")
    key, start = _seed_key_counter(seed, alg, "tf.random.stateless_truncated_normal")
    return _scaled(philox.truncated_normal(start, key, n), dims, stddev, mean, dt)


def stateless_uniform(shape: Any, seed: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
                      name: str | None = None, alg: Any = "auto_select") -> Tensor:
    """U[minval, maxval) samples that depend on the seed alone (integers: give maxval, or both bounds None)."""
    dims, n = _shape(shape, "tf.random.stateless_uniform")
    dt = as_dtype(dtype)
    if dt.kind in "iu" and minval is not None and maxval is None:
        raise ValueError(f"tf.random.stateless_uniform: an integer dtype ({dt}) needs maxval, or minval=None and "
                         f"maxval=None for the whole range")
    key, start = _seed_key_counter(seed, alg, "tf.random.stateless_uniform")
    return _draw_uniform(start, key, n, dims, minval, maxval, dt, "tf.random.stateless_uniform")
