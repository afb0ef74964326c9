"""Fused loss ops: the loss, its sample weighting and its reduction in one pass, with a closed-form backward.

Each op takes the prediction (logits or probabilities) as its one differentiable input and the targets as
a parameter. With `reduction="none"` it returns the per-sample losses (times the sample weights, if any);
otherwise the scalar sum(w * loss) / divisor, where the divisor is Keras's: the number of losses for
"sum_over_batch_size" (alias "mean"), 1 for "sum", the sum of the weights for "mean_with_sample_weight".
"""

from __future__ import annotations

import math
from typing import Any

from shendu.backend import get_array_module
from shendu.ops.elementwise import sigmoid
from shendu.ops.function import Function
from shendu.ops.softmax import max_last, sum_last

EPSILON = 1e-7  # Keras's backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]

REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none")


def squeeze_or_expand(w: Any, ndim: int) -> Any:
    """w lined up with values of rank `ndim` (Keras's squeeze-or-expand): an extra trailing axis of 1 is
    dropped, missing trailing axes are added as 1 (a scalar stays a scalar)."""
    if w.ndim == ndim + 1 and w.shape[-1] == 1:
        return w[..., 0]
    if 0 < w.ndim < ndim:
        return w.reshape(w.shape + (1,) * (ndim - w.ndim))
    return w


def _to_shape(xp: Any, w: Any, shape: tuple[int, ...], what: str) -> Any:
    """A sample weight or mask squeezed or expanded, then broadcast, to the losses' shape."""
    try:
        return xp.broadcast_to(squeeze_or_expand(w, len(shape)), shape)
    except ValueError:
        raise ValueError(
            f"{what} of shape {w.shape} does not match the losses of shape {shape}; "
            "expected one value per sample (shape (batch,)) or one per loss"
        ) from None


def loss_weights(losses: Any, sample_weight: Any, reduction: str, mask: Any = None) -> tuple[Any, float | None]:
    """The weight of each loss (an array of the losses' shape, or None) and the divisor (None: no reduction).

    The sample weight and the mask (a Keras mask, ignored labels) line up with the losses by `squeeze_or_expand`;
    the mask zeroes weights and, for the mean reductions, leaves only the valid losses in the divisor, so the
    loss is sum(w * mask * loss) / sum(mask) (Keras's `apply_mask`).
    """
    xp, shape, dtype = get_array_module(losses), losses.shape, losses.dtype
    w = None
    if sample_weight is not None:
        w = _to_shape(xp, xp.asarray(sample_weight, dtype=dtype), shape, "sample_weight")
    if mask is not None:
        mask = _to_shape(xp, xp.asarray(mask), shape, "mask")
        w = mask.astype(dtype) if w is None else w * mask
    if reduction == "none":
        return w, None
    if reduction == "sum":
        return w, 1.0
    if reduction == "mean_with_sample_weight" and w is not None:
        return w, float(w.sum())
    if mask is not None:
        return w, float(mask.sum())
    if reduction not in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        raise ValueError(f"unknown loss reduction {reduction!r}; expected one of {REDUCTIONS}")
    return w, float(math.prod(shape))


class _LossOp(Function):
    """Base of the fused losses: `_finish` weights and reduces per-sample losses, `_scale` gives each one's gradient."""

    def __init__(self, sample_weight: Any = None, reduction: str = "none", mask: Any = None) -> None:
        self.sample_weight, self.reduction, self.mask = sample_weight, reduction, mask

    def _finish(self, per: Any) -> Any:
        self.w, div = loss_weights(per, self.sample_weight, self.reduction, self.mask)
        if div is None:
            self.factor = None
            return per if self.w is None else per * self.w
        self.factor = 1.0 / div if div else 0.0  # an empty or fully masked batch gives 0, as divide_no_nan
        total = per.sum() if self.w is None else (per * self.w).sum()
        return get_array_module(per).asarray(total * self.factor, dtype=per.dtype)

    def _scale(self, g: Any) -> Any:
        """d(output)/d(each per-sample loss) times g: a scalar, or an array of the per-sample shape."""
        s = g if self.factor is None else g * self.factor
        return s if self.w is None else s * self.w


def _per_row(s: Any) -> Any:
    """A per-sample scale made to broadcast over the class axis (scalars stay scalars)."""
    return s[..., None] if getattr(s, "ndim", 0) else s


def _inside(p: Any, lo: float, hi: float) -> Any:
    """Where clipping to [lo, hi] lets the gradient through (the bounds included, as TensorFlow's clip)."""
    return (p >= lo) & (p <= hi)


