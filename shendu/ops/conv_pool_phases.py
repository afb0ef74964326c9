"""A convolution followed by a max pool whose windows tile it (pool stride = pool size), computed phase by phase
in NumPy: the pool's window element (a, b) of every window is the convolution output at rows p ph + a, columns
q pw + b, itself a convolution with strides (ph sh, pw sw) of the input shifted by (a sh, b sw). So the phases'
windows are one strided gather into a (phases, pixels, taps) stack, all of them one matrix product into a (phases,
pixels, F) stack, and the pool is an element-wise max over the stack's contiguous slices instead of strided passes
over the unpooled output (which NumPy makes slowly); its gradient is the pooled gradient masked per phase, and the
conv's backward runs on the stack: one batched product for every tap's contribution, then one addition per tap into
the pixels it read (kh kw NumPy calls, not kh kw ph pw: on two threads each NumPy call can wait for the GIL).
Conv rows that no window covers are never computed.

This is the NumPy path of `Conv2DMaxPool` (without numba; with it the compiled pool loops run instead). Its reference
is the op's other path, the convolution then the pool, which the tests compare it with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels
from shendu.ops.conv import Conv2D, pad_spatial, relu_inplace
from shendu.ops.pool import MaxPool2D, _argmax_pass, _unroute


def applies(conv: Conv2D, pool: MaxPool2D, x: Any) -> bool:
    """Whether the phase path runs: an im2col convolution of one group, a pool whose windows tile its input
    without padding, and no compiled pool loops (NumPy arrays without numba)."""
    return (type(conv) is Conv2D and conv.groups == 1 and pool.strides == pool.pool
            and pool.padding == ((0, 0), (0, 0)) and get_array_module(x) is np and not kernels.enabled())


def _along(axis: int, k: int) -> list[tuple[Any, ...]]:
    """Index tuples selecting entry 0 ... k - 1 along `axis` (a phase axis of the stack)."""
    return [(slice(None),) * axis + (j,) for j in range(k)]


def _windows(xpad: Any, conv: Conv2D, pool: MaxPool2D, ohp: int, owp: int, writeable: bool = False) -> Any:
    """The pixels of padded images xpad (N, H, W, C) that every tap reads, as a strided view (kh, kw, ph, pw, N,
    OHp, OWp, C) of xpad: tap (i, j) of phase (a, b) at window (p, q) reads row (p ph + a) sh + i dh and column
    (q pw + b) sw + j dw. Distinct (tap, phase, window) may share a pixel, so a writeable view takes one tap at a
    time (its (phase, window) pixels are distinct, since the windows tile the convolution's rows)."""
    n, _, _, c = xpad.shape
    sn, s_h, s_w, sc = xpad.strides
    (sh, sw), (dh, dw), (ph, pw) = conv.strides, conv.dilation, pool.pool
    kh, kw = conv.kernel.shape[:2]
    return np.lib.stride_tricks.as_strided(
        xpad, (kh, kw, ph, pw, n, ohp, owp, c),
        (dh * s_h, dw * s_w, sh * s_h, sw * s_w, sn, ph * sh * s_h, pw * sw * s_w, sc), writeable=writeable)


def forward_rows(conv: Conv2D, pool: MaxPool2D, x: Any, out: Any, relu: bool) -> tuple[Any, Any]:
    """out (N, OHp, OWp, F) = max_pool(conv(x)) (then the ReLU when `relu`) for images x (a batch chunk); returns
    (cols, winners) for backward: the phases' gathered windows (phases, pixels, taps [+ 1]) and each window's winning
    phase as the separable pool records it (the winning b of every a, then the winning a)."""
    xp = get_array_module(x)
    xpad = pad_spatial(x, conv.padding)
    kh, kw, c, f = conv.kernel.shape
    n, ohp, owp, _ = out.shape
    ph, pw = pool.pool
    k = kh * kw * c
    cols = xp.empty((ph * pw, n * ohp * owp, k + conv.has_bias), dtype=x.dtype)
    windows = _windows(xpad, conv, pool, ohp, owp)  # (kh, kw, ph, pw, N, OHp, OWp, C)
    if c == 1:  # copied tap-major first (runs along W), then transposed: a tap-innermost copy reads 1 pixel a run
        cols[:, :, :k] = xp.ascontiguousarray(windows).reshape(k, len(cols), -1).transpose(1, 2, 0)
    else:
        cols[:, :, :k].reshape(windows.shape[2:-1] + windows.shape[:2] + (c,))[...] = windows.transpose(
            2, 3, 4, 5, 6, 0, 1, 7)
    if conv.has_bias:
        cols[:, :, k] = 1
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
    if relu:
        g = g * (y > 0)
    ph, pw = pool.pool
    g_mid = _unroute(g, along_h, ph, xp.empty((ph, *g.shape), dtype=g.dtype), _along(0, ph), exact=True)
    g2 = _unroute(g_mid, along_w, pw, xp.empty((ph, pw, *g.shape), dtype=g.dtype), _along(1, pw), exact=True)
    g2 = g2.reshape(-1, f)
    if dxpad is not None:
        # every tap's contribution, each tap's contiguous: (kh kw, phases pixels, C)
        taps = xp.matmul(g2, conv.kernel.reshape(kh * kw, c, f).transpose(0, 2, 1))
        taps = taps.reshape(kh, kw, ph, pw, n, ohp, owp, c)
        targets = _windows(dxpad, conv, pool, ohp, owp, writeable=True)
        for i in range(kh):  # tap (i, j) of every phase and window added into the pixels it read: one pass each
            for j in range(kw):
                targets[i, j] += taps[i, j]
    return (cols.reshape(-1, cols.shape[2]).T @ g2)[None] if weights else None
