"""Geometric image transforms for the image layers: where each output pixel samples the input, and the op that
samples. Images are (batch, height, width, channels); every image of a batch gets its own transform, in one
vectorized gather (no Python loop over images or pixels).

A transform is Keras's inverse map: the 2x3 matrix [[a0, a1, a2], [b0, b1, b2]] sends output pixel (row i,
column j) to input point (x, y) = (a0 j + a1 i + a2, b0 j + b1 i + b2), x along the columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops.function import Function

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


class Resample(Function):
    """y[p] = sum_k w_k[p] x[i_k[p]] + c[p]: each output pixel is a weighted sum of input pixels (one for
    nearest, four for bilinear interpolation) plus a constant (the fill value outside the image);
    dx = g scattered back to the pixels it came from, times the same weights.

    `index` holds flat pixel indices into x viewed as (batch * height * width, channels); `weight` the
    matching weights (None for 1); `const` the added constant per output pixel (or None).
    """

    def __init__(self, index: list[Any], weight: list[Any], const: Any, out_shape: tuple[int, ...]) -> None:
        self.index, self.weight, self.const, self.out_shape = index, weight, const, out_shape

    def forward(self, x: Any) -> Any:
        channels = x.shape[-1]
        self.in_rows = x.size // channels
        x2 = x.reshape(self.in_rows, channels)
        y = None
        for idx, w in zip(self.index, self.weight):
            term = x2[idx]
            if w is not None:
                term *= w.astype(x.dtype, copy=False)[:, None]
            y = term if y is None else _add(y, term)
        if self.const is not None:
            y += self.const.astype(x.dtype, copy=False)[:, None]
        return y.reshape(*self.out_shape, channels)

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        channels = g.shape[-1]
        g2 = g.reshape(-1, channels)
        idx = xp.concatenate(self.index)
        dx = xp.empty((self.in_rows, channels), dtype=g.dtype)
        for c in range(channels):
            gc = g2[:, c]
            vals = xp.concatenate([gc if w is None else gc * w for w in self.weight])
            dx[:, c] = xp.bincount(idx, weights=vals, minlength=self.in_rows)
        return (dx.reshape(self.inputs[0].shape),)


def _add(a: Any, b: Any) -> Any:
    a += b
    return a


def sample_points(matrices: np.ndarray, in_hw: tuple[int, int], out_hw: tuple[int, int], interpolation: str,
                  fill_mode: str, fill_value: float) -> tuple[list[Any], list[Any], Any]:
    """The (index, weight, const) arguments of `Resample` for one (2, 3) inverse-map matrix per image.

    Points outside the image take the fill mode's pixel: reflect (d c b a | a b c d | d c b a), wrap
    (a b c d | a b c d), nearest (a a | a b c d | d d), or constant (fill_value). Coordinates are float64,
    weights float32 and indices int32 (augmentation runs every step: every pass over the pixels counts).
    """
    n = matrices.shape[0]
    (h, w), (ho, wo) = in_hw, out_hw
    m = np.asarray(matrices, dtype=np.float64)[:, :, :, None, None]
    cols, rows = np.arange(wo, dtype=np.float64), np.arange(ho, dtype=np.float64)[:, None]
    xs = (m[:, 0, 0] * cols + m[:, 0, 2]) + m[:, 0, 1] * rows
    ys = (m[:, 1, 0] * cols + m[:, 1, 2]) + m[:, 1, 1] * rows
    base = (np.arange(n, dtype=np.int32) * (h * w))[:, None, None]
    if interpolation == "nearest":
        xs += 0.5
        ys += 0.5
        (yi, _), (y_ok, _) = _axis_taps(np.floor(ys, out=ys).astype(np.int32), h, fill_mode, pair=False)
        (xi, _), (x_ok, _) = _axis_taps(np.floor(xs, out=xs).astype(np.int32), w, fill_mode, pair=False)
        yi *= w
        yi += base
        yi += xi
        taps = [(yi, None if y_ok is None else (y_ok & x_ok).astype(np.float32))]
    else:
        y0, x0 = np.floor(ys), np.floor(xs)
        wy1, wx1 = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
        wy0, wx0 = 1 - wy1, 1 - wx1
        (ya, yb), (ya_ok, yb_ok) = _axis_taps(y0.astype(np.int32), h, fill_mode)
        (xa, xb), (xa_ok, xb_ok) = _axis_taps(x0.astype(np.int32), w, fill_mode)
        if ya_ok is not None:  # constant fill: outside neighbours weigh nothing here, the fill value below
            wy0 *= ya_ok
            wy1 *= yb_ok
            wx0 *= xa_ok
            wx1 *= xb_ok
        ya *= w
        ya += base
        yb *= w
        yb += base
        taps = [(ya + xa, wy0 * wx0), (ya + xb, wy0 * wx1), (yb + xa, wy1 * wx0), (yb + xb, wy1 * wx1)]
    const = None
    if fill_mode == "constant" and fill_value:
        inside = sum(wk for _, wk in taps)
        const = (fill_value * (1 - inside)).reshape(-1)
    return [i.reshape(-1) for i, _ in taps], [None if wk is None else wk.reshape(-1) for _, wk in taps], const


def _axis_taps(i: np.ndarray, size: int, fill_mode: str, pair: bool = True) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """Whole-pixel coordinates i (and i + 1 when `pair`) along one axis, mapped into [0, size) by the fill mode,
    with (constant mode only) masks of which were inside. Reflect and wrap read a table built over the
    coordinates' range (integer modulo on every pixel is slow)."""
    if fill_mode in ("constant", "nearest"):
        a, b = np.clip(i, 0, size - 1), np.clip(i + 1, 0, size - 1) if pair else None
        if fill_mode == "nearest":
            return (a, b), (None, None)
        return (a, b), (i.view(np.uint32) < size, (i + 1).view(np.uint32) < size if pair else None)
    lo, hi = int(i.min()), int(i.max()) + 1
    r = np.arange(lo, hi + 1)
    if fill_mode == "wrap":
        table = (r % size).astype(np.int32)
    else:
        r %= 2 * size
        table = np.where(r >= size, 2 * size - 1 - r, r).astype(np.int32)
    j = i - lo
    return (table[j], table[1:][j] if pair else None), (None, None)


