"""A convolution followed by a max pool whose windows tile it (pool stride = pool size), computed phase by phase
in NumPy: the pool's window element (a, b) of every window is the convolution output at rows p ph + a, columns
q pw + b, itself a convolution with strides (ph sh, pw sw) of the input shifted by (a sh, b sw). So each of the
ph pw phases is one im2col gather, all of them one matrix product into a (phases, pixels, F) stack, and the pool is
an element-wise max over the stack's contiguous slices instead of strided passes over the unpooled output (which
NumPy makes slowly); its gradient is the pooled gradient masked per phase, and the conv's backward runs on the
stack. Conv rows that no window covers are never computed.

This is the NumPy path of `Conv2DMaxPool` (without numba; with it the compiled pool loops run instead). Its reference
is the op's other path, the convolution then the pool, which the tests compare it with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels
from shendu.ops.conv import Conv2D, col2im, im2col, pad_spatial, relu_inplace
from shendu.ops.pool import MaxPool2D, _argmax_pass, _unroute


def applies(conv: Conv2D, pool: MaxPool2D, x: Any) -> bool:
    """Whether the phase path runs: an im2col convolution of one group, a pool whose windows tile its input
    without padding, and no compiled pool loops (NumPy arrays without numba)."""
    return (type(conv) is Conv2D and conv.groups == 1 and pool.strides == pool.pool
            and pool.padding == ((0, 0), (0, 0)) and get_array_module(x) is np and not kernels.enabled())


def _phases(pool: MaxPool2D) -> list[tuple[int, int]]:
    """The window elements (a, b) in row-major order: phase j = a pw + b, the pool's winner index."""
    ph, pw = pool.pool
    return [(a, b) for a in range(ph) for b in range(pw)]


def _along(axis: int, k: int) -> list[tuple[Any, ...]]:
    """Index tuples selecting entry 0 ... k - 1 along `axis` (a phase axis of the stack)."""
    return [(slice(None),) * axis + (j,) for j in range(k)]


def _strides(conv: Conv2D, pool: MaxPool2D) -> tuple[int, int]:
    """The strides of one phase's convolution: the pool's times the convolution's."""
    return pool.pool[0] * conv.strides[0], pool.pool[1] * conv.strides[1]


def forward_rows(conv: Conv2D, pool: MaxPool2D, x: Any, out: Any, relu: bool) -> tuple[Any, Any]:
    """out (N, OHp, OWp, F) = max_pool(conv(x)) (then the ReLU when `relu`) for images x (a batch chunk); returns
    (cols, winners) for backward: the phases' gathered windows (phases, pixels, taps [+ 1]) and each window's winning
    phase as the separable pool records it (the winning b of every a, then the winning a)."""
    xp = get_array_module(x)
    xpad = pad_spatial(x, conv.padding)
    kh, kw, c, f = conv.kernel.shape
    n, ohp, owp, _ = out.shape
    sh, sw = conv.strides
    phases = _phases(pool)
    cols = xp.empty((len(phases), n * ohp * owp, kh * kw * c + conv.has_bias), dtype=x.dtype)
    for j, (a, b) in enumerate(phases):
        im2col(xpad[:, a * sh:, b * sw:], kh, kw, ohp, owp, _strides(conv, pool), conv.dilation,
               ones=conv.has_bias, out=cols[j:j + 1])
    ph, pw = pool.pool
    z = xp.matmul(cols.reshape(-1, cols.shape[2]), conv.w[0]).reshape(ph, pw, n, ohp, owp, f)
    mid, along_w = _argmax_pass(z, _along(1, pw))  # the max over b, then over a, as the separable pool does
    along_h = _argmax_pass(mid, _along(0, ph), out=out)[1]
    if relu:
        relu_inplace(out)
    return cols, (along_w, along_h)


def backward_rows(conv: Conv2D, pool: MaxPool2D, saved: tuple[Any, Any], g: Any, y: Any, dxpad: Any,
                  weights: bool, relu: bool) -> Any:
    """For a batch chunk with pooled gradient g (and pooled output y, for the ReLU's mask): the input gradient added
    into its padded dxpad (when not None); returns its part of [dk; db] (groups axis first), None unless `weights`."""
    xp = get_array_module(g)
    cols, (along_w, along_h) = saved
    kh, kw, c, f = conv.kernel.shape
    n, ohp, owp, _ = g.shape
    phases = _phases(pool)
    if relu:
        g = g * (y > 0)
    ph, pw = pool.pool
    g_mid = _unroute(g, along_h, ph, xp.empty((ph, *g.shape), dtype=g.dtype), _along(0, ph), exact=True)
    g2 = _unroute(g_mid, along_w, pw, xp.empty((ph, pw, *g.shape), dtype=g.dtype), _along(1, pw), exact=True)
    g2 = g2.reshape(-1, f)
    if dxpad is not None:
        sh, sw = conv.strides
        taps = xp.matmul(g2, conv.kernel.reshape(kh * kw, c, f).transpose(0, 2, 1))  # (kh kw, phases pixels, C)
        taps = taps.reshape(kh, kw, len(phases), n, ohp, owp, c)
        for j, (a, b) in enumerate(phases):
            col2im(taps[:, :, j:j + 1], dxpad[:, a * sh:, b * sw:], ohp, owp, _strides(conv, pool), conv.dilation)
    return (cols.reshape(-1, cols.shape[2]).T @ g2)[None] if weights else None
