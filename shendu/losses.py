"""Losses with Keras's names, arguments and reductions.

Functions (`mean_squared_error(y_true, y_pred)`, ...) give one loss per sample; Loss objects
(`MeanSquaredError()`) weight and reduce them to a scalar, by default "sum_over_batch_size":
sum(sample_weight * loss) / number of losses. y_true is an array (or a Tensor) and takes no gradient;
y_pred is a Tensor in the graph. A cross-entropy of the output of a Softmax or Sigmoid op starts from that
op's input, the logits, as Keras's TensorFlow backend does: stable, and with the gradient (softmax - target).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend, ops
from shendu.ops import losses as loss_ops
from shendu.tensor import Tensor, make_tensor

EPSILON = loss_ops.EPSILON

# --- inputs ------------------------------------------------------------------------------------------


def _pred(y_pred: Any) -> Tensor:
    """y_pred as a float Tensor (an array becomes a constant)."""
    if not isinstance(y_pred, Tensor):
        y_pred = make_tensor(backend.as_array(y_pred), None)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(backend.floatx())


def _raw(y: Any) -> Any:
    return y.data if isinstance(y, Tensor) else backend.as_array(y)


def _match_rank(t: Any, ndim: int, last: int) -> Any:
    """Add or drop a trailing axis of 1 so that t has the prediction's rank (Keras's squeeze-or-expand)."""
    if t.ndim == ndim - 1 and last == 1:
        return t[..., None]
    if t.ndim == ndim + 1 and t.shape[-1] == 1:
        return t[..., 0]
    return t


def _true(name: str, y_true: Any, y_pred: Tensor, exact: bool = False) -> Any:
    """y_true as an array in y_pred's dtype and rank; it must broadcast to y_pred (or equal its shape if exact)."""
    raw = _raw(y_true)
    t = _match_rank(raw.astype(y_pred.dtype, copy=False), y_pred.ndim, y_pred.shape[-1] if y_pred.ndim else 0)
    try:
        ok = np.broadcast_shapes(t.shape, y_pred.shape) == y_pred.shape and (not exact or t.shape == y_pred.shape)
    except ValueError:
        ok = False
    if not ok:
        hint = "; for integer class labels use sparse_categorical_crossentropy" if exact else ""
        raise ValueError(f"{name}: y_true of shape {raw.shape} does not match y_pred of shape {y_pred.shape}{hint}")
    return t


def _to_last(x: Tensor, axis: int) -> Tensor:
    """Move the class axis to the end (the fused ops work over the last axis)."""
    axis %= x.ndim
    if axis == x.ndim - 1:
        return x
    return x.transpose([a for a in range(x.ndim) if a != axis] + [axis])


def _logits_of(y_pred: Tensor, op: type, axis: int = -1) -> Tensor | None:
    """The input of the Softmax/Sigmoid op (along `axis`) that produced y_pred, or None (no graph under no_grad)."""
    fn = y_pred.grad_fn
    if type(fn) is not op or fn.inputs is None:
        return None
    if op is ops.Softmax and fn.axis % y_pred.ndim != axis % y_pred.ndim:
        return None
    return fn.inputs[0]


_warned: set[str] = set()


def _warn_once(name: str, why: str) -> None:
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"`{name}` received `from_logits=True`, but the `output` argument {why}. Was this intended?",
                      stacklevel=5)


def _warn_if_probabilities(name: str, x: Tensor, rows: bool) -> None:
    """Warn (once per loss) when from_logits=True meets values that look like probabilities."""
    if name in _warned or not x.size:
        return
    d = x.data
    if d.min() >= 0 and d.max() <= 1 and (not rows or np.allclose(d.sum(axis=-1), 1, atol=1e-3)):
        summing = " and rows summing to 1" if rows else ""
        _warn_once(name, f"looks like probabilities (values in [0, 1]{summing}) and thus may not represent logits")


def _logits_or_probs(name: str, y_pred: Tensor, op: type, from_logits: bool, axis: int = -1) -> tuple[Tensor, bool]:
    """(tensor to start from, whether it holds logits): a Softmax/Sigmoid's input when there is one."""
    logits = _logits_of(y_pred, op, axis)
    if logits is not None:
        if from_logits:
            _warn_once(name, f"was produced by a {op.__name__} activation and thus does not represent logits")
        return logits, True
    if from_logits:
        _warn_if_probabilities(name, _to_last(y_pred, axis), rows=op is ops.Softmax)
    return y_pred, from_logits


