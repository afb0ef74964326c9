"""Fused normalization ops: batch normalization, and the per-sample normalization behind layer and group norm.

Each is one `Function` whose forward and backward are closed forms on raw arrays, so a normalization costs a
few passes over memory instead of a chain of small ops (and keeps no intermediate it can recompute cheaply).
"""

from __future__ import annotations

import math
from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function, sum_to_shape
from shendu.parallel import batch_chunks, run_chunks, sum_parts


def _channel_view(x: Any, axis: int) -> Any:
    """x as (A, C) or (A, C, B) without copying: C is `axis`, A the axes before it, B those after."""
    axis %= x.ndim
    a, b = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    return x.reshape(a, x.shape[axis]) if b == 1 else x.reshape(a, x.shape[axis], b)


MIN_WORK = 1 << 20
"""Elements per chunk before batch normalization runs on the threads: its three short passes each pay a hand-off,
so below this (e.g. a GAN's 64 x 14 x 14 x 32 batches) one thread was faster."""

_BLOCK = 128  # rows summed in the input's precision before the partial sums are added in float64


def _channel_sum(v: Any) -> Any:
    """Per-channel sum of a channel view. Rows are summed in blocks by BLAS (matrix-vector products), and the
    block sums added in float64, so that float32 sums over a large batch keep float32 accuracy."""
    xp = get_array_module(v)
    if v.ndim == 3:
        return v.sum(axis=2).sum(axis=0, dtype=xp.float64).astype(v.dtype)
    q = v.shape[0] // _BLOCK
    head = xp.ones(_BLOCK, dtype=v.dtype) @ v[:q * _BLOCK].reshape(q, _BLOCK, v.shape[1])
    total = head.sum(axis=0, dtype=xp.float64)
    if q * _BLOCK < v.shape[0]:
        total += v[q * _BLOCK:].sum(axis=0, dtype=xp.float64)
    return total.astype(v.dtype)


def _channel_dot(u: Any, v: Any) -> Any:
    """Per-channel sum of u * v of two channel views, without a temporary array; blocked as `_channel_sum`."""
    xp = get_array_module(u)
    if u.ndim == 3:
        return xp.einsum("icj,icj->ic", u, v).sum(axis=0, dtype=xp.float64).astype(u.dtype)
    q, c = u.shape[0] // _BLOCK, u.shape[1]
    r = q * _BLOCK
    total = xp.einsum("bij,bij->bj", u[:r].reshape(q, _BLOCK, c), v[:r].reshape(q, _BLOCK, c)).sum(
        axis=0, dtype=xp.float64)
    if r < u.shape[0]:
        total += xp.einsum("ij,ij->j", u[r:], v[r:])
    return total.astype(u.dtype)


