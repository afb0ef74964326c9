"""Write a batch of images as one PNG grid: matplotlib when it is installed, else a small PNG encoder (zlib)."""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Any

import numpy as np


def image_grid(images: Any, ncols: int | None = None, padding: int = 1, value_range: tuple[float, float] = (0.0, 1.0),
               pad_value: float = 1.0) -> np.ndarray:
    """Tile (n, h, w), (n, h, w, 1) or (n, h, w, 3) images into one uint8 array, row by row.

    Values are mapped linearly from `value_range` to 0-255 (clipped); e.g. value_range=(-1, 1) for tanh outputs.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] != 3):
        raise ValueError(f"image_grid: expected images of shape (n, h, w), (n, h, w, 1) or (n, h, w, 3); "
                         f"got {x.shape}")
    n, h, w = x.shape[:3]
    if n == 0:
        raise ValueError("image_grid: got no images")
    lo, hi = value_range
    if not hi > lo:
        raise ValueError(f"image_grid: value_range must be (low, high) with high > low; got {value_range}")
    x = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    grid = np.full((nrows * (h + padding) + padding, ncols * (w + padding) + padding, *x.shape[3:]),
                   np.clip(pad_value, 0.0, 1.0))
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    return np.round(grid * 255).astype(np.uint8)


def save_image_grid(images: Any, path: str | os.PathLike[str], ncols: int | None = None, padding: int = 1,
                    value_range: tuple[float, float] = (0.0, 1.0), scale: int = 1) -> str:
    """Write `image_grid(images, ...)` to a PNG file (each pixel repeated `scale` times); returns the path."""
    grid = image_grid(images, ncols, padding, value_range)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        write_png(path, grid)
        return path
    plt.imsave(path, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255)
    return path


def write_png(path: str | os.PathLike[str], pixels: np.ndarray) -> None:
    """Encode a uint8 array (h, w) grey or (h, w, 3) RGB as an 8-bit PNG file (see `encode_png`)."""
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[2] != 3:
        raise ValueError(f"write_png: expected uint8 pixels of shape (h, w) or (h, w, 3); got {pixels.dtype} "
                         f"{pixels.shape}")
    blob = encode_png(pixels)
    with open(path, "wb") as f:
        f.write(blob)


_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, grey+alpha, RGB, RGBA


def encode_png(pixels: np.ndarray) -> bytes:
    """The bytes of an 8-bit PNG of a uint8 array (h, w) or (h, w, c), c = 1, 2, 3 or 4 (filter 0 on every row,
    zlib level 9)."""
    pixels = np.asarray(pixels)
    channels = 1 if pixels.ndim == 2 else pixels.shape[-1] if pixels.ndim == 3 else 0
    if pixels.dtype != np.uint8 or channels not in _PNG_COLOR_TYPES:
        raise ValueError(f"encode_png: expected uint8 pixels of shape (h, w) or (h, w, c) with c in 1..4; got "
                         f"{pixels.dtype} {pixels.shape}")
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1)
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
