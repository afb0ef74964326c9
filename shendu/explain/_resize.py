"""Resizing a class-activation map to the input's size, as `torch.nn.functional.interpolate` does (Captum's
`LayerAttribution.interpolate`): nearest, or (bi)linear with half-pixel centres (align_corners=False)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _axis(size_in: int, size_out: int, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output position: the two source indices and the weight of the second one."""
    scale = size_in / size_out
    dst = np.arange(size_out)
    if mode == "nearest":
        i0 = np.minimum(np.floor(dst * scale).astype(np.int64), size_in - 1)
        return i0, i0, np.zeros(size_out)
    src = np.maximum(scale * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
    i1 = np.minimum(i0 + 1, size_in - 1)
    return i0, i1, src - i0


def resize(maps: np.ndarray, size: Sequence[int], mode: str = "bilinear") -> np.ndarray:
    """maps (batch, *spatial) resized to (batch, *size), one spatial axis after the other ('bilinear' means
    linear along each axis, for 1-D maps too)."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"grad_cam: upsample must be 'bilinear', 'nearest' or None, got {mode!r}")
    out = maps.astype(np.float64)
    for axis, n in enumerate(size, start=1):
        i0, i1, w = _axis(out.shape[axis], int(n), mode)
        shape = [1] * out.ndim
        shape[axis] = -1
        w = w.reshape(shape)
        out = np.take(out, i0, axis=axis) * (1 - w) + np.take(out, i1, axis=axis) * w
    return out.astype(maps.dtype)
