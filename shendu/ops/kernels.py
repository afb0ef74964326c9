"""Compiled loops for the passes NumPy makes too many of (numba, the optional `shendu[fast]` extra).

NumPy makes one pass over memory per operation: a 2x2 max pool is four passes (two maxima, two comparisons) and its
gradient four more, each over arrays larger than the cache; Adam's update is ten. These loops do each job in one pass.
The pooling, scatter and Adam loops give the NumPy code's values bit for bit; the Winograd transforms (their NumPy
reference: `winograd.input_transform`, ...), with fused multiply-adds (`_jit_fma`), and the first-layer convolution
compute in another order and agree to rounding (the tests compare every loop with the NumPy code). Each loop is
compiled for one geometry, so that its small loops unroll and the channel loop runs in SIMD lanes; the machine code is
cached on disk. They release the GIL, so batch chunks still run on shendu's threads at once. Without numba, or with
SHENDU_NUMBA=0, the NumPy code runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # the pure-NumPy path runs instead
    numba = None

_enabled = numba is not None and os.environ.get("SHENDU_NUMBA", "1") != "0"


def enabled() -> bool:
    """Whether the compiled loops run (numba installed and not turned off)."""
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Turn the compiled loops on or off (on needs numba); returns the previous setting."""
    global _enabled
    if flag and numba is None:
        raise RuntimeError("shendu.ops.kernels: numba is not installed (pip install 'shendu[fast]')")
    previous, _enabled = _enabled, bool(flag)
    return previous


_OPTIONS = {"nogil": True, "cache": True, "boundscheck": False, "error_model": "numpy"}
"""numba's options for every loop here: release the GIL, cache the machine code on disk, no bounds checks, NumPy's
division semantics (so that divisions vectorize)."""


def _jit(fn: Callable[..., None]) -> Callable[..., None]:
    """fn compiled on its first call; without numba fn itself, which nothing calls (`enabled()` is False)."""
    if numba is None:
        return fn
    return numba.njit(**_OPTIONS)(fn)


def _jit_fma(fn: Callable[..., None]) -> Callable[..., None]:
    """As `_jit`, with a * b + c allowed as one fused multiply-add (one rounding instead of two; fastmath's
    'contract' alone: no reassociation, NaN and infinity kept). For loops that agree with their NumPy reference to
    rounding anyway: the LSTM's gate pass runs 19.3 -> 14.4 us."""
    if numba is None:
        return fn
    return numba.njit(**_OPTIONS, fastmath={"contract"})(fn)


@functools.cache
def max_pool(ph: int, pw: int, sh: int, sw: int) -> Callable[..., None]:
    """The loop `(x, relu, out, idx)`: out[n, p, q, c] = max over the window (p sh + a, q sw + b), a < ph, b < pw,
    of x (N, H, W, C), then max(out, 0) when relu; idx = the winner's a pw + b, the first maximum in row-major
    order (a NaN wins, as with np.maximum)."""

    @_jit
    def loop(x: Any, relu: bool, out: Any, idx: Any) -> None:
        n, oh, ow, ch = out.shape
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    for c in range(ch):
                        m = x[i, p * sh, q * sw, c]
                        k = 0
                        for a in range(ph):
                            for b in range(pw):
                                v = x[i, p * sh + a, q * sw + b, c]
                                if m == m and not v <= m:
                                    m = v
                                    k = a * pw + b
                        out[i, p, q, c] = 0 if relu and m < 0 else m
                        idx[i, p, q, c] = k

    return loop


@functools.cache
def max_pool_grad(ph: int, pw: int, sh: int, sw: int, tiles: bool) -> Callable[..., None]:
    """The loop `(g, y, relu, idx, out)`: out (N, H, W, C) = g (N, OH, OW, C) sent to each window's winner idx,
    only where y > 0 when relu (the window's max passed a ReLU). With `tiles` (the windows cover out exactly
    once) every element is written; otherwise out is zeroed and overlapping windows add up."""

    @_jit
    def loop(g: Any, y: Any, relu: bool, idx: Any, out: Any) -> None:
        n, oh, ow, ch = g.shape
        if not tiles:
            out[...] = 0
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    for a in range(ph):
                        for b in range(pw):
                            o = out[i, p * sh + a, q * sw + b]
                            for c in range(ch):
                                v = g[i, p, q, c]
                                if relu:
                                    v = v * (y[i, p, q, c] > 0)
                                won = idx[i, p, q, c] == a * pw + b
                                if tiles:
                                    o[c] = v * won
                                elif won:
                                    o[c] += v

    return loop


