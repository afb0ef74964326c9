"""Preparing a loss's inputs: y_pred as a float Tensor, y_true as an array of its dtype and rank, integer labels
checked against the number of classes, and the logits behind a Softmax or Sigmoid output (Keras's TF backend).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from shendu import backend, ops
from shendu.tensor import Tensor, make_tensor


def as_pred(y_pred: Any) -> Tensor:
    """y_pred as a float Tensor (an array becomes a constant)."""
    if not isinstance(y_pred, Tensor):
        y_pred = make_tensor(backend.as_array(y_pred), None)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(backend.floatx())


def as_array(y: Any) -> Any:
    """The array of a Tensor, or data as an array (no gradient: y_true and sample weights)."""
    return y.data if isinstance(y, Tensor) else backend.as_array(y)


def match_rank(t: Any, ndim: int, last: int) -> Any:
    """Add or drop a trailing axis of 1 so that t has the prediction's rank (Keras's squeeze-or-expand)."""
    if t.ndim == ndim - 1 and last == 1:
        return t[..., None]
    if t.ndim == ndim + 1 and t.shape[-1] == 1:
        return t[..., 0]
    return t


def as_true(name: str, y_true: Any, y_pred: Tensor, exact: bool = False) -> Any:
    """y_true as an array in y_pred's dtype and rank; it must broadcast to y_pred (or equal its shape if exact)."""
    raw = as_array(y_true)
    t = match_rank(raw.astype(y_pred.dtype, copy=False), y_pred.ndim, y_pred.shape[-1] if y_pred.ndim else 0)
    try:
        ok = np.broadcast_shapes(t.shape, y_pred.shape) == y_pred.shape and (not exact or t.shape == y_pred.shape)
    except ValueError:
        ok = False
    if not ok:
        hint = "; for integer class labels use sparse_categorical_crossentropy" if exact else ""
        raise ValueError(f"{name}: y_true of shape {raw.shape} does not match y_pred of shape {y_pred.shape}{hint}")
    return t


def to_last(x: Tensor, axis: int) -> Tensor:
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


def _warn_if_probabilities(name: str, x: Tensor) -> None:
    """Warn (once per loss) when from_logits=True meets rows that look like probabilities (in [0, 1], summing to 1).
    Binary losses are not checked: single logits in [0, 1] are ordinary (a fresh GAN discriminator gives them)."""
    if name in _warned or not x.size:
        return
    d = x.data
    if d.min() >= 0 and d.max() <= 1 and np.allclose(d.sum(axis=-1), 1, atol=1e-3):
        _warn_once(name, "looks like probabilities (values in [0, 1] and rows summing to 1) and thus may not "
                         "represent logits")


def logits_or_probs(name: str, y_pred: Tensor, op: type, from_logits: bool, axis: int = -1) -> tuple[Tensor, bool]:
    """(tensor to start from, whether it holds logits): a Softmax/Sigmoid's input when there is one."""
    logits = _logits_of(y_pred, op, axis)
    if logits is not None:
        if from_logits:
            _warn_once(name, f"was produced by a {op.__name__} activation and thus does not represent logits")
        return logits, True
    if from_logits and op is ops.Softmax:
        _warn_if_probabilities(name, to_last(y_pred, axis))
    return y_pred, from_logits


def _check_integral(name: str, lab: Any) -> None:
    """Float labels must hold whole numbers (1.0 is class 1): a NaN, an infinity or 1.5 is refused, not truncated."""
    bad = ~np.isfinite(lab) | (lab != np.floor(lab))
    if bad.any():
        value = lab[bad].flat[0]
        raise ValueError(f"{name}: labels must be integers (class indices); got {'NaN' if np.isnan(value) else value}")


def sparse_labels(name: str, y_true: Any, shape: tuple[int, ...], ignore_class: int | None) -> tuple[Any, Any]:
    """Integer labels of shape `shape[:-1]` checked against the number of classes, and the mask of ignore_class."""
    raw = as_array(y_true)
    lab = raw[..., 0] if raw.ndim == len(shape) and raw.ndim and raw.shape[-1] == 1 else raw
    if lab.shape != shape[:-1]:
        raise ValueError(
            f"{name}: expected integer labels of shape {shape[:-1]} (or {(*shape[:-1], 1)}) for predictions of "
            f"shape {shape}, got shape {raw.shape}"
        )
    if lab.dtype.kind not in "iu":
        if lab.dtype.kind not in "fb":
            raise TypeError(f"{name}: expected integer class labels, got dtype {lab.dtype}")
        if lab.dtype.kind == "f":
            _check_integral(name, lab)
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


