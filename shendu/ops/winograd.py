"""Winograd's minimal filtering F(2x2, 3x3) for 3x3 convolutions with stride 1 (Lavin & Gray 2016).

A 2x2 block of outputs needs 36 multiply-adds per channel pair directly, but only 16 in the transformed domain:
Y = A^T [(G g G^T) . (B^T d B)] A for each 4x4 input tile d. Over a batch, the element-wise product becomes 16
matrix products, (tiles x C) @ (C x F), one per position of the 4x4 transform. The backward passes reuse the
transformed tiles: with W = A dY A^T, dU = V^T W (then dk = G^T dU G) and dV = W U^T (then dx gets B dV B^T). About
half the arithmetic of im2col and one product; the transforms are compiled loops (`kernels`), so this path runs when
numba is there, for convolutions with enough channels that the products dominate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels

G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
"""The kernel transform: U = G g G^T turns a 3x3 kernel into 4x4."""

MIN_CHANNELS = 16
"""Input channels from which the products outweigh the transforms (a first layer on images stays on im2col)."""


def applies(x: Any, kernel: Any, strides: tuple[int, int], dilation: tuple[int, int], groups: int) -> bool:
    """Whether a convolution of x with kernel runs as Winograd tiles."""
    return (kernels.enabled() and get_array_module(x) is np and kernel.shape[:2] == (3, 3)
            and kernel.shape[2] >= MIN_CHANNELS and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1)


def transform_kernel(kernel: Any) -> Any:
    """U (16, C, F) = G g G^T for each (c, f) of a (3, 3, C, F) kernel, as two products over the kernel's rows."""
    g = G.astype(kernel.dtype)
    rows = (g @ kernel.reshape(3, -1)).reshape(4, 3, -1)  # G g: (4, 3, C F)
    return np.matmul(g, rows).reshape(16, *kernel.shape[2:])  # (G g) G^T, row by row


def kernel_grad(du: Any) -> Any:
    """dk (3, 3, C, F) = G^T dU G: the adjoint of `transform_kernel`."""
    g = G.astype(du.dtype)
    rows = np.matmul(g.T, du.reshape(4, 4, -1))  # dU G, row by row: (4, 3, C F)
    return (g.T @ rows.reshape(4, -1)).reshape(3, 3, *du.shape[1:])


def tiles(oh: int, ow: int) -> tuple[int, int]:
    """How many 2x2 output tiles cover an oh x ow output."""
    return (oh + 1) // 2, (ow + 1) // 2


def forward(xpad: Any, u: Any, out: Any) -> Any:
    """out (N, OH, OW, F) = the valid 3x3 convolution of the padded images xpad with the transformed kernel u;
    returns the transformed tiles V (16, tiles, C), kept for backward."""
    n, oh, ow, _ = out.shape
    th, tw = tiles(oh, ow)
    v = np.empty((16, n * th * tw, xpad.shape[3]), dtype=xpad.dtype)
    kernels.winograd_input(xpad, th, tw, v)
    kernels.winograd_output(np.matmul(v, u), th, tw, out)
    return v


def backward(v: Any, u: Any, g: Any, dxpad: Any, weights: bool = True) -> Any:
    """For output gradient g (N, OH, OW, F): the input gradient added into the padded dxpad (when not None), and
    dU (16, C, F), the gradient of the transformed kernel, returned (None unless `weights`)."""
    n, oh, ow, f = g.shape
    th, tw = tiles(oh, ow)
    w = np.empty((16, n * th * tw, f), dtype=g.dtype)
    kernels.winograd_output_grad(g, th, tw, w)
    if dxpad is not None:
        kernels.winograd_input_grad(np.matmul(w, u.transpose(0, 2, 1)), th, tw, dxpad)
    return np.matmul(v.transpose(0, 2, 1), w) if weights else None