# --- cross-entropies (fused: the loss, its weights and its reduction in one op) --------------------


def _binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                         axis: int = -1, sample_weight: Any = None, reduction: str = "none") -> Tensor:
    name = "binary_crossentropy"
    x, from_logits = _logits_or_probs(name, _pred(y_pred), ops.Sigmoid, from_logits)
    t = np.broadcast_to(_true(name, y_true, x), x.shape)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    x, t = _to_last(x, axis), np.moveaxis(t, axis, -1)
    op = loss_ops.SigmoidCrossEntropy if from_logits else loss_ops.BinaryCrossEntropy
    return op.apply(x, targets=t, sample_weight=sample_weight, reduction=reduction)


def _categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1, sample_weight: Any = None, reduction: str = "none") -> Tensor:
    name = "categorical_crossentropy"
    x, from_logits = _logits_or_probs(name, _pred(y_pred), ops.Softmax, from_logits, axis)
    t = _true(name, y_true, x, exact=True)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / x.shape[axis]
    x, t = _to_last(x, axis), np.moveaxis(t, axis, -1)
    op = loss_ops.SoftmaxCrossEntropy if from_logits else loss_ops.CategoricalCrossEntropy
    return op.apply(x, targets=t, sample_weight=sample_weight, reduction=reduction)


def _sparse_labels(name: str, y_true: Any, shape: tuple[int, ...], ignore_class: int | None) -> tuple[Any, Any]:
    """Integer labels of shape `shape[:-1]` checked against the number of classes, and the mask of ignore_class."""
    raw = _raw(y_true)
    lab = raw[..., 0] if raw.ndim == len(shape) and raw.ndim and raw.shape[-1] == 1 else raw
    if lab.shape != shape[:-1]:
        raise ValueError(
            f"{name}: expected integer labels of shape {shape[:-1]} (or {(*shape[:-1], 1)}) for predictions of "
            f"shape {shape}, got shape {raw.shape}"
        )
    if lab.dtype.kind not in "iu":
        if lab.dtype.kind not in "fb":
            raise TypeError(f"{name}: expected integer class labels, got dtype {lab.dtype}")
        lab = lab.astype(np.int64)
    mask = None
    if ignore_class is not None:
        mask = lab != ignore_class
        lab = np.where(mask, lab, 0)
    n = shape[-1]
    if lab.size and (lab.min() < 0 or lab.max() >= n):
        bad = lab[(lab < 0) | (lab >= n)].flat[0]
        raise ValueError(f"{name}: label {bad} is out of range for {n} classes (labels must be in [0, {n - 1}])")
    return lab, mask


def _sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                     ignore_class: int | None = None, axis: int = -1, sample_weight: Any = None,
                                     reduction: str = "none") -> Tensor:
    name = "sparse_categorical_crossentropy"
    x, from_logits = _logits_or_probs(name, _pred(y_pred), ops.Softmax, from_logits, axis)
    x = _to_last(x, axis)
    labels, mask = _sparse_labels(name, y_true, x.shape, ignore_class)
    op = loss_ops.SparseSoftmaxCrossEntropy if from_logits else loss_ops.SparseCategoricalCrossEntropy
    return op.apply(x, labels=labels, mask=mask, sample_weight=sample_weight, reduction=reduction)


def _mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None, reduction: str = "none") -> Tensor:
    y_pred = _pred(y_pred)
    t = _true("mean_squared_error", y_true, y_pred)
    return loss_ops.SquaredError.apply(y_pred, targets=t, sample_weight=sample_weight, reduction=reduction)


def _mean_absolute_error(y_true: Any, y_pred: Any, sample_weight: Any = None, reduction: str = "none") -> Tensor:
    y_pred = _pred(y_pred)
    t = _true("mean_absolute_error", y_true, y_pred)
    return loss_ops.AbsoluteError.apply(y_pred, targets=t, sample_weight=sample_weight, reduction=reduction)