@functools.cache
def col2im(kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> Callable[..., None]:
    """The loop `(taps, out)`: out[n, p sh + i dh, q sw + j dw, c] += taps[i, j, n, p, q, c] for every tap (i, j),
    the adjoint of the im2col gather; one image at a time, so that its block of `out` stays in cache."""

    @_jit
    def loop(taps: Any, out: Any) -> None:
        _, _, n, oh, ow, ch = taps.shape
        for m in range(n):
            for i in range(kh):
                for j in range(kw):
                    for p in range(oh):
                        for q in range(ow):
                            for c in range(ch):
                                out[m, p * sh + i * dh, q * sw + j * dw, c] += taps[i, j, m, p, q, c]

    return loop


# --- Winograd F(4x4, 3x3) (Lavin & Gray 2016): a 4x4 block of a 3x3 convolution from 36 products, not 144 -------
# The tile transforms of `shendu.ops.winograd` (B^T d B, A^T M A and their adjoints), each as one loop over the tiles.
# A matrix is applied to a tile's columns, then to its rows, written out as the products with its entries (`_bt`,
# `_at`, `_a`, `_b`), so that the six values of a column stay in registers and the channel loop runs in SIMD lanes.
@_jit
def _read_tile(x: Any, i: int, r0: int, q0: int, out: Any) -> None:
    """out[u, v, c] = x[i, r0 + u, q0 + v, c] for a tile the size of out, zeros past the edge of x."""
    _, h, w, ch = x.shape
    for u in range(out.shape[0]):
        for v in range(out.shape[1]):
            r, q = r0 + u, q0 + v
            if r < h and q < w:
                for c in range(ch):
                    out[u, v, c] = x[i, r, q, c]
            else:
                for c in range(ch):
                    out[u, v, c] = 0


@_jit
def _bias_or_zeros(bias: Any, n: int, like: Any) -> Any:
    """A bias of n values in the dtype of the array `like`: a copy of `bias`, or zeros when `bias` is empty."""
    b = np.zeros(n, dtype=like.dtype)
    if bias.size:
        b[:] = bias
    return b


@_jit
def _first_max4(v0: Any, v1: Any, v2: Any, v3: Any) -> tuple:
    """(the max of four values, the index of the first reaching it), as `max_pool` picks a 2x2 window's winner: a NaN
    wins."""
    best, won = v0, 0
    if best == best and not v1 <= best:
        best, won = v1, 1
    if best == best and not v2 <= best:
        best, won = v2, 2
    if best == best and not v3 <= best:
        best, won = v3, 3
    return best, won


@_jit
def _constants(like: Any) -> tuple:
    """(2, 4, 5, 8) in the dtype of the array `like` (a Python integer would turn float32 arithmetic into float64)."""
    k = np.empty(4, dtype=like.dtype)
    k[0], k[1], k[2], k[3] = 2, 4, 5, 8
    return k[0], k[1], k[2], k[3]


@_jit_fma
def _bt(k: tuple, d0: Any, d1: Any, d2: Any, d3: Any, d4: Any, d5: Any) -> tuple:
    """B^T d for a column d of six values (winograd.B_T); k = `_constants`."""
    two, four, five, _ = k
    return (four * d0 - five * d2 + d4, d3 + d4 - four * (d1 + d2), four * (d1 - d2) + d4 - d3,
            two * (d3 - d1) + d4 - d2, two * (d1 - d3) + d4 - d2, four * d1 - five * d3 + d5)


@_jit_fma
def _at(k: tuple, m0: Any, m1: Any, m2: Any, m3: Any, m4: Any, m5: Any) -> tuple:
    """A^T m for a column m of six values (winograd.A_T): four values."""
    two, four, _, eight = k
    p, q, r, s = m1 + m2, m1 - m2, m3 + m4, m3 - m4
    return m0 + p + r, q + two * s, p + four * r, q + eight * s + m5


@_jit_fma
def _a(k: tuple, g0: Any, g1: Any, g2: Any, g3: Any) -> tuple:
    """A g for a column g of four values (the adjoint of `_at`): six values."""
    two, four, _, eight = k
    p, q, r, s = g0 + g2, g1 + g3, g0 + four * g2, two * g1 + eight * g3
    return g0, p + q, p - q, r + s, r - s, g3


@_jit_fma
def _b(k: tuple, e0: Any, e1: Any, e2: Any, e3: Any, e4: Any, e5: Any) -> tuple:
    """B e for a column e of six values (the adjoint of `_bt`)."""
    two, four, five, _ = k
    return (four * e0, four * (e2 - e1 + e5) + two * (e4 - e3), -five * e0 - four * (e1 + e2) - e3 - e4,
            e1 - e2 + two * (e3 - e4) - five * e5, e0 + e1 + e2 + e3 + e4, e5)


@_jit_fma
def winograd_input(x: Any, th: int, tw: int, out: Any) -> None:
    """out[6 a + b, (n th + s) tw + t, c] = (B^T d B)[a, b] for the 6x6 tile d = x[n, 4s:4s+6, 4t:4t+6, c] (rows
    and columns past x read as zeros)."""
    n, ch = x.shape[0], x.shape[3]
    k = _constants(x)
    d = np.empty((6, 6, ch), dtype=x.dtype)
    e = np.empty((6, 6, ch), dtype=x.dtype)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                _read_tile(x, i, 4 * s, 4 * t, d)
                for v in range(6):  # e = B^T d, column by column
                    for c in range(ch):
                        r = _bt(k, d[0, v, c], d[1, v, c], d[2, v, c], d[3, v, c], d[4, v, c], d[5, v, c])
                        for a in range(6):
                            e[a, v, c] = r[a]
                j = (i * th + s) * tw + t
                for a in range(6):  # out = e B, row by row
                    for c in range(ch):
                        r = _bt(k, e[a, 0, c], e[a, 1, c], e[a, 2, c], e[a, 3, c], e[a, 4, c], e[a, 5, c])
                        for b in range(6):
                            out[6 * a + b, j, c] = r[b]


@_jit_fma
def _tile_at(k: tuple, m: Any, j: int, e: Any) -> None:
    """e[a, v, c] = (A^T M)[a, v] for tile j's 6x6 products M = m[:, j, c] of every channel c."""
    for v in range(6):
        for c in range(e.shape[2]):
            r = _at(k, m[v, j, c], m[6 + v, j, c], m[12 + v, j, c], m[18 + v, j, c], m[24 + v, j, c], m[30 + v, j, c])
            for a in range(4):
                e[a, v, c] = r[a]


@_jit_fma
def winograd_output(m: Any, th: int, tw: int, out: Any, bias: Any) -> None:
    """out[n, 4s + i, 4t + j, f] = (A^T M A)[i, j] + bias[f] for each tile's 6x6 products M = m[:, (n th + s) tw + t,
    f], the rows and columns inside out only (no bias when `bias` is empty)."""
    n, h, w, ch = out.shape
    k = _constants(out)
    e = np.empty((4, 6, ch), dtype=out.dtype)
    b = _bias_or_zeros(bias, ch, out)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                j = (i * th + s) * tw + t
                _tile_at(k, m, j, e)
                for a in range(min(4, h - 4 * s)):  # out = e A + bias
                    o = out[i, 4 * s + a]
                    q = 4 * t
                    if q + 4 <= w:
                        for c in range(ch):
                            r = _at(k, e[a, 0, c], e[a, 1, c], e[a, 2, c], e[a, 3, c], e[a, 4, c], e[a, 5, c])
                            o[q, c], o[q + 1, c], o[q + 2, c], o[q + 3, c] = r[0] + b[c], r[1] + b[c], r[2] + b[c], \
                                r[3] + b[c]
                    else:
                        for c in range(ch):
                            r = _at(k, e[a, 0, c], e[a, 1, c], e[a, 2, c], e[a, 3, c], e[a, 4, c], e[a, 5, c])
                            for q1 in range(w - q):
                                o[q + q1, c] = r[q1] + b[c]


@_jit_fma
def winograd_output_pool(m: Any, th: int, tw: int, out: Any, bias: Any, relu: bool, idx: Any) -> None:
    """`winograd_output` and then `max_pool(2, 2, 2, 2)` in one pass: out (N, OHp, OWp, F) the max of each 2x2 window
    of the conv output (A^T M A + bias, computed as `winograd_output` computes it), then max(out, 0) when relu; idx
    its winner (a 2 + b, the first maximum; a NaN wins). A tile's 4x4 outputs hold 2x2 windows, so the unpooled
    output is never stored; windows past out (the conv's odd last row or column) are not computed."""
    n, ohp, owp, ch = out.shape
    k = _constants(out)
    e = np.empty((4, 6, ch), dtype=out.dtype)
    b = _bias_or_zeros(bias, ch, out)
    zero = out.dtype.type(0)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                j = (i * th + s) * tw + t
                _tile_at(k, m, j, e)
                for u in range(min(2, ohp - 2 * s)):  # the tile's rows of windows: conv rows 4s + 2u, 4s + 2u + 1
                    p = 2 * s + u
                    windows = min(2, owp - 2 * t)
                    for c in range(ch):
                        top = _at(k, e[2 * u, 0, c], e[2 * u, 1, c], e[2 * u, 2, c], e[2 * u, 3, c], e[2 * u, 4, c],
                                  e[2 * u, 5, c])
                        low = _at(k, e[2 * u + 1, 0, c], e[2 * u + 1, 1, c], e[2 * u + 1, 2, c], e[2 * u + 1, 3, c],
                                  e[2 * u + 1, 4, c], e[2 * u + 1, 5, c])
                        for w in range(windows):
                            best, won = _first_max4(top[2 * w] + b[c], top[2 * w + 1] + b[c], low[2 * w] + b[c],
                                                    low[2 * w + 1] + b[c])
                            out[i, p, 2 * t + w, c] = zero if relu and best < zero else best
                            idx[i, p, 2 * t + w, c] = won


@_jit_fma
def winograd_output_grad(g: Any, th: int, tw: int, out: Any) -> None:
    """The adjoint of `winograd_output`: out[:, tile, f] = A G A^T for each tile's 4x4 gradient G (zero past g)."""
    n, ch = g.shape[0], g.shape[3]
    k = _constants(g)
    d = np.empty((4, 4, ch), dtype=g.dtype)
    e = np.empty((6, 4, ch), dtype=g.dtype)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                _read_tile(g, i, 4 * s, 4 * t, d)
                _tile_a_a(k, d, e, out, (i * th + s) * tw + t)


@_jit_fma
def winograd_output_grad_pool(g: Any, y: Any, relu: bool, idx: Any, tiles: bool, th: int, tw: int, out: Any,
                              sums: Any) -> None:
    """`max_pool_grad(2, 2, 2, 2, tiles)` and then `winograd_output_grad` in one pass: each tile's 4x4 gradient is
    made from the pooled gradient g (masked by y > 0 when relu) at its four windows' winners idx, as the pool's
    gradient would write it (g * won where the windows tile the conv output, 0 + g at the winner and 0 elsewhere
    where they do not), and never stored; sums (unless empty) = that gradient summed over every pixel, the bias's
    gradient (accumulated in float64)."""
    n, ohp, owp, ch = g.shape
    k = _constants(g)
    d = np.empty((4, 4, ch), dtype=g.dtype)
    e = np.empty((6, 4, ch), dtype=g.dtype)
    acc = np.zeros(ch if sums.size else 0, np.float64)
    zero = g.dtype.type(0)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                rows, cols = min(2, ohp - 2 * s), min(2, owp - 2 * t)
                if rows < 2 or cols < 2:  # a tile past the last windows: zeros where no window reaches
                    d[...] = zero
                for u in range(rows):
                    for w in range(cols):
                        p, q = 2 * s + u, 2 * t + w
                        for j in range(4):
                            cell = d[2 * u + j // 2, 2 * w + j % 2]
                            for c in range(ch):
                                v = g[i, p, q, c]
                                if relu:
                                    v = v * (y[i, p, q, c] > 0)
                                won = idx[i, p, q, c] == j
                                if tiles:
                                    cell[c] = v * won
                                else:
                                    cell[c] = zero + v if won else zero
                        if acc.size:
                            for c in range(ch):
                                v = g[i, p, q, c]
                                acc[c] += v * (y[i, p, q, c] > 0) if relu else v
                _tile_a_a(k, d, e, out, (i * th + s) * tw + t)
    for c in range(acc.size):
        sums[c] = acc[c]


@_jit_fma
def _tile_a_a(k: tuple, d: Any, e: Any, out: Any, j: int) -> None:
    """out[6 a + b, j, c] = (A G A^T)[a, b] for a tile's 4x4 gradient G = d[:, :, c] of every channel c (e a buffer)."""
    for v in range(4):  # e = A G
        for c in range(d.shape[2]):
            r = _a(k, d[0, v, c], d[1, v, c], d[2, v, c], d[3, v, c])
            for a in range(6):
                e[a, v, c] = r[a]
    for a in range(6):  # out = e A^T
        for c in range(d.shape[2]):
            r = _a(k, e[a, 0, c], e[a, 1, c], e[a, 2, c], e[a, 3, c])
            for b in range(6):
                out[6 * a + b, j, c] = r[b]


@_jit_fma
def winograd_input_grad(dv: Any, th: int, tw: int, out: Any) -> None:
    """The adjoint of `winograd_input`: out[n, 4s:4s+6, 4t:4t+6, c] += B dV B^T for each tile's 6x6 gradient dV
    (the overlapping tiles add up; rows and columns past out dropped)."""
    n, h, w, ch = out.shape
    k = _constants(out)
    e = np.empty((6, 6, ch), dtype=out.dtype)
    for i in range(n):
        for s in range(th):
            for t in range(tw):
                j = (i * th + s) * tw + t
                for a in range(6):  # e = dV B^T, row by row
                    for c in range(ch):
                        r = _b(k, dv[6 * a, j, c], dv[6 * a + 1, j, c], dv[6 * a + 2, j, c], dv[6 * a + 3, j, c],
                               dv[6 * a + 4, j, c], dv[6 * a + 5, j, c])
                        for b in range(6):
                            e[a, b, c] = r[b]
                for v in range(min(6, w - 4 * t)):  # out += B e, column by column
                    q = 4 * t + v
                    rows = min(6, h - 4 * s)
                    for c in range(ch):
                        r = _b(k, e[0, v, c], e[1, v, c], e[2, v, c], e[3, v, c], e[4, v, c], e[5, v, c])
                        for u in range(rows):
                            out[i, 4 * s + u, q, c] += r[u]


@_jit
def adam(g: Any, w: Any, m: Any, v: Any, b1: Any, c1: Any, b2: Any, c2: Any, step_size: Any, eps: Any) -> None:
    """Adam's update of flat arrays in one pass, in the order of `Adam._update_inplace`'s passes (the same values):
    m = b1 m + c1 g;  v = b2 v + c2 g^2, each flushed to 0 below the dtype's smallest normal number for float32 and
    float64 (`optimizers.optimizer.flush_subnormal`);  w -= step_size * (m / (sqrt(v) + eps)), with c1 = 1 - b1,
    c2 = 1 - b2."""
    zero = w.dtype.type(0)
    tiny = w.dtype.type(np.finfo(w.dtype).tiny) if w.itemsize >= 4 else zero
    for i in range(w.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + gi * gi * c2
        if abs(mi) < tiny:
            mi = zero
        if vi < tiny:
            vi = zero
        m[i] = mi
        v[i] = vi
        w[i] -= mi / (np.sqrt(vi) + eps) * step_size


@_jit
def bias_relu_rows(y: Any, bias: Any, relu: bool) -> None:
    """y = y + bias, then max(y, 0) when relu, in place over a (rows, columns) y in one pass (no bias when `bias` is
    empty; NaN kept, as np.maximum keeps it)."""
    zero = y.dtype.type(0)
    b = _bias_or_zeros(bias, y.shape[1], y)
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            v = y[i, j] + b[j]
            if relu and v < zero:
                v = zero
            y[i, j] = v


@_jit
def relu_mask_rows(g: Any, y: Any, out: Any, sums: Any) -> None:
    """out = g * (y > 0) (ReLU's gradient from its output y, NaN in g kept, as NumPy's product) for (rows, columns)
    arrays, and sums = out summed over the rows (accumulated in float64), both in one pass; sums empty: not asked."""
    one, zero = g.dtype.type(1), g.dtype.type(0)
    acc = np.zeros(g.shape[1] if sums.size else 0, np.float64)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[i, j] = g[i, j] * (one if y[i, j] > zero else zero)
        if sums.size:
            for j in range(g.shape[1]):
                acc[j] += out[i, j]
    for j in range(acc.size):
        sums[j] = acc[j]


@_jit
def column_sums(g: Any, out: Any) -> None:
    """out = g summed over its rows (accumulated in float64) for a (rows, columns) g: a bias's gradient, 4-5x
    faster than NumPy's sum over the first axis and more accurate."""
    acc = np.zeros(g.shape[1], np.float64)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            acc[j] += g[i, j]
    for j in range(g.shape[1]):
        out[j] = acc[j]


@_jit
def scatter_add_rows(ids: Any, values: Any, out: Any) -> None:
    """out[ids[k]] += values[k] for k = 0, 1, ... in order: the embedding's gradient in one pass (the sorted
    `add.reduceat` of `ops.embedding.scatter_rows` is its NumPy reference; it sums a row's values in another order,
    so the two agree to rounding)."""
    for k in range(ids.shape[0]):
        row = out[ids[k]]
        v = values[k]
        for j in range(v.shape[0]):
            row[j] += v[j]


@functools.cache
def _gather_patch(kh: int, kw: int, ch: int, dh: int, dw: int) -> Callable[..., None]:
    """The loop `(x, i, r, s, out)`: out[(u kw + v) ch + c] = x[i, r + u dh, s + v dw, c], the input window of the
    conv output whose window starts at row r, column s of image i."""

    @_jit
    def gather(x: Any, i: int, r: int, s: int, out: Any) -> None:
        for u in range(kh):
            for v in range(kw):
                for c in range(ch):
                    out[(u * kw + v) * ch + c] = x[i, r + u * dh, s + v * dw, c]

    return gather


@functools.cache
def conv_max_pool(kh: int, kw: int, ch: int, f: int, sh: int, sw: int, dh: int, dw: int, ph: int, pw: int,
                  qh: int, qw: int) -> Callable[..., None]:
    """The loop `(x, w, bias, relu, out, idx)` of a convolution with few input taps (a first layer) pooled as it is
    computed: for each pooled window, its ph x pw conv outputs z = bias + patch @ w (w the (kh kw ch, f) kernel,
    conv strides sh, sw and dilation dh, dw) are made in a small buffer, never stored; out = their max (pool
    strides qh, qw), then max(out, 0) when relu; idx the winner as in `max_pool`. A 2x2 pool runs `_conv_max_pool4`
    (the same values, faster), any other `_conv_max_pool_cells`."""
    if (ph, pw) == (2, 2):
        return _conv_max_pool4(kh, kw, ch, f, sh, sw, dh, dw, qh, qw)
    return _conv_max_pool_cells(kh, kw, ch, f, sh, sw, dh, dw, ph, pw, qh, qw)


def _conv_max_pool_cells(kh: int, kw: int, ch: int, f: int, sh: int, sw: int, dh: int, dw: int, ph: int, pw: int,
                         qh: int, qw: int) -> Callable[..., None]:
    """`conv_max_pool`'s loop for any pool: each window's conv outputs made one after the other in a buffer, then
    compared."""
    taps, cells = kh * kw * ch, ph * pw
    gather = _gather_patch(kh, kw, ch, dh, dw)

    @_jit
    def loop(x: Any, w: Any, bias: Any, relu: bool, out: Any, idx: Any) -> None:
        n, oh, ow, _ = out.shape
        z = np.empty((cells, f), dtype=out.dtype)
        patch = np.empty(taps, dtype=out.dtype)
        zero = np.zeros(1, dtype=out.dtype)[0]
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    for a in range(ph):
                        for b in range(pw):
                            gather(x, i, (p * qh + a) * sh, (q * qw + b) * sw, patch)
                            for o in range(f):
                                acc = bias[o]
                                for t in range(taps):
                                    acc += patch[t] * w[t, o]
                                z[a * pw + b, o] = acc
                    for o in range(f):
                        best, won = z[0, o], 0
                        for j in range(1, cells):
                            if best == best and not z[j, o] <= best:
                                best, won = z[j, o], j
                        out[i, p, q, o] = zero if relu and best < zero else best
                        idx[i, p, q, o] = won

    return loop


def _conv_max_pool4(kh: int, kw: int, ch: int, f: int, sh: int, sw: int, dh: int, dw: int, qh: int,
                    qw: int) -> Callable[..., None]:
    """`conv_max_pool`'s loop for a 2x2 pool: the window's four conv outputs summed side by side (each weight loaded
    once for the four) and compared at once, with no buffer between (the same sums in the same order, so the same
    values; the tutorial's first layer, 32 images: 0.32 -> 0.26 ms)."""
    taps = kh * kw * ch
    gather = _gather_patch(kh, kw, ch, dh, dw)

    @_jit
    def loop(x: Any, w: Any, bias: Any, relu: bool, out: Any, idx: Any) -> None:
        n, oh, ow, _ = out.shape
        patch = np.empty((4, taps), dtype=out.dtype)
        zero = np.zeros(1, dtype=out.dtype)[0]
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    for a in range(2):
                        for b in range(2):
                            gather(x, i, (p * qh + a) * sh, (q * qw + b) * sw, patch[a * 2 + b])
                    for o in range(f):
                        z0, z1, z2, z3 = bias[o], bias[o], bias[o], bias[o]
                        for t in range(taps):
                            wt = w[t, o]
                            z0 += patch[0, t] * wt
                            z1 += patch[1, t] * wt
                            z2 += patch[2, t] * wt
                            z3 += patch[3, t] * wt
                        best, won = _first_max4(z0, z1, z2, z3)
                        out[i, p, q, o] = zero if relu and best < zero else best
                        idx[i, p, q, o] = won

    return loop


@functools.cache
def conv_max_pool_grad(kh: int, kw: int, ch: int, f: int, sh: int, sw: int, dh: int, dw: int, ph: int, pw: int,
                       qh: int, qw: int) -> Callable[..., None]:
    """The loop `(x, g, y, relu, idx, dk, db)` of `conv_max_pool`'s weight gradients, added into dk (kh kw ch, f)
    and db: each pooled g (masked by y > 0 when relu) goes to its window's winner, whose patch it multiplies; the
    unpooled gradient is never stored. Its sums are fused multiply-adds (`_jit_fma`, one rounding a term; the
    tutorial's first layer, 32 images: 0.32 -> 0.26 ms). The forward loops keep two roundings: their outputs are
    what predict and a quantized model's calibrated inputs see, and a rounding there can move an int8 step."""
    taps, cells = kh * kw * ch, ph * pw
    gather = _gather_patch(kh, kw, ch, dh, dw)

    @_jit_fma
    def loop(x: Any, g: Any, y: Any, relu: bool, idx: Any, dk: Any, db: Any) -> None:
        n, oh, ow, _ = g.shape
        acc = np.zeros((taps, f), dtype=g.dtype)
        bias = np.zeros(f, dtype=g.dtype)
        won = np.empty((cells, f), dtype=g.dtype)
        patch = np.empty((cells, taps), dtype=g.dtype)
        for i in range(n):
            for p in range(oh):
                for q in range(ow):
                    for a in range(ph):
                        for b in range(pw):
                            gather(x, i, (p * qh + a) * sh, (q * qw + b) * sw, patch[a * pw + b])
                    for o in range(f):
                        gv = g[i, p, q, o]
                        if relu:
                            gv = gv * (y[i, p, q, o] > 0)
                        bias[o] += gv
                        k = idx[i, p, q, o]
                        for j in range(cells):
                            won[j, o] = gv * (k == j)
                    for t in range(taps):
                        for o in range(f):
                            s = acc[t, o]
                            for j in range(cells):
                                s += patch[j, t] * won[j, o]
                            acc[t, o] = s
        for t in range(taps):
            for o in range(f):
                dk[t, o] += acc[t, o]
        for o in range(f):
            db[o] += bias[o]

    return loop
