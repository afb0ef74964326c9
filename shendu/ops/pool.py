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
from shendu.ops.conv import Padding, pad_spatial, window
from shendu.ops.function import Function


def pool_output_length(length: int | None, pool: int, stride: int, padding: str) -> int | None:
    """Keras's pooled length: floor((L - pool) / s) + 1 for 'valid', ceil(L / s) for 'same'."""
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - pool) // stride + 1


def _slices(axis: int, k: int, n: int, stride: int) -> list[tuple[slice, ...]]:
    """Index tuples selecting, along `axis`, element j of each of n windows of size k (one per j)."""
    lead = (slice(None),) * axis
    return [(*lead, window(j, n, stride)) for j in range(k)]


def _spread(parts: Any, shape: tuple[int, ...], slices: list[tuple[slice, ...]], exact: bool) -> Any:
    """Sum each part into its strided slice of a new array of `shape` (assigned when the slices tile it)."""
    xp = get_array_module(parts[0])
    out = xp.empty(shape, dtype=parts[0].dtype) if exact else xp.zeros(shape, dtype=parts[0].dtype)
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

    def _setup(self, x: Any) -> Any:
        if x.ndim != 4:
            raise ValueError(f"expected NHWC inputs of rank 4, got shape {x.shape}")
        xpad = pad_spatial(x, self.padding, self.pad_value)
        (ph, pw), (sh, sw) = self.pool, self.strides
        oh, ow = (xpad.shape[1] - ph) // sh + 1, (xpad.shape[2] - pw) // sw + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"the padded image {xpad.shape[1:3]} is smaller than the pool size {self.pool}")
        self.x_shape, self.xpad_shape = x.shape, xpad.shape
        self.mid_shape = (xpad.shape[0], xpad.shape[1], ow, xpad.shape[3])  # after the pass along W
        self.w_slices = _slices(2, pw, ow, sw)
        self.h_slices = _slices(1, ph, oh, sh)
        # a pass's gradient can be assigned slice by slice when its windows tile the axis exactly
        self.w_exact = sw == pw and ow * sw == xpad.shape[2]
        self.h_exact = sh == ph and oh * sh == xpad.shape[1]
        return xpad

    def _unpad(self, dx: Any) -> Any:
        (t, _), (left, _) = self.padding
        h, w = self.x_shape[1:3]
        return dx[:, t:t + h, left:left + w] if dx.shape[1:3] != (h, w) else dx


def _argmax_pass(x: Any, slices: list[tuple[slice, ...]]) -> tuple[Any, Any]:
    """The max over the strided slices of x and the index of the first slice reaching it (uint8)."""
    xp = get_array_module(x)
    first, second = x[slices[0]], x[slices[1]] if len(slices) > 1 else None
    if second is None:
        return xp.ascontiguousarray(first), xp.zeros(first.shape, dtype=np.uint8)
    m = xp.maximum(first, second)
    idx = (second > first).view(np.uint8)
    for j, sl in enumerate(slices[2:], start=2):
        v = x[sl]
        better = v > m
        idx[better] = j
        xp.maximum(m, v, out=m)
    return m, idx


def _unroute(g: Any, idx: Any, k: int, shape: tuple[int, ...], slices: list[tuple[slice, ...]],
             exact: bool) -> Any:
    """The gradient of one argmax pass: g sent to the slice that won (idx) at each position, written in place
    when the slices tile the input (for two slices: the winner's part g * won, the other's g - that)."""
    xp = get_array_module(g)
    if exact:
        out = xp.empty(shape, dtype=g.dtype)
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
    out = xp.zeros(shape, dtype=g.dtype)
    for j, sl in enumerate(slices):
        out[sl] += g * (idx == j)
    return out


class MaxPool2D(_Pool2D):
    """y[n, p, q, c] = max over the window (p s_h ... p s_h + k_h - 1, q s_w ... q s_w + k_w - 1) of x (padded
    with -inf for 'same');  dx = g at the first maximum of each window (summed where windows overlap)."""

    pad_value = -np.inf

    def forward(self, x: Any) -> Any:
        xpad = self._setup(x)
        mid, self.w_idx = _argmax_pass(xpad, self.w_slices)
        y, self.h_idx = _argmax_pass(mid, self.h_slices)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        g_mid = _unroute(g, self.h_idx, self.pool[0], self.mid_shape, self.h_slices, self.h_exact)
        dx = _unroute(g_mid, self.w_idx, self.pool[1], self.xpad_shape, self.w_slices, self.w_exact)
        return (self._unpad(dx),)


class AvgPool2D(_Pool2D):
    """y = the mean of each window; with 'same' padding only the pixels inside the image count (as TF);
    dx = g / count spread evenly over each window."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        xpad = self._setup(x)
        mid = _sum_pass(xpad, self.w_slices)
        y = _sum_pass(mid, self.h_slices)
        self.scale = self._inverse_counts(xp, x.dtype)
        y *= self.scale
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
        g = g * self.scale
        g_mid = _spread([g] * self.pool[0], self.mid_shape, self.h_slices, self.h_exact)
        dx = _spread([g_mid] * self.pool[1], self.xpad_shape, self.w_slices, self.w_exact)
        return (self._unpad(dx),)


def _sum_pass(x: Any, slices: list[tuple[slice, ...]]) -> Any:
    out = x[slices[0]] + x[slices[1]] if len(slices) > 1 else x[slices[0]].copy()
    for sl in slices[2:]:
        out += x[sl]
    return out