class SparseSoftmaxCrossEntropy(_LossOp):
    """loss = logsumexp(x) - x[label] per sample, from logits x (..., C) and integer labels (...);
    dx = (softmax(x) - onehot(label)) * g.
    """

    def __init__(self, labels: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.labels = labels

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.shape = x.shape
        x2 = x.reshape(-1, x.shape[-1])
        self.lab = self.labels.reshape(-1)
        self.rows = xp.arange(self.lab.size)
        e = x2 - max_last(x2)
        picked = e[self.rows, self.lab]
        xp.exp(e, out=e)
        self.e, self.s = e, sum_last(e)[:, 0]
        return self._finish((xp.log(self.s) - picked).reshape(x.shape[:-1]))

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        s = xp.broadcast_to(self._scale(g), self.shape[:-1]).reshape(-1)
        d = self.e * (s / self.s)[:, None]
        d[self.rows, self.lab] -= s
        return (d.reshape(self.shape),)


class SparseCategoricalCrossEntropy(_LossOp):
    """From probabilities p (..., C): q = clip(p, eps, 1 - eps), loss = log(sum q) - log(q[label]) (Keras's
    renormalized form);  dp = (1 / sum q - onehot(label) / q[label]) * g where p is inside the clip range.
    """

    def __init__(self, labels: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.labels = labels

    def forward(self, p: Any) -> Any:
        xp = get_array_module(p)
        self.shape = p.shape
        p2 = p.reshape(-1, p.shape[-1])
        self.lab = self.labels.reshape(-1)
        self.rows = xp.arange(self.lab.size)
        q = xp.clip(p2, EPSILON, 1 - EPSILON)
        self.inside = _inside(p2, EPSILON, 1 - EPSILON)
        self.qy, self.s = q[self.rows, self.lab], q.sum(axis=1)
        return self._finish((xp.log(self.s) - xp.log(self.qy)).reshape(p.shape[:-1]))

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        s = xp.broadcast_to(self._scale(g), self.shape[:-1]).reshape(-1)
        d = xp.empty(self.inside.shape, dtype=self.s.dtype)
        d[...] = (s / self.s)[:, None]
        d[self.rows, self.lab] -= s / self.qy
        d *= self.inside
        return (d.reshape(self.shape),)


class SoftmaxCrossEntropy(_LossOp):
    """loss = -sum(t * log_softmax(x)) over the last axis, from logits;  dx = (softmax(x) * sum(t) - t) * g."""

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        shifted = x - max_last(x)
        self.e = xp.exp(shifted)
        self.s = sum_last(self.e)
        shifted -= xp.log(self.s)
        shifted *= self.t
        return self._finish(-shifted.sum(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        t = self.t
        d = self.e * (t.sum(axis=-1, keepdims=True) / self.s)
        d -= t
        d *= _per_row(self._scale(g))
        return (d,)


class CategoricalCrossEntropy(_LossOp):
    """From probabilities p: q = p / sum p, loss = -sum(t * log clip(q, eps, 1 - eps)) over the last axis (Keras);
    dp = (dq - sum(dq * q)) / sum p with dq = -t / clip(q) * g inside the clip range.
    """

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, p: Any) -> Any:
        xp = get_array_module(p)
        self.s = p.sum(axis=-1, keepdims=True)
        self.q = p / self.s
        self.qc = xp.clip(self.q, EPSILON, 1 - EPSILON)
        return self._finish(-(self.t * xp.log(self.qc)).sum(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        dq = -self.t / self.qc
        dq *= _inside(self.q, EPSILON, 1 - EPSILON)
        dq *= _per_row(self._scale(g))
        dq -= (dq * self.q).sum(axis=-1, keepdims=True)
        dq /= self.s
        return (dq,)


class SigmoidCrossEntropy(_LossOp):
    """loss = mean(max(x, 0) - x t + log(1 + e^-|x|)) over the last axis, from logits (never overflows);
    dx = (sigmoid(x) - t) / C * g.
    """

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.x = x
        el = xp.exp(-abs(x))
        el = xp.log1p(el, out=el)
        el += xp.maximum(x, 0)
        el -= x * self.t
        return self._finish(el.mean(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        d = sigmoid(self.x)
        d -= self.t
        d *= _per_row(self._scale(g) * (1.0 / self.x.shape[-1]))
        return (d,)


class BinaryCrossEntropy(_LossOp):
    """From probabilities: q = clip(p, eps, 1 - eps), loss = mean(-(t log q + (1 - t) log(1 - q))) over the last
    axis;  dp = ((1 - t) / (1 - q) - t / q) / C * g inside the clip range.
    """

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, p: Any) -> Any:
        xp = get_array_module(p)
        self.p = p
        self.q = xp.clip(p, EPSILON, 1 - EPSILON)
        t = self.t
        return self._finish(-(t * xp.log(self.q) + (1 - t) * xp.log1p(-self.q)).mean(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        t, q = self.t, self.q
        d = (1 - t) / (1 - q) - t / q
        d *= _inside(self.p, EPSILON, 1 - EPSILON)
        d *= _per_row(self._scale(g) * (1.0 / q.shape[-1]))
        return (d,)


class SquaredError(_LossOp):
    """loss = mean((p - t)^2) over the last axis;  dp = 2 (p - t) / C * g."""

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, p: Any) -> Any:
        self.diff = p - self.t
        return self._finish((self.diff * self.diff).mean(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        return (self.diff * _per_row(self._scale(g) * (2.0 / self.diff.shape[-1])),)


class AbsoluteError(_LossOp):
    """loss = mean(|p - t|) over the last axis;  dp = sign(p - t) / C * g."""

    def __init__(self, targets: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.t = targets

    def forward(self, p: Any) -> Any:
        self.diff = p - self.t
        return self._finish(abs(self.diff).mean(axis=-1))

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        return (xp.sign(self.diff) * _per_row(self._scale(g) * (1.0 / self.diff.shape[-1])),)


class WeightedReduce(_LossOp):
    """y = sum(w * losses) / divisor (or w * losses for reduction "none");  dlosses = w / divisor * g."""

    def forward(self, values: Any) -> Any:
        self.shape = values.shape
        return self._finish(values)

    def backward(self, g: Any) -> tuple[Any]:
        return (get_array_module(g).broadcast_to(self._scale(g), self.shape),)
