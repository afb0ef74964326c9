"""Image upsampling on channels-last arrays (NHWC): nearest-neighbour repetition and bilinear interpolation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops.function import Function


class UpSampleNearest2D(Function):
    """y[n, h s_h + a, w s_w + b, c] = x[n, h, w, c] for 0 <= a < s_h, 0 <= b < s_w (each pixel repeated);
    dx = the sum of g over each s_h x s_w block."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = tuple(size)

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        n, h, w, c = x.shape
        sh, sw = self.size
        y = xp.empty((n, h, sh, w, sw, c), dtype=x.dtype)
        y[...] = x[:, :, None, :, None, :]
        return y.reshape(n, h * sh, w * sw, c)

    def backward(self, g: Any) -> tuple[Any]:
        n, hh, ww, c = g.shape
        sh, sw = self.size
        return (g.reshape(n, hh // sh, sh, ww // sw, sw, c).sum(axis=(2, 4)),)


def linear_resize_matrix(n_in: int, n_out: int, dtype: Any = np.float32) -> np.ndarray:
    """The (n_out, n_in) matrix of linear interpolation with half-pixel centres (TF2's `tf.image.resize`
    'bilinear' and PyTorch's align_corners=False): source = (o + 0.5) n_in / n_out - 0.5, clamped to the edges."""
    a = np.zeros((n_out, n_in))
    for o in range(n_out):
        src = (o + 0.5) * n_in / n_out - 0.5
        lo = math.floor(src)
        frac = src - lo
        a[o, min(max(lo, 0), n_in - 1)] += 1 - frac
        a[o, min(max(lo + 1, 0), n_in - 1)] += frac
    return a.astype(dtype)


class ResizeBilinear(Function):
    """y = A_h x A_w^T on the spatial axes, A the linear-interpolation matrices (see `linear_resize_matrix`);
    dx = A_h^T g A_w (two batched matrix products each way)."""

    def __init__(self, out_hw: tuple[int, int]) -> None:
        self.out_hw = tuple(out_hw)

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        n, h, w, c = x.shape
        oh, ow = self.out_hw
        self.ah = xp.asarray(linear_resize_matrix(h, oh, x.dtype))
        self.aw = xp.asarray(linear_resize_matrix(w, ow, x.dtype))
        rows = xp.matmul(self.ah, x.reshape(n, h, w * c))  # (n, oh, w*c)
        return xp.matmul(self.aw, rows.reshape(n * oh, w, c)).reshape(n, oh, ow, c)

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        n, oh, ow, c = g.shape
        h, w = self.ah.shape[1], self.aw.shape[1]
        rows = xp.matmul(self.aw.T, g.reshape(n * oh, ow, c))  # (n*oh, w, c)
        return (xp.matmul(self.ah.T, rows.reshape(n, oh, w * c)).reshape(n, h, w, c),)
