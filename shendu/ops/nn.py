"""Neural-network ops: the fused dense product, dropout, and the activations that are not elementary.

Each activation here is one `Function` so that its forward and backward are single passes of array
code instead of a chain of small ops. `hard_sigmoid` and `softsign` (and their derivatives from the output) are
the formulas on raw arrays that the fused recurrences of `recurrent` call too.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels
from shendu.ops.conv import bias_relu
from shendu.ops.elementwise import relu_grad, sigmoid, sigmoid_grad, tanh_grad
from shendu.ops.function import Function
from shendu.parallel import (
    MIN_PRODUCT_WORK,
    OVERLAPPED_PRODUCT_WORK,
    batch_chunks,
    run_chunks,
    submit,
    sum_parts,
    threads_now,
)


class Linear(Function):
    """y = x @ W (+ b) over the last axis of x;  dx = g W^T, dW = x^T g, db = g summed over the other axes.

    Inputs of rank > 2 are flattened to one matrix; large products run on row chunks in parallel
    (`shendu.parallel`), dW and db summed over the chunks. Under that size, a backward whose two products are each
    over OVERLAPPED_PRODUCT_WORK makes dW on a worker while this thread makes dx (the NumPy-only CNN's Dense
    backward 0.75-0.82 -> 0.59-0.67 ms a step).
    """

    relu = False

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        self.x, self.w = x, w
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        self.chunks = batch_chunks(x2.shape[0], w.size, MIN_PRODUCT_WORK)
        if len(self.chunks) == 1:
            y = self._rows(x2 @ w, b)
        else:
            xp = get_array_module(x)
            y = xp.empty((x2.shape[0], w.shape[1]), dtype=xp.result_type(x, w))
            run_chunks(lambda sl: self._rows(xp.matmul(x2[sl], w, out=y[sl]), b), self.chunks)
        if self.relu:
            self.y = y
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], w.shape[1])

    def _rows(self, y: Any, b: Any) -> Any:
        return bias_relu(y, b, self.relu)

    def backward(self, g: Any) -> tuple[Any, ...]:
        x2 = self.x if self.x.ndim == 2 else self.x.reshape(-1, self.x.shape[-1])
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        if len(self.chunks) == 1:
            dx, dw, db = self._grads(x2, g2)
        else:
            xp = get_array_module(g)
            dx = xp.empty(x2.shape, dtype=g.dtype) if self.needs_grad(0) else None
            parts = run_chunks(lambda sl: self._grads(x2[sl], g2[sl], sl, None if dx is None else dx[sl]),
                               self.chunks)
            dw = sum_parts([p[1] for p in parts]) if parts[0][1] is not None else None
            db = sum_parts([p[2] for p in parts]) if parts[0][2] is not None else None
        return (None if dx is None else dx.reshape(self.x.shape)), dw, db

    def _grads(self, x2: Any, g2: Any, rows: slice = slice(None), dx: Any = None) -> tuple[Any, Any, Any]:
        """(dx, dW, db) of these rows (dx written into `dx` when given)."""
        want_db = len(self.inputs) == 3 and self.needs_grad(2)
        db = None
        if self.relu:
            g2, db = relu_backward(g2, self.y[rows], want_db)
        xp = get_array_module(g2)
        later = None
        if (self.needs_grad(0) and self.needs_grad(1) and xp is np and rows == slice(None)
                and x2.size * g2.shape[1] >= OVERLAPPED_PRODUCT_WORK and threads_now() > 1):
            later = submit(np.matmul, x2.T, g2)  # dW on a worker while this thread makes dx
        if self.needs_grad(0):
            dx = g2 @ self.w.T if dx is None else xp.matmul(g2, self.w.T, out=dx)
        dw = (x2.T @ g2 if later is None else later.result()) if self.needs_grad(1) else None
        if want_db and db is None:
            db = g2.sum(axis=0)
        return dx, dw, db


def relu_backward(g: Any, y: Any, sums: bool) -> tuple[Any, Any]:
    """(g * relu'(y), its sums over the rows or None) for (rows, columns) g from the ReLU's output y: with numba one
    compiled pass (`kernels.relu_mask_rows`, the sums accumulated in float64), else NumPy's product and sum."""
    if (kernels.enabled() and isinstance(g, np.ndarray) and isinstance(y, np.ndarray) and g.ndim == 2
            and g.dtype in (np.float32, np.float64) and y.dtype == g.dtype):
        out = np.empty(g.shape, g.dtype)
        db = np.empty(g.shape[1] if sums else 0, g.dtype)
        kernels.relu_mask_rows(np.ascontiguousarray(g), np.ascontiguousarray(y), out, db)
        return out, (db if sums else None)
    out = g * relu_grad(y)
    return out, (out.sum(axis=0) if sums else None)


class LinearReLU(Linear):
    """y = max(x @ W + b, 0) in one op (the ReLU in place, on NumPy's SIMD loop);  the ReLU's mask is applied
    to g, then as `Linear`."""

    relu = True


class Dropout(Function):
    """y = x * m / (1 - rate), m ~ Bernoulli(1 - rate) per element (inverted dropout);  dx = g * m / (1 - rate).

    `noise_shape` (broadcastable to x) shares one draw along the axes where it is 1.
    """

    def __init__(self, rate: float, rng: np.random.Generator, noise_shape: tuple[int, ...] | None = None) -> None:
        self.rate, self.rng, self.noise_shape = rate, rng, noise_shape

    def forward(self, x: Any) -> Any:
        shape = x.shape if self.noise_shape is None else self.noise_shape
        self.mask = dropout_mask(self.rng, shape, self.rate, x.dtype, get_array_module(x))
        return x * self.mask

    def backward(self, g: Any) -> tuple[Any]:
        return (g * self.mask,)


def dropout_mask(rng: np.random.Generator, shape: tuple[int, ...], rate: float, dtype: Any, xp: Any = np) -> Any:
    """Dropout's scaled mask: keep / (1 - rate), keep = (a uniform draw of `rng` >= rate) per element."""
    keep = xp.asarray(rng.random(shape, dtype=np.float32) >= rate)
    return keep * np.dtype(dtype).type(1.0 / (1.0 - rate))


class GeneralReLU(Function):
    """Keras's relu with options: y = min(x, max_value) for x > threshold (clipped at 0),
    else negative_slope * (x - threshold);  dx = g where x > threshold and 0 <= y <= max_value,
    negative_slope * g below the threshold."""

    def __init__(self, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> None:
        self.slope, self.max_value, self.threshold = negative_slope, max_value, threshold

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        above = x > self.threshold
        y = xp.where(above, x, 0).astype(x.dtype, copy=False)
        grad = above
        if self.max_value is not None:
            grad = above & (y >= 0) & (y <= self.max_value)
            xp.clip(y, 0, self.max_value, out=y)
        below = ~above
        if self.slope:
            y += xp.where(below, self.slope * (x - self.threshold), 0).astype(x.dtype, copy=False)
        self.grad = grad.astype(x.dtype)
        if self.slope:
            self.grad[below] = self.slope
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * self.grad,)


class Elu(Function):
    """y = x if x > 0 else alpha (e^x - 1), times scale (SELU when scale, alpha are SELU's);
    dx = scale * g if x > 0 else g * (y + scale * alpha)."""

    def __init__(self, alpha: float = 1.0, scale: float = 1.0) -> None:
        self.alpha, self.scale = alpha, scale

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.pos = x > 0
        neg = self.alpha * xp.expm1(xp.minimum(x, 0))
        y = xp.where(self.pos, x, neg)
        if self.scale != 1.0:
            y *= self.scale
        self.y = y
        return y

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        return (g * xp.where(self.pos, self.scale, self.y + self.scale * self.alpha),)


class Softplus(Function):
    """y = log(1 + e^x), computed as logaddexp(x, 0) so it never overflows;  dx = g * sigmoid(x)."""

    def forward(self, x: Any) -> Any:
        self.x = x
        return get_array_module(x).logaddexp(x, x.dtype.type(0))

    def backward(self, g: Any) -> tuple[Any]:
        return (g * sigmoid(self.x),)


def softsign(x: Any, out: Any = None) -> Any:
    """softsign(x) = x / (1 + |x|); into `out` when given (out=x: in place)."""
    return get_array_module(x).divide(x, 1 + abs(x), out=out)


def softsign_grad(y: Any) -> Any:
    """softsign'(x) = 1 / (1 + |x|)^2 = (1 - |y|)^2 from the output y = softsign(x)."""
    d = 1 - abs(y)
    d *= d
    return d


class Softsign(Function):
    """y = x / (1 + |x|);  dx = g / (1 + |x|)^2 = g (1 - |y|)^2."""

    def forward(self, x: Any) -> Any:
        self.y = softsign(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * softsign_grad(self.y),)


class Silu(Function):
    """y = x * sigmoid(x) (swish);  dx = g * s (1 + x (1 - s)) with s = sigmoid(x)."""

    def forward(self, x: Any) -> Any:
        self.x, self.s = x, sigmoid(x)
        return x * self.s

    def backward(self, g: Any) -> tuple[Any]:
        s = self.s
        return (g * (s + self.x * sigmoid_grad(s)),)


def hard_sigmoid(x: Any, out: Any = None) -> Any:
    """hard_sigmoid(x) = relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1); into `out` when given (out=x: in place)."""
    xp = get_array_module(x)
    y = xp.divide(x, 6, out=out)
    y += 0.5
    return xp.clip(y, 0, 1, out=y)


def hard_sigmoid_grad(y: Any) -> Any:
    """hard_sigmoid'(x) from the output y: 1/6 where 0 < y < 1 (that is, -3 < x < 3), else 0."""
    return ((y > 0) & (y < 1)) * y.dtype.type(1 / 6)


class HardSigmoid(Function):
    """y = relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1);  dx = g / 6 where -3 < x < 3."""

    def forward(self, x: Any) -> Any:
        self.y = hard_sigmoid(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * hard_sigmoid_grad(self.y),)


class HardSilu(Function):
    """y = x * hard_sigmoid(x) (hard swish);  dx = g * (hard_sigmoid(x) + x / 6 where -3 < x < 3)."""

    def forward(self, x: Any) -> Any:
        self.x, self.h = x, hard_sigmoid(x)
        return x * self.h

    def backward(self, g: Any) -> tuple[Any]:
        return (g * (self.h + self.x * hard_sigmoid_grad(self.h)),)


class Mish(Function):
    """y = x tanh(softplus(x));  dx = g (t + x (1 - t^2) sigmoid(x)) with t = tanh(softplus(x))."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.x = x
        self.t = xp.tanh(xp.logaddexp(x, x.dtype.type(0)))
        return x * self.t

    def backward(self, g: Any) -> tuple[Any]:
        t = self.t
        return (g * (t + self.x * tanh_grad(t) * sigmoid(self.x)),)


class Gelu(Function):
    """y = x Phi(x), Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2;  dx = g (Phi(x) + x phi(x)).

    With approximate=True, Phi(x) is replaced by (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
    """

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.x = x
        if self.approximate:
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            self.t = xp.tanh(inner)
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
        return x * self.cdf

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        x = self.x
        if self.approximate:
            t = self.t
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * tanh_grad(t) * dinner),)
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return (g * (self.cdf + x * pdf),)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def erf(x: Any) -> Any:
    """The error function on arrays, without SciPy: to about 2e-15 in float64, 5e-7 in float32.

    float64: erf(x) = x f(x^2) for |x| < 1.5, else sign(x) (1 - e^(-x^2) h(1/|x|) / |x|), with f and h
    smooth and summed as Chebyshev series fitted to `math.erf`/`math.erfc` (see `_erf_series`).
    Lower precisions use Abramowitz & Stegun 7.1.26, erf(x) = 1 - t P(t) e^(-x^2), t = 1 / (1 + p x),
    which is 3x cheaper and exact to 1.5e-7.
    """
    xp = get_array_module(x)
    a = abs(x)
    if np.dtype(x.dtype).itemsize < 8:
        t = 1 / (1 + 0.3275911 * a)
        y = 1.061405429 * t
        for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
            y += c
            y *= t
        y *= xp.exp(-(a * a))
        xp.subtract(1, y, out=y)
        return xp.copysign(y, x, out=y)
    small_c, large_c = _erf_series()
    s = xp.minimum(x * x, _ERF_SPLIT**2)
    small = x * _clenshaw(s * (2 / _ERF_SPLIT**2) - 1, small_c)
    al = xp.clip(a, _ERF_SPLIT, _ERF_MAX)
    inv = 1 / al
    u = (inv - 1 / _ERF_MAX) * (2 / (1 / _ERF_SPLIT - 1 / _ERF_MAX)) - 1
    large = xp.copysign(1 - _clenshaw(u, large_c) * xp.exp(-al * al) * inv, x)
    return xp.where(a < _ERF_SPLIT, small, large)


_ERF_SPLIT = 1.5  # below: the series in x^2; above: the complementary form
_ERF_MAX = 6.0  # erfc(6) ~ 2e-17: beyond this erf is +-1 in float64


@functools.cache
def _erf_series() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Chebyshev coefficients of f(s) = erf(sqrt s)/sqrt s on [0, 1.5^2] and h(t) = x e^(x^2) erfc(x), t = 1/x,
    on [1/6, 1/1.5], fitted once from the math module; 15 and 18 terms reach 2e-15."""
    from numpy.polynomial import chebyshev

    def fit(f: Any, lo: float, hi: float, terms: int) -> tuple[float, ...]:
        fv = np.vectorize(f, otypes=[float])
        coef = chebyshev.chebinterpolate(lambda u: fv(lo + (hi - lo) * (u + 1) / 2), 24)
        return tuple(float(c) for c in coef[:terms])

    def f(s: float) -> float:
        return math.erf(math.sqrt(s)) / math.sqrt(s) if s > 0 else 2 / math.sqrt(math.pi)

    def h(t: float) -> float:
        x = 1 / t
        return x * math.exp(x * x) * math.erfc(x)

    return fit(f, 0.0, _ERF_SPLIT**2, 15), fit(h, 1 / _ERF_MAX, 1 / _ERF_SPLIT, 18)


def _clenshaw(u: Any, c: tuple[float, ...]) -> Any:
    """sum_k c_k T_k(u) for u in [-1, 1], by Clenshaw's recurrence (stable, one pass per term)."""
    u2 = 2 * u
    b1 = u2 * c[-1] + c[-2]
    b2 = c[-1]
    for ck in c[-3:0:-1]:
        b1, b2 = u2 * b1 - b2 + ck, b1
    return u * b1 - b2 + c[0]