# --- the functions: one loss per sample --------------------------------------------------------------


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """mean(-(t log p + (1 - t) log(1 - p))) over the last axis, p clipped to [1e-7, 1 - 1e-7];
    label smoothing: t -> t (1 - s) + s / 2.
    """
    return _binary_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """-sum(t log p) over the class axis for one-hot (or soft) targets; label smoothing: t -> t (1 - s) + s / C."""
    return _categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """-log p[label] for integer labels; labels equal to `ignore_class` give 0 and drop out of the mean."""
    return _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((y_pred - y_true)^2) over the last axis."""
    return _mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean(|y_pred - y_true|) over the last axis."""
    return _mean_absolute_error(y_true, y_pred)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_pred = _pred(y_pred)
    t = _true("mean_absolute_percentage_error", y_true, y_pred)
    return ((y_pred - t).abs() * (100.0 / np.maximum(np.abs(t), EPSILON))).mean(axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2) over the last axis."""
    y_pred = _pred(y_pred)
    t = _true("mean_squared_logarithmic_error", y_true, y_pred)
    d = (y_pred.clip(EPSILON, None) + 1.0).log() - np.log(np.maximum(t, EPSILON) + 1)
    return (d * d).mean(axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """mean(0.5 q^2 + delta (|e| - q)) over the last axis, e = y_pred - y_true, q = min(|e|, delta)."""
    y_pred = _pred(y_pred)
    err = (y_pred - _true("huber", y_true, y_pred)).abs()
    quad = err.clip(None, delta)
    return (quad * quad * 0.5 + (err - quad) * delta).mean(axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """mean(log cosh(y_pred - y_true)) over the last axis, as |x| + log(1 + e^(-2|x|)) - log 2 (no overflow)."""
    y_pred = _pred(y_pred)
    x = (y_pred - _true("log_cosh", y_true, y_pred)).abs()
    return (x + ((x * -2.0).exp() + 1.0).log() - math.log(2.0)).mean(axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """sum(t log(t / p)) over the last axis, t and p clipped to [1e-7, 1]."""
    y_pred = _pred(y_pred)
    t = np.clip(_true("kl_divergence", y_true, y_pred), EPSILON, 1)
    return (y_pred.clip(EPSILON, 1.0).log() * -t + t * np.log(t)).sum(axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """mean(y_pred - y_true log(y_pred + 1e-7)) over the last axis."""
    y_pred = _pred(y_pred)
    t = _true("poisson", y_true, y_pred)
    return (y_pred - (y_pred + EPSILON).log() * t).mean(axis=-1)


def _hinge_labels(name: str, y_true: Any, y_pred: Tensor) -> Any:
    """Labels in {-1, 1}; 0/1 labels are converted (t -> 2t - 1) as Keras does."""
    t = _true(name, y_true, y_pred)
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t y_pred, 0)) over the last axis, t in {-1, 1} (0/1 labels converted)."""
    y_pred = _pred(y_pred)
    return (y_pred * -_hinge_labels("hinge", y_true, y_pred) + 1.0).relu().mean(axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t y_pred, 0)^2) over the last axis, t in {-1, 1} (0/1 labels converted)."""
    y_pred = _pred(y_pred)
    h = (y_pred * -_hinge_labels("squared_hinge", y_true, y_pred) + 1.0).relu()
    return (h * h).mean(axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """max(max((1 - t) y_pred) - sum(t y_pred) + 1, 0) over the last axis, t one-hot."""
    y_pred = _pred(y_pred)
    t = _true("categorical_hinge", y_true, y_pred)
    return ((y_pred * (1 - t)).max(axis=-1) - (y_pred * t).sum(axis=-1) + 1.0).relu()


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over axis (-1 when aligned, as a loss to minimize)."""
    y_pred = _pred(y_pred)
    t = _true("cosine_similarity", y_true, y_pred)
    t = t / np.sqrt(np.maximum((t * t).sum(axis=axis, keepdims=True), 1e-12))
    norm = (y_pred * y_pred).sum(axis=axis, keepdims=True).clip(1e-12, None).sqrt()
    return -((y_pred / norm) * t).sum(axis=axis)


# --- Loss objects ------------------------------------------------------------------------------------


def _check_reduction(reduction: str | None) -> str:
    reduction = {None: "none", "auto": "sum_over_batch_size"}.get(reduction, reduction)
    if reduction not in loss_ops.REDUCTIONS:
        raise ValueError(f"Loss: unknown reduction {reduction!r}; expected one of {loss_ops.REDUCTIONS}")
    return reduction


