"""Scaled dot-product attention as one op: o = dropout(softmax(scale q k^T + bias)) v over the last two axes.

Fusing the product, the masked softmax, the dropout and the second product into one `Function` saves the
intermediate graph nodes and their copies: forward is two batched matrix products and three passes over the
(..., T, S) scores; backward is four batched products and three passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops.function import Function

MASK_NEGATIVE = 1e9  # Keras's large negative bias for masked scores (float32)


def mask_bias(mask: Any, dtype: Any) -> Any:
    """The additive bias of a boolean mask (True = attend): 0 where True, -1e9 where False, as Keras adds it."""
    xp = get_array_module(mask)
    return xp.where(mask, 0, -MASK_NEGATIVE).astype(dtype)


class ScaledDotProductAttention(Function):
    """o = P' v with P = softmax(scale q k^T + bias), P' = P m / (1 - rate) (dropout mask m, when training).

    q: (..., T, d), k: (..., S, d), v: (..., S, dv); bias (additive, e.g. from `mask_bias`) broadcasts to
    (..., T, S). Backward: dv = P'^T g, dP = (g v^T) m / (1 - rate), dS = P (dP - sum(dP P)),
    dq = scale dS k, dk = scale dS^T q.
    """

    def __init__(self, scale: float, bias: Any = None, dropout: float = 0.0,
                 rng: np.random.Generator | None = None) -> None:
        self.scale, self.bias, self.rate, self.rng = scale, bias, dropout, rng

    def forward(self, q: Any, k: Any, v: Any) -> Any:
        xp = get_array_module(q)
        qs = q * q.dtype.type(self.scale)
        s = qs @ k.swapaxes(-1, -2)
        if self.bias is not None:
            s += self.bias
        s -= s.max(axis=-1, keepdims=True)
        xp.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        self.qs, self.k, self.v, self.p = qs, k, v, s
        self.keep = None
        if self.rate > 0:
            keep = xp.asarray(self.rng.random(s.shape, dtype=np.float32) >= self.rate)
            self.keep = keep * s.dtype.type(1.0 / (1.0 - self.rate))
            self.pd = s * self.keep
        else:
            self.pd = s
        return self.pd @ v

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        p, k, v = self.p, self.k, self.v
        dv = self.pd.swapaxes(-1, -2) @ g if self.needs_grad(2) else None
        if not (self.needs_grad(0) or self.needs_grad(1)):
            return None, None, dv
        dp = g @ v.swapaxes(-1, -2)
        if self.keep is not None:
            dp *= self.keep
        row = (dp * p).sum(axis=-1, keepdims=True)
        dp -= row
        dp *= p
        dq = dk = None
        if self.needs_grad(0):
            dq = dp @ k
            dq *= dq.dtype.type(self.scale)
        if self.needs_grad(1):
            dk = dp.swapaxes(-1, -2) @ self.qs
        return dq, dk, dv
