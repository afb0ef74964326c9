"""Metric: a statistic accumulated over batches (update_state / result / reset_state), and the averaging metrics.

Metrics work on NumPy arrays (Tensors are read as arrays): they run every training step and need no gradient.
The averaging wrappers weigh the steps that a Keras mask on y_pred marks as padding zero, as Keras 3's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu.keras_mask import get_keras_mask
from shendu.ops.losses import squeeze_or_expand
from shendu.tensor import Tensor
from shendu.variable import Variable


def to_numpy(x: Any) -> np.ndarray:
    """A host array from a Tensor (its data), a NumPy or device array, or a Python value: metrics count on the CPU."""
    return np.asarray(backend.to_host(x.data if isinstance(x, Tensor) else x))


def _snake_case(name: str) -> str:
    """'TruePositives' -> 'true_positives', as Keras derives default names."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def match_rank(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Add or drop a trailing axis of 1 on t so that it has p's rank (Keras's squeeze-or-expand)."""
    if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
        return t[..., None]
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        return t[..., 0]
    return t


def samplewise(values: Any, sample_weight: Any, reduce: Callable[..., Any] = np.mean) -> tuple[float, float]:
    """(sum of the weighted per-sample values, sum of the weights or number of samples), as Keras's metrics count.

    Values are reduced over their trailing axes to the rank of the weights (or to one value per sample), a
    weight with an extra trailing axis of 1 is squeezed, and the weights broadcast over the values.
    """
    v = np.asarray(values, dtype=np.float64)
    if sample_weight is None:
        if v.ndim == 0:
            return float(v), 1.0
        n = v.shape[0]
        if v.ndim > 1:
            v = reduce(v.reshape(n, -1), axis=1)
        return float(v.sum()), float(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == v.ndim + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    if v.ndim > w.ndim:
        v = reduce(v, axis=tuple(range(w.ndim, v.ndim)))
    try:
        w = np.broadcast_to(w, v.shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not match the values of shape {v.shape}"
        ) from None
    v = v * w
    if w.ndim > 1:
        w = reduce(w, axis=tuple(range(1, w.ndim)))
        v = reduce(v, axis=tuple(range(1, v.ndim)))
    return float(v.sum()), float(w.sum())


class Metric:
    """Base of the metrics: `update_state(...)` adds a batch, `result()` gives the statistic so far (a float, a
    Tensor or a dict of them), `reset_state()` starts over; calling the object updates it and returns the result.

    A subclass creates its state in `__init__` after `super().__init__()`, with `add_variable` (or tf.keras's
    `add_weight`); the base `reset_state` sets those variables to zero and resets the metrics held as attributes,
    as Keras 3's does.
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        object.__setattr__(self, "_variables", [])
        object.__setattr__(self, "_metrics", [])
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = np.dtype(dtype or "float32")

    def __setattr__(self, name: str, value: Any) -> None:
        tracked = self.__dict__.get("_metrics")
        if tracked is not None and isinstance(value, Metric) and value is not self and all(
                value is not m for m in tracked):
            tracked.append(value)
        object.__setattr__(self, name, value)

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """A state variable (not trainable) of this shape, set by the initializer; `reset_state` zeroes it.

        aggregation (how replicas combine it in Keras) is accepted; shendu runs one replica."""
        from shendu import initializers

        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before creating state with "
                               "add_variable/add_weight")
        if shape is None:
            shape = ()
        shape = tuple(int(s) for s in (shape if isinstance(shape, (list, tuple)) else (shape,)))
        dtype = np.dtype(dtype) if dtype is not None else self.dtype
        value = np.asarray(initializers.get(initializer or "zeros")(shape, dtype=dtype), dtype=dtype)
        var = Variable(value, trainable=False, name=name or f"variable_{len(self._variables)}", dtype=dtype)
        self._variables.append(var)
        return var

    def add_weight(self, name: Any = None, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                   **kwargs: Any) -> Variable:
        """tf.keras's `add_weight(name, shape=(), initializer=...)`, or Keras 3's with the shape first."""
        unknown = set(kwargs) - {"aggregation", "synchronization", "trainable"}
        if unknown:
            raise TypeError(f"{type(self).__name__}.add_weight: unexpected keyword argument(s) {sorted(unknown)}")
        if name is not None and not isinstance(name, str):
            name, shape = None, name
        return self.add_variable(shape, initializer, dtype, kwargs.get("aggregation", "sum"), name)

    @property
    def variables(self) -> list[Variable]:
        """The state variables of this metric and of the metrics it holds."""
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        """Zero every state variable and reset the metrics held as attributes (Keras 3's default)."""
        for v in self._variables:
            v.assign(np.zeros(v.shape, dtype=v.dtype))
        for m in self._metrics:
            m.reset_state()

    def reset_states(self) -> None:
        """tf.keras 2's spelling of `reset_state`."""
        self.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The weighted mean of the values seen: sum(w * v) / sum(w) (per-sample values; w = 1 without weights)."""

    _reduce = staticmethod(np.mean)

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name, dtype)
        Mean.reset_state(self)

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0
        super().reset_state()

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        total, count = samplewise(to_numpy(values), sample_weight, self._reduce)
        self.total += total
        self.count += count

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Sum(Mean):
    """The weighted sum of the values seen: sum(w * v)."""

    _reduce = staticmethod(np.sum)

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Mean):
    """The weighted mean of fn(y_true, y_pred, **kwargs) over all samples seen (fn gets NumPy arrays).

    A Keras mask on y_pred joins the weights (sample_weight * mask), so masked steps do not count.
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        mask = get_keras_mask(y_pred)
        if mask is not None:
            sample_weight = mask if sample_weight is None else (
                squeeze_or_expand(np.asarray(sample_weight, dtype=np.float64), mask.ndim) * mask)
        super().update_state(self._values(to_numpy(y_true), to_numpy(y_pred)), sample_weight)

    def _values(self, y_true: np.ndarray, y_pred: np.ndarray) -> Any:
        """The per-sample values to average."""
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        from shendu.metrics import FUNCTIONS

        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str):
            if fn not in FUNCTIONS:
                raise ValueError(f"MeanMetricWrapper: unknown metric function {fn!r}; pass it in custom_objects")
            fn = FUNCTIONS[fn]
        return cls(fn, **config)


class BuiltinWrapper(MeanMetricWrapper):
    """A Keras metric class that averages one of shendu's functions; its options are attributes and config."""

    fn: Callable[..., Any]
    options: tuple[str, ...] = ()

    def __init__(self, name: str | None = None, dtype: Any = None, **options: Any) -> None:
        Mean.__init__(self, name, dtype)
        for k, v in options.items():
            setattr(self, k, v)

    def _values(self, y_true: np.ndarray, y_pred: np.ndarray) -> Any:
        return type(self).fn(y_true, y_pred, **{k: getattr(self, k) for k in self.options})

    def get_config(self) -> dict[str, Any]:
        return {**Mean.get_config(self), **{k: getattr(self, k) for k in self.options}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)


__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum", "match_rank", "samplewise", "to_numpy"]