class Loss:
    """Base of the losses: `call(y_true, y_pred)` gives per-sample losses; calling the object weights and
    reduces them ("sum_over_batch_size": sum(w * loss) / number of losses; "sum"; "mean_with_sample_weight":
    divided by the sum of the weights; "none": the weighted losses).
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        self.name = name or type(self).__name__.lower()
        self.reduction = _check_reduction(reduction)
        self.dtype = None if dtype is None else np.dtype(dtype)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The loss of a batch: a scalar Tensor in y_pred's graph (per-sample values for reduction "none")."""
        y_pred = _pred(y_pred)
        if self.dtype is not None and y_pred.dtype != self.dtype:
            y_pred = y_pred.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = _raw(sample_weight)
        return self._reduced(y_true, y_pred, sample_weight)

    def _reduced(self, y_true: Any, y_pred: Tensor, sample_weight: Any) -> Tensor:
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = make_tensor(backend.as_array(values), None)
        return loss_ops.WeightedReduce.apply(values, sample_weight=sample_weight, reduction=self.reduction)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The per-sample losses (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype.name
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A Loss made of any function fn(y_true, y_pred, **kwargs) -> per-sample losses (y_true comes as a Tensor)."""

    def __init__(self, fn: Callable[..., Any], reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        y_pred = _pred(y_pred)
        t = _raw(y_true).astype(y_pred.dtype, copy=False)
        t = _match_rank(t, y_pred.ndim, y_pred.shape[-1] if y_pred.ndim else 0)
        return self.fn(make_tensor(t, None), y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str):
            if fn not in _FUNCTIONS:
                raise ValueError(f"LossFunctionWrapper: unknown loss function {fn!r}; pass it in custom_objects")
            fn = _FUNCTIONS[fn]
        return cls(fn, **config)


class _Builtin(Loss):
    """A Keras loss class: the per-sample formula is one of the functions above, its options are attributes."""

    fn: Callable[..., Tensor]
    fused: Callable[..., Tensor] | None = None
    options: tuple[str, ...] = ()

    def _options(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.options}

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return type(self).fn(y_true, y_pred, **self._options())

    def _reduced(self, y_true: Any, y_pred: Tensor, sample_weight: Any) -> Tensor:
        if self.fused is None:
            return super()._reduced(y_true, y_pred, sample_weight)
        return type(self).fused(y_true, y_pred, **self._options(), sample_weight=sample_weight,
                                reduction=self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._options()}


_DEFAULT = "sum_over_batch_size"


class MeanSquaredError(_Builtin):
    """mean((y_pred - y_true)^2) over the last axis, reduced over the batch."""

    fn, fused = staticmethod(mean_squared_error), staticmethod(_mean_squared_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanAbsoluteError(_Builtin):
    """mean(|y_pred - y_true|) over the last axis, reduced over the batch."""

    fn, fused = staticmethod(mean_absolute_error), staticmethod(_mean_absolute_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanAbsolutePercentageError(_Builtin):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis, reduced over the batch."""

    fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_absolute_percentage_error",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class MeanSquaredLogarithmicError(_Builtin):
    """mean((log(y_pred + 1) - log(y_true + 1))^2) over the last axis, reduced over the batch."""

    fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "mean_squared_logarithmic_error",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Huber(_Builtin):
    """Quadratic for errors below delta, linear above (see `huber`), reduced over the batch."""

    fn, options = staticmethod(huber), ("delta",)

    def __init__(self, delta: float = 1.0, reduction: str | None = _DEFAULT, name: str = "huber_loss",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.delta = delta


class LogCosh(_Builtin):
    """mean(log cosh(y_pred - y_true)) over the last axis, reduced over the batch."""

    fn = staticmethod(log_cosh)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "log_cosh", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class BinaryCrossentropy(_Builtin):
    """Binary cross-entropy of probabilities (or logits with from_logits=True), reduced over the batch."""

    fn, fused = staticmethod(binary_crossentropy), staticmethod(_binary_crossentropy)
    options = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _DEFAULT, name: str = "binary_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(_Builtin):
    """Cross-entropy of one-hot targets and class probabilities (or logits), reduced over the batch."""

    fn, fused = staticmethod(categorical_crossentropy), staticmethod(_categorical_crossentropy)
    options = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = _DEFAULT, name: str = "categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(_Builtin):
    """Cross-entropy of integer labels and class probabilities (or logits); with ignore_class, the mean is over
    the other labels only.
    """

    fn, fused = staticmethod(sparse_categorical_crossentropy), staticmethod(_sparse_categorical_crossentropy)
    options = ("from_logits", "ignore_class")

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, reduction: str | None = _DEFAULT,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.from_logits, self.ignore_class = from_logits, ignore_class


class KLDivergence(_Builtin):
    """sum(y_true log(y_true / y_pred)) over the last axis, reduced over the batch."""

    fn = staticmethod(kl_divergence)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Poisson(_Builtin):
    """mean(y_pred - y_true log y_pred) over the last axis, reduced over the batch."""

    fn = staticmethod(poisson)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class Hinge(_Builtin):
    """mean(max(1 - y_true y_pred, 0)) over the last axis, reduced over the batch."""

    fn = staticmethod(hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class SquaredHinge(_Builtin):
    """mean(max(1 - y_true y_pred, 0)^2) over the last axis, reduced over the batch."""

    fn = staticmethod(squared_hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class CategoricalHinge(_Builtin):
    """max(max_wrong - correct + 1, 0) per sample, reduced over the batch."""

    fn = staticmethod(categorical_hinge)

    def __init__(self, reduction: str | None = _DEFAULT, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)


class CosineSimilarity(_Builtin):
    """-cosine(y_true, y_pred) along axis, reduced over the batch (minimizing it aligns the vectors)."""

    fn, options = staticmethod(cosine_similarity), ("axis",)

    def __init__(self, axis: int = -1, reduction: str | None = _DEFAULT, name: str = "cosine_similarity",
                 dtype: Any = None) -> None:
        super().__init__(name, reduction, dtype)
        self.axis = axis


# --- lookup and serialization --------------------------------------------------------------------------

_CLASSES: dict[str, type[Loss]] = {c.__name__: c for c in (
    LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, CosineSimilarity,
)}

_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    **dict.fromkeys(("mean_squared_error", "mse", "MSE"), mean_squared_error),
    **dict.fromkeys(("mean_absolute_error", "mae", "MAE"), mean_absolute_error),
    **dict.fromkeys(("mean_absolute_percentage_error", "mape", "MAPE"), mean_absolute_percentage_error),
    **dict.fromkeys(("mean_squared_logarithmic_error", "msle", "MSLE"), mean_squared_logarithmic_error),
    **dict.fromkeys(("huber", "huber_loss"), huber),
    **dict.fromkeys(("log_cosh", "logcosh"), log_cosh),
    **dict.fromkeys(("kl_divergence", "kld", "KLD", "kullback_leibler_divergence"), kl_divergence),
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "poisson": poisson,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "cosine_similarity": cosine_similarity,
}

_CLASS_OF: dict[Callable[..., Tensor], type[Loss]] = {
    c.fn: c for c in _CLASSES.values() if issubclass(c, _Builtin)  # type: ignore[attr-defined]
}


def get(identifier: Any) -> Loss | None:
    """A Loss from a name ('mse', 'categorical_crossentropy', 'Huber', ...), a Loss class or instance,
    a function fn(y_true, y_pred) -> per-sample losses, or a config dict; None stays None.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _CLASS_OF.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"losses.get: could not interpret loss identifier {identifier!r}")


def serialize(loss: Loss | Callable[..., Any]) -> dict[str, Any] | str:
    """{"class_name": ..., "config": {...}} for a Loss (a built-in function gives its name)."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    name = getattr(loss, "__name__", None)
    if name in _FUNCTIONS:
        return name
    raise ValueError(f"losses.serialize: expected a Loss or a built-in loss function, got {loss!r}")


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Loss:
    """Rebuild a Loss from `serialize`'s dict or a name; custom_objects maps names to your own classes/functions."""
    custom = custom_objects or {}
    if isinstance(config, str):
        found = custom.get(config) or _CLASSES.get(config) or _FUNCTIONS.get(config)
        if found is None:
            raise ValueError(f"Unknown loss {config!r}; expected one of {sorted(_FUNCTIONS)} or {sorted(_CLASSES)}")
        return get(found)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"losses.deserialize: expected a name or a dict with 'class_name', got {config!r}")
    name, kwargs = config["class_name"], dict(config.get("config") or {})
    cls = custom.get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"Unknown loss class {name!r}; expected one of {sorted(_CLASSES)} or one in custom_objects")
    if isinstance(kwargs.get("fn"), str) and kwargs["fn"] in custom:
        kwargs["fn"] = custom[kwargs["fn"]]
    return cls.from_config(kwargs)


# Keras's short aliases of the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

__all__ = [
    "KLD", "MAE", "MAPE", "MSE", "MSLE", "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge",
    "CosineSimilarity", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError",
    "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge", "binary_crossentropy", "categorical_crossentropy",
    "categorical_hinge", "cosine_similarity", "deserialize", "get", "hinge", "huber", "kl_divergence", "kld",
    "kullback_leibler_divergence", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "poisson", "serialize", "sparse_categorical_crossentropy", "squared_hinge",
]