class BatchNorm(Function):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta, statistics per index of `axis` over all other axes.

    Inputs: x, then gamma if `scale`, then beta if `center`. With `mean`/`variance` given (inference: the
    moving statistics) y is affine in x: dx = g gamma inv_std. Without them (training) the batch's mean and
    biased variance are used and written to `stats`, and, with xhat = (x - mean) inv_std over N values,
    dx = gamma inv_std / N (N g - sum g - xhat sum(g xhat)). Always dgamma = sum(g xhat), dbeta = sum g.
    """

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, scale: bool = True, center: bool = True,
                 mean: Any = None, variance: Any = None, stats: dict[str, Any] | None = None) -> None:
        self.axis, self.epsilon, self.scale, self.center = axis, epsilon, scale, center
        self.mean, self.variance, self.stats = mean, variance, stats
        self.training = mean is None

    def forward(self, x: Any, *params: Any) -> Any:
        xp = get_array_module(x)
        xv = _channel_view(x, self.axis)
        bshape = (1, xv.shape[1]) + (1,) * (xv.ndim - 2)
        gamma = params[0] if self.scale else None
        beta = params[-1] if self.center else None
        self.chunks = batch_chunks(xv.shape[0], xv[0].size, MIN_WORK)
        if self.training:
            n = xv.size // xv.shape[1]
            mean = sum_parts(run_chunks(lambda sl: _channel_sum(xv[sl]), self.chunks)) / n
            y = xp.empty_like(xv)

            def center(sl: slice) -> Any:
                xp.subtract(xv[sl], mean.reshape(bshape), out=y[sl])
                return _channel_dot(y[sl], y[sl])

            var = sum_parts(run_chunks(center, self.chunks)) / n
            if self.stats is not None:
                self.stats["mean"], self.stats["variance"] = mean, var
        else:
            mean = xp.asarray(self.mean, dtype=x.dtype).reshape(-1)
            var = xp.asarray(self.variance, dtype=x.dtype).reshape(-1)
        inv_std = 1 / xp.sqrt(var + x.dtype.type(self.epsilon))
        mult = (inv_std * gamma if gamma is not None else inv_std).reshape(bshape)
        if self.training:
            shift = None if beta is None else beta.reshape(bshape)
            source = y
        else:
            shift = (beta - mean * mult.reshape(-1) if beta is not None else -mean * mult.reshape(-1)).reshape(bshape)
            source, y = xv, xp.empty_like(xv)

        def scale(sl: slice) -> None:
            xp.multiply(source[sl], mult, out=y[sl])
            if shift is not None:
                y[sl] += shift

        run_chunks(scale, self.chunks)
        self.xv, self.mean, self.inv_std, self.mult, self.bshape = xv, mean, inv_std, mult.reshape(-1), bshape
        return y.reshape(x.shape)

    def backward(self, g: Any) -> tuple[Any, ...]:
        xp = get_array_module(g)
        xv, mean, inv_std, mult, bshape = self.xv, self.mean, self.inv_std, self.mult, self.bshape
        gv = g.reshape(xv.shape)
        want_gamma = self.scale and self.needs_grad(1)
        centered = want_gamma or self.training

        def sums(sl: slice) -> tuple[Any, Any]:
            dot = _channel_dot(gv[sl], xv[sl] - mean.reshape(bshape)) if centered else None
            return _channel_sum(gv[sl]), dot

        parts = run_chunks(sums, self.chunks)
        sum_g = sum_parts([p[0] for p in parts])
        sum_g_xhat = sum_parts([p[1] for p in parts]) * inv_std if centered else None
        dx = None
        if self.needs_grad(0):
            dx = xp.empty_like(gv)
            n = xv.size // xv.shape[1]
            k_x = (mult * inv_std * sum_g_xhat / n).reshape(bshape) if self.training else None
            k_0 = (mult * sum_g / n).reshape(bshape) if self.training else None

            def grad_x(sl: slice) -> None:
                xp.multiply(gv[sl], mult.reshape(bshape), out=dx[sl])
                if self.training:
                    xc = xv[sl] - mean.reshape(bshape)
                    xc *= k_x
                    dx[sl] -= xc
                    dx[sl] -= k_0

            run_chunks(grad_x, self.chunks)
            dx = dx.reshape(g.shape)
        grads: list[Any] = [dx]
        if self.scale:
            grads.append(sum_g_xhat if want_gamma else None)
        if self.center:
            grads.append(sum_g)
        return tuple(grads)


class Normalize(Function):
    """Per-sample normalization over `axes`: y = gamma xhat + beta, xhat = (x - mean) / sqrt(var + epsilon).

    mean and the biased var are taken over `axes` for every index of the other axes (layer and group
    normalization); gamma and beta are viewed in `param_shape` to broadcast. With `rms`, mean is 0 and var
    is mean(x^2) (RMS normalization). Inputs: x, then gamma if `scale`, then beta if `center`.
    dx = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = g gamma (the mean(dxhat) term
    dropped with `rms`);  dgamma = sum(g xhat), dbeta = sum g over the other axes.
    """

    def __init__(self, axes: tuple[int, ...], epsilon: float = 1e-3, param_shape: tuple[int, ...] | None = None,
                 scale: bool = True, center: bool = True, rms: bool = False) -> None:
        self.axes, self.epsilon, self.param_shape = tuple(axes), epsilon, param_shape
        self.scale, self.center, self.rms = scale, center, rms

    def forward(self, x: Any, *params: Any) -> Any:
        xp = get_array_module(x)
        xhat = x.copy() if self.rms else x - x.mean(axis=self.axes, keepdims=True)
        var = (xhat * xhat).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1 / xp.sqrt(var + x.dtype.type(self.epsilon))
        xhat *= self.inv_std
        self.xhat = xhat
        self.gamma = params[0].reshape(self.param_shape) if self.scale else None
        y = xhat * self.gamma if self.scale else xhat
        if self.center:
            beta = params[-1].reshape(self.param_shape)
            if y is xhat:
                y = xhat + beta
            else:
                y += beta
        return y

    def backward(self, g: Any) -> tuple[Any, ...]:
        xhat, axes = self.xhat, self.axes
        grads: list[Any] = [None]
        if self.needs_grad(0):
            dxhat = g * self.gamma if self.scale else g
            dx = dxhat - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
            if not self.rms:
                dx -= dxhat.mean(axis=axes, keepdims=True)
            dx *= self.inv_std
            grads[0] = dx
        if self.scale:
            grads.append(self._param_grad(g * xhat, 1))
        if self.center:
            grads.append(self._param_grad(g, len(self.inputs) - 1))
        return tuple(grads)

    def _param_grad(self, v: Any, i: int) -> Any:
        if not self.needs_grad(i):
            return None
        return sum_to_shape(v, self.param_shape).reshape(self.inputs[i].shape)

