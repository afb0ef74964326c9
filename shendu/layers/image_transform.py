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
    (a b c d | a b c d), nearest (a a | a b c d | d d), or constant (fill_value).
    """
    n = matrices.shape[0]
    (h, w), (ho, wo) = in_hw, out_hw
    m = np.asarray(matrices, dtype=np.float64)[:, :, :, None, None]
    cols, rows = np.arange(wo, dtype=np.float64), np.arange(ho, dtype=np.float64)[:, None]
    xs = m[:, 0, 0] * cols + m[:, 0, 1] * rows + m[:, 0, 2]
    ys = m[:, 1, 0] * cols + m[:, 1, 1] * rows + m[:, 1, 2]
    if interpolation == "nearest":
        corners = [(np.floor(ys + 0.5), np.floor(xs + 0.5), None)]
    else:
        y0, x0 = np.floor(ys), np.floor(xs)
        fy, fx = ys - y0, xs - x0
        corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                   (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    base = (np.arange(n) * (h * w))[:, None, None]
    index, weight, const = [], [], None
    for yi, xi, wk in corners:
        yi, y_ok = _fill_index(yi.astype(np.intp), h, fill_mode)
        xi, x_ok = _fill_index(xi.astype(np.intp), w, fill_mode)
        if fill_mode == "constant":
            ok = y_ok & x_ok
            if fill_value:
                outside = ~ok if wk is None else wk * ~ok
                const = fill_value * outside if const is None else const + fill_value * outside
            wk = ok.astype(np.float64) if wk is None else wk * ok
        index.append((base + yi * w + xi).reshape(-1))
        weight.append(None if wk is None else wk.reshape(-1))
    return index, weight, None if const is None else np.asarray(const, dtype=np.float64).reshape(-1)


def _fill_index(i: np.ndarray, size: int, fill_mode: str) -> tuple[np.ndarray, Any]:
    """Integer coordinates mapped into [0, size) by the fill mode, and (constant mode) which were inside."""
    if fill_mode == "reflect":
        i = i % (2 * size)
        return np.where(i >= size, 2 * size - 1 - i, i), None
    if fill_mode == "wrap":
        return i % size, None
    inside = (i >= 0) & (i < size) if fill_mode == "constant" else None
    return np.clip(i, 0, size - 1), inside


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