def transform(images: Any, matrices: np.ndarray, interpolation: str = "bilinear", fill_mode: str = "reflect",
              fill_value: float = 0.0, out_hw: tuple[int, int] | None = None) -> Any:
    """Apply one inverse-map matrix per image to a (batch, height, width, channels) Tensor (differentiable)."""
    n, h, w = images.shape[:3]
    out_hw = out_hw or (h, w)
    index, weight, const = sample_points(matrices, (h, w), out_hw, interpolation, fill_mode, fill_value)
    return Resample.apply(images, index=index, weight=weight, const=const, out_shape=(n, *out_hw))


def rotation_matrices(angles: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse maps that turn each image by its angle (radians) counter-clockwise about its centre."""
    c, s = np.cos(angles), np.sin(angles)
    x_off = ((width - 1) - (c * (width - 1) - s * (height - 1))) / 2
    y_off = ((height - 1) - (s * (width - 1) + c * (height - 1))) / 2
    return np.stack([np.stack([c, -s, x_off], -1), np.stack([s, c, y_off], -1)], -2)


def translation_matrices(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Inverse maps that shift each image right by dx and down by dy pixels."""
    one, zero = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([np.stack([one, zero, -dx], -1), np.stack([zero, one, -dy], -1)], -2)


def zoom_matrices(zx: np.ndarray, zy: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse maps that scale the sampled region by zx, zy about the centre (> 1 zooms out, < 1 zooms in)."""
    zero = np.zeros_like(zx)
    return np.stack([np.stack([zx, zero, (width - 1) / 2 * (1 - zx)], -1),
                     np.stack([zero, zy, (height - 1) / 2 * (1 - zy)], -1)], -2)


def box_resize_matrix(box: tuple[float, float, float, float], out_hw: tuple[int, int]) -> np.ndarray:
    """The inverse map that resizes the box (top, left, height, width) of an image to out_hw, pixel centres
    aligned as in Keras/TF resizing (half-pixel centres): x = left + (j + 1/2) box_width / out_width - 1/2."""
    top, left, bh, bw = box
    sy, sx = bh / out_hw[0], bw / out_hw[1]
    return np.array([[sx, 0.0, left + 0.5 * sx - 0.5], [0.0, sy, top + 0.5 * sy - 0.5]])
