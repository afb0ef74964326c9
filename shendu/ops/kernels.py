"""Compiled loops for the memory-bound passes of a CNN (numba, the optional `shendu[fast]` extra).

NumPy makes one pass over memory per operation: a 2x2 max pool is four passes (two maxima, two comparisons) and
its gradient four more, each over arrays larger than the cache. These loops do each job in one pass, with the
same results bit for bit (the tests compare them with the NumPy code beside them). Each loop is compiled for one
window geometry, so that its window loops unroll and the channel loop runs in SIMD lanes; the machine code is
cached on disk. They release the GIL, so batch chunks still run on shendu's threads at once. Without numba, or
with SHENDU_NUMBA=0, the NumPy code runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

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


def _jit(fn: Callable[..., None]) -> Callable[..., None]:
    return numba.njit(nogil=True, cache=True, boundscheck=False)(fn)


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
