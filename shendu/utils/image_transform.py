"""The image transforms of ImageDataGenerator as plain NumPy: affine warps by inverse mapping, flips, channel and
brightness shifts (Keras's apply_affine_transform and friends, without SciPy).

An affine warp computes, for every output pixel (x, y) = (column, row), the input point it comes from,
    [x_in, y_in, 1] = C @ M @ C^-1 @ [x, y, 1],   C = shift by the image centre ((w - 1) / 2, (h - 1) / 2),
and samples the input there: the nearest pixel (order 0) or the bilinear blend of its four neighbours (order 1).
Points outside the image follow fill_mode, as SciPy's ndimage modes do:
    constant: cval        nearest: aaaa|abcd|dddd        reflect: dcba|abcd|dcba        wrap: abcd|abcd|abcd
"""

from __future__ import annotations

import numpy as np

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
_EPS = 1e-6  # float noise of an exact transform (cos 90 degrees = 6e-17) must not move a point off the grid


def transform_matrix(theta: float = 0, tx: float = 0, ty: float = 0, shear: float = 0, zx: float = 1,
                     zy: float = 1) -> np.ndarray | None:
    """Keras's output-to-input matrix in (x, y) coordinates around the centre: rotation(theta degrees) @
    shift(tx, ty) @ shear(degrees) @ zoom(zx, zy); None when it is the identity."""
    matrix = np.eye(3)
    identity = True
    if theta:
        t = np.deg2rad(theta)
        matrix = matrix @ np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        identity = False
    if tx or ty:
        matrix = matrix @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        identity = False
    if shear:
        s = np.deg2rad(shear)
        matrix = matrix @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
        identity = False
    if zx != 1 or zy != 1:
        matrix = matrix @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        identity = False
    return None if identity else matrix


def _fold(index: np.ndarray, n: int, fill_mode: str) -> np.ndarray:
    """Integer indices outside 0..n-1 brought back inside as fill_mode says (constant: clamped, masked later)."""
    if fill_mode == "reflect":
        index = np.mod(index, 2 * n)
        return np.where(index >= n, 2 * n - 1 - index, index)
    if fill_mode == "wrap":
        return np.mod(index, n)
    return np.clip(index, 0, n - 1)


def apply_affine_transform(x: np.ndarray, theta: float = 0, tx: float = 0, ty: float = 0, shear: float = 0,
                           zx: float = 1, zy: float = 1, row_axis: int = 0, col_axis: int = 1, channel_axis: int = 2,
                           fill_mode: str = "nearest", cval: float = 0.0, order: int = 1) -> np.ndarray:
    """x (one 3-D image) warped by transform_matrix(theta, tx, ty, shear, zx, zy): theta rotates counter-clockwise,
    a positive tx / ty takes the content left / up by that many pixels, zx / zy > 1 zoom out."""
    if x.ndim != 3 or sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError(f"apply_affine_transform: expected one 3-D image and distinct row/col/channel axes; got "
                         f"shape {x.shape} and axes {(row_axis, col_axis, channel_axis)}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"apply_affine_transform: fill_mode must be one of {FILL_MODES}; got {fill_mode!r}")
    if order not in (0, 1):
        raise ValueError(f"apply_affine_transform: order (interpolation_order) must be 0 (nearest) or 1 "
                         f"(bilinear); got {order}")
    matrix = transform_matrix(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    image = np.moveaxis(x, (row_axis, col_axis, channel_axis), (0, 1, 2))
    h, w = image.shape[:2]
    centre = np.array([[1, 0, (w - 1) / 2], [0, 1, (h - 1) / 2], [0, 0, 1]])
    matrix = centre @ matrix @ np.linalg.inv(centre)
    ys, xs = np.mgrid[0:h, 0:w]
    src_x, src_y, _ = matrix @ np.stack([xs.ravel(), ys.ravel(), np.ones(h * w)])
    out = _sample(image.astype(np.float64), src_x, src_y, fill_mode, order)
    if fill_mode == "constant":
        outside = (src_x < -_EPS) | (src_x > w - 1 + _EPS) | (src_y < -_EPS) | (src_y > h - 1 + _EPS)
        out[outside] = cval
    out = out.reshape(h, w, -1).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    return np.moveaxis(out, (0, 1, 2), (row_axis, col_axis, channel_axis))


def _sample(image: np.ndarray, src_x: np.ndarray, src_y: np.ndarray, fill_mode: str, order: int) -> np.ndarray:
    """The (points, channels) values of image (h, w, c) at the points (src_x, src_y)."""
    h, w = image.shape[:2]
    if order == 0:
        cols = _fold(np.floor(src_x + 0.5 + _EPS).astype(np.int64), w, fill_mode)
        rows = _fold(np.floor(src_y + 0.5 + _EPS).astype(np.int64), h, fill_mode)
        return image[rows, cols]
    x0, y0 = np.floor(src_x + _EPS), np.floor(src_y + _EPS)
    fx, fy = (np.where(f < _EPS, 0.0, f)[:, None] for f in (src_x - x0, src_y - y0))
    c0, c1 = (_fold(c.astype(np.int64), w, fill_mode) for c in (x0, x0 + 1))
    r0, r1 = (_fold(r.astype(np.int64), h, fill_mode) for r in (y0, y0 + 1))
    top = image[r0, c0] * (1 - fx) + image[r0, c1] * fx
    bottom = image[r1, c0] * (1 - fx) + image[r1, c1] * fx
    return top * (1 - fy) + bottom * fy


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """x reversed along axis."""
    return np.flip(x, axis)


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """intensity added to every channel, clipped to the image's own min..max (Keras's channel shift; channel_axis
    is kept for its signature: the shift is the same on every channel)."""
    return np.clip(x + intensity, np.min(x), np.max(x)).astype(x.dtype)


def apply_brightness_shift(x: np.ndarray, brightness: float, scale: bool = True) -> np.ndarray:
    """The image's 0-255 pixel values multiplied by brightness and clipped to 0..255 (Pillow's Brightness enhance).

    An image with values outside 0..255 is mapped to 0..255 first and, when scale is False, mapped back after.
    """
    lo, hi = float(np.min(x)), float(np.max(x))
    out_of_range = lo < 0 or hi > 255
    pixels = x.astype(np.float64)
    if out_of_range or scale:
        pixels = (pixels - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(pixels)
    pixels = np.clip(np.floor(pixels) * brightness, 0, 255)
    if out_of_range and not scale:
        pixels = pixels / 255 * (hi - lo) + lo
    return pixels.astype(x.dtype if x.dtype.kind == "f" else np.float64)
