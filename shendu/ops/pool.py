"""Max and average pooling on channels-last images (NHWC).

Both are separable: a window's max (or sum) is the max over its rows of the max along each row, so each
op makes two passes of pool-size strided slices (first along W, then along H) instead of one pass per
window element. Max pooling records which element won in each pass; its gradient goes to the first
maximum in row-major order, as in TensorFlow and PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels
from shendu.ops.conv import Padding, pad_spatial, relu_inplace, valid_length, window
from shendu.ops.function import Function
from shendu.parallel import batch_chunks, run_chunks


def _slices(axis: int, k: int, n: int, stride: int) -> list[tuple[slice, ...]]:
    """Index tuples selecting, along `axis`, element j of each of n windows of size k (one per j)."""
    lead = (slice(None),) * axis
    return [(*lead, window(j, n, stride)) for j in range(k)]


def _spread(parts: Any, out: Any, slices: list[tuple[slice, ...]], exact: bool) -> Any:
    """Sum each part into its strided slice of `out` (assigned when the slices tile it, else out starts at 0)."""
    if not exact:
        out[...] = 0
    for sl, part in zip(slices, parts):
        if exact:
            out[sl] = part
        else:
            out[sl] += part
    return out


class _Pool2D(Function):
    """Shared setup: the pool size, strides, explicit padding and the output size."""

    pad_value = 0.0

    def __init__(self, pool_size: tuple[int, int], strides: tuple[int, int],
                 padding: Padding = ((0, 0), (0, 0))) -> None:
        self.pool, self.strides, self.padding = tuple(pool_size), tuple(strides), padding

    def setup(self, shape: tuple[int, ...]) -> None:
        """Keep the geometry for inputs of this (N, H, W, C) shape."""
        if len(shape) != 4:
            raise ValueError(f"expected NHWC inputs of rank 4, got shape {shape}")
        (t, b), (left, r) = self.padding
        n, h, w, c = shape
        hp, wp = h + t + b, w + left + r
        (ph, pw), (sh, sw) = self.pool, self.strides
        oh, ow = valid_length(hp, ph, sh), valid_length(wp, pw, sw)
        if oh < 1 or ow < 1:
            raise ValueError(f"the padded image {(hp, wp)} is smaller than the pool size {self.pool}")
        self.x_shape, self.xpad_shape = tuple(shape), (n, hp, wp, c)
        self.mid_shape = (n, hp, ow, c)  # after the pass along W
        self.out_shape = (n, oh, ow, c)
        self.w_slices = _slices(2, pw, ow, sw)
        self.h_slices = _slices(1, ph, oh, sh)
        # a pass's gradient can be assigned slice by slice when its windows tile the axis exactly
        self.w_exact = sw == pw and ow * sw == wp
        self.h_exact = sh == ph and oh * sh == hp
        # the compiled loops (when numba is there) store a window's winner in one byte
        self.compiled = kernels.enabled() and ph * pw <= 256

    def unpad(self, dx: Any) -> Any:
        (t, _), (left, _) = self.padding
        h, w = self.x_shape[1:3]
        return dx[:, t:t + h, left:left + w] if dx.shape[1:3] != (h, w) else dx


def _argmax_pass(x: Any, slices: list[tuple[slice, ...]], out: Any = None) -> tuple[Any, Any]:
    """The max over the strided slices of x (into `out` when given) and the index of the first slice reaching
    it (uint8)."""
    xp = get_array_module(x)
    first = x[slices[0]]
    m = xp.empty(first.shape, dtype=x.dtype) if out is None else out
    if len(slices) == 1:
        m[...] = first
        return m, xp.zeros(first.shape, dtype=np.uint8)
    second = x[slices[1]]
    xp.maximum(first, second, out=m)
    idx = (second > first).view(np.uint8)
    for j, sl in enumerate(slices[2:], start=2):
        v = x[sl]
        better = v > m
        idx[better] = j
        xp.maximum(m, v, out=m)
    return m, idx


def _unroute(g: Any, idx: Any, k: int, out: Any, slices: list[tuple[slice, ...]], exact: bool) -> Any:
    """The gradient of one argmax pass into `out`: g sent to the slice that won (idx) at each position, written
    in place when the slices tile the input (for two slices: the winner's part g * won, the other's g - that)."""
    xp = get_array_module(g)
    if exact:
        if k == 1:
            out[slices[0]] = g
        elif k == 2:
            second = out[slices[1]]
            xp.multiply(g, idx.view(bool), out=second)
            xp.subtract(g, second, out=out[slices[0]])
        else:
            for j, sl in enumerate(slices):
                xp.multiply(g, idx == j, out=out[sl])
        return out
    out[...] = 0
    for j, sl in enumerate(slices):
        out[sl] += g * (idx == j)
    return out


class MaxPool2D(_Pool2D):
    """y[n, p, q, c] = max over the window (p s_h ... p s_h + k_h - 1, q s_w ... q s_w + k_w - 1) of x (padded
    with -inf for 'same');  dx = g at the first maximum of each window (summed where windows overlap).
    Both passes run on batch chunks in parallel (`shendu.parallel`)."""

    pad_value = -np.inf

    def forward(self, x: Any) -> Any:
        self.setup(x.shape)
        self.y = get_array_module(x).empty(self.out_shape, dtype=x.dtype)
        self.chunks = batch_chunks(x.shape[0], x[0].size)
        self.idx = run_chunks(lambda sl: self.forward_rows(x[sl], self.y[sl]), self.chunks)
        return self.y

    def forward_rows(self, x: Any, out: Any, relu: bool = False) -> Any:
        """Pool images x (a batch chunk) into `out`, then max(out, 0) when `relu`; return the winners' indices
        (one array from the compiled loop, the two passes' pair from NumPy)."""
        xpad = pad_spatial(x, self.padding, self.pad_value)
        if self.compiled and get_array_module(x) is np:
            idx = np.empty(out.shape, dtype=np.uint8)
            kernels.max_pool(*self.pool, *self.strides)(xpad, relu, out, idx)
            return idx
        mid, w_idx = _argmax_pass(xpad, self.w_slices)
        idx = w_idx, _argmax_pass(mid, self.h_slices, out=out)[1]
        if relu:
            relu_inplace(out)
        return idx

    def backward(self, g: Any) -> tuple[Any]:
        dx = get_array_module(g).empty(self.xpad_shape, dtype=g.dtype)
        run_chunks(lambda sl, idx: self.backward_rows(g[sl], idx, dx[sl]), self.chunks, self.idx)
        return (self.unpad(dx),)

    def backward_rows(self, g: Any, idx: Any, out: Any, relu_y: Any = None) -> Any:
        """The gradient of images (a batch chunk) with output gradient g, into `out` (padded shape); with relu_y,
        the pooled values after a ReLU, only where they are positive."""
        if not isinstance(idx, tuple):
            tiles = self.w_exact and self.h_exact
            relu = relu_y is not None
            kernels.max_pool_grad(*self.pool, *self.strides, tiles)(g, relu_y if relu else g, relu, idx, out)
            return out
        if relu_y is not None:
            g = g * (relu_y > 0)
        g_mid = get_array_module(g).empty((g.shape[0], *self.mid_shape[1:]), dtype=g.dtype)
        _unroute(g, idx[1], self.pool[0], g_mid, self.h_slices, self.h_exact)
        return _unroute(g_mid, idx[0], self.pool[1], out, self.w_slices, self.w_exact)


class AvgPool2D(_Pool2D):
    """y = the mean of each window; with 'same' padding only the pixels inside the image count (as TF);
    dx = g / count spread evenly over each window. Both passes run on batch chunks in parallel."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.setup(x.shape)
        self.scale = self._inverse_counts(xp, x.dtype)
        y = xp.empty(self.out_shape, dtype=x.dtype)

        def run(sl: slice) -> None:
            mid = _sum_pass(pad_spatial(x[sl], self.padding), self.w_slices)
            _sum_pass(mid, self.h_slices, out=y[sl])
            y[sl] *= self.scale

        self.chunks = batch_chunks(x.shape[0], x[0].size)
        run_chunks(run, self.chunks)
        return y

    def _inverse_counts(self, xp: Any, dtype: Any) -> Any:
        """1 / (number of real pixels in each window), shaped (OH, OW, 1) (a scalar without padding)."""
        (t, b), (left, r) = self.padding
        if not (t or b or left or r):
            return dtype.type(1.0 / (self.pool[0] * self.pool[1]))
        h, w = self.x_shape[1:3]
        rows = _sum_pass(pad_spatial(xp.ones((1, h, 1, 1), dtype=dtype), ((t, b), (0, 0))), self.h_slices)
        cols = _sum_pass(pad_spatial(xp.ones((1, 1, w, 1), dtype=dtype), ((0, 0), (left, r))), self.w_slices)
        return 1 / (rows[0] * cols[0])

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        dx = xp.empty(self.xpad_shape, dtype=g.dtype)

        def run(sl: slice) -> None:
            gs = g[sl] * self.scale
            g_mid = xp.empty((sl.stop - sl.start, *self.mid_shape[1:]), dtype=g.dtype)
            _spread([gs] * self.pool[0], g_mid, self.h_slices, self.h_exact)
            _spread([g_mid] * self.pool[1], dx[sl], self.w_slices, self.w_exact)

        run_chunks(run, self.chunks)
        return (self.unpad(dx),)


def _sum_pass(x: Any, slices: list[tuple[slice, ...]], out: Any = None) -> Any:
    """The sum of x's strided slices, into `out` when given."""
    xp = get_array_module(x)
    if out is None:
        out = xp.empty(x[slices[0]].shape, dtype=x.dtype)
    if len(slices) > 1:
        xp.add(x[slices[0]], x[slices[1]], out=out)
    else:
        out[...] = x[slices[0]]
    for sl in slices[2:]:
        out += x[sl]
    return out
