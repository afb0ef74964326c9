"""Winograd's minimal filtering F(2x2, 3x3) for 3x3 convolutions with stride 1 (Lavin & Gray 2016).

A 2x2 block of outputs needs 36 multiply-adds per channel pair directly, but only 16 in the transformed domain:
Y = A^T [(G g G^T) . (B^T d B)] A for each 4x4 input tile d. Over a batch, the element-wise product becomes 16
matrix products, (tiles x C) @ (C x F), one per position of the 4x4 transform. The backward passes reuse the
transformed tiles: with W = A dY A^T, dU = V^T W (then dk = G^T dU G) and dV = W U^T (then dx gets B dV B^T).

The tile transforms are written here as NumPy matrix products over all tiles at once (`input_transform`, ...), the
readable reference; with numba the compiled loops of `kernels` (the same transforms, one pass each) run instead.
`Conv2DWinograd` (`shendu.ops.conv`) is the op; it is chosen where it pays (`applies`): with the compiled
transforms, for convolutions with enough channels that the products dominate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels

B_T = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
"""The input transform: V = B^T d B turns a 4x4 input tile into the transformed domain."""
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
"""The kernel transform: U = G g G^T turns a 3x3 kernel into 4x4."""
A_T = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]])
"""The output transform: Y = A^T M A turns a tile's 4x4 products into its 2x2 outputs."""

MIN_CHANNELS = 16
"""Input channels from which the products outweigh the transforms (a first layer on images stays on im2col)."""


def supports(kernel_shape: tuple[int, ...], strides: tuple[int, int], dilation: tuple[int, int], groups: int) -> bool:
    """Whether F(2x2, 3x3) computes this convolution: a 3x3 kernel, stride 1, no dilation, one group."""
    return tuple(kernel_shape[:2]) == (3, 3) and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1


def applies(x: Any, kernel: Any, strides: tuple[int, int], dilation: tuple[int, int], groups: int) -> bool:
    """Whether a convolution of x with kernel pays to run as Winograd tiles: the compiled transforms run (numba,
    NumPy arrays) and there are at least MIN_CHANNELS input channels."""
    return compiled(x) and kernel.shape[2] >= MIN_CHANNELS and supports(kernel.shape, strides, dilation, groups)


def compiled(x: Any) -> bool:
    """Whether the tile transforms of x run as the compiled loops (else as the NumPy reference)."""
    return kernels.enabled() and get_array_module(x) is np


def transform_kernel(kernel: Any) -> Any:
    """U (16, C, F) = G g G^T for each (c, f) of a (3, 3, C, F) kernel, as two products over the kernel's rows."""
    xp = get_array_module(kernel)
    g = xp.asarray(G, dtype=kernel.dtype)
    rows = (g @ kernel.reshape(3, -1)).reshape(4, 3, -1)  # G g: (4, 3, C F)
    return xp.matmul(g, rows).reshape(16, *kernel.shape[2:])  # (G g) G^T, row by row


def kernel_grad(du: Any) -> Any:
    """dk (3, 3, C, F) = G^T dU G: the adjoint of `transform_kernel`."""
    xp = get_array_module(du)
    g = xp.asarray(G, dtype=du.dtype)
    rows = xp.matmul(g.T, du.reshape(4, 4, -1))  # dU G, row by row: (4, 3, C F)
    return (g.T @ rows.reshape(4, -1)).reshape(3, 3, *du.shape[1:])


def tiles(oh: int, ow: int) -> tuple[int, int]:
    """How many 2x2 output tiles cover an oh x ow output."""
    return (oh + 1) // 2, (ow + 1) // 2


# --- the tile transforms in NumPy (the reference of the compiled `kernels.winograd_*` loops) -------------------------
# A transformed array (16, N th tw, C) holds, at row 4 a + b and column (n th + s) tw + t, entry [a, b] of the 4x4
# transform of tile (s, t) of image n; the tile of output rows 2s, 2s + 1 reads input rows 2s ... 2s + 3.
def _fit(x: Any, h: int, w: int) -> Any:
    """Images x (N, H, W, C) cropped or zero-padded (after) to h x w; x itself when it has that size."""
    if x.shape[1:3] == (h, w):
        return x
    out = get_array_module(x).zeros((x.shape[0], h, w, x.shape[3]), dtype=x.dtype)
    part = x[:, :h, :w]
    out[:, :part.shape[1], :part.shape[2]] = part
    return out


def _matrix(m: Any, like: Any) -> Any:
    """A transform matrix in the array module and dtype of `like`."""
    return get_array_module(like).asarray(m, dtype=like.dtype)


def _to_tiles(v: Any, th: int, tw: int) -> Any:
    """A transformed array (16, N th tw, C) as (N, th, tw, C, 4, 4): each tile's 4x4 matrix on the last axes."""
    n = v.shape[1] // (th * tw)
    return v.reshape(4, 4, n, th, tw, v.shape[2]).transpose(2, 3, 4, 5, 0, 1)


def _from_tiles(t: Any, out: Any) -> Any:
    """(N, th, tw, C, 4, 4) tile matrices written into the transformed array `out` (16, N th tw, C)."""
    out[...] = t.transpose(4, 5, 0, 1, 2, 3).reshape(out.shape)
    return out


def input_transform(x: Any, th: int, tw: int, out: Any) -> Any:
    """out = B^T d B for every 4x4 tile d = x[n, 2s:2s+4, 2t:2t+4, c] of the padded images x (zeros past x)."""
    xp = get_array_module(x)
    b_t = _matrix(B_T, x)
    full = _fit(x, 2 * th + 2, 2 * tw + 2)
    d = xp.lib.stride_tricks.sliding_window_view(full, (4, 4), axis=(1, 2))[:, ::2, ::2]  # (N, th, tw, C, 4, 4)
    return _from_tiles(b_t @ d @ b_t.T, out)


def output_transform(m: Any, th: int, tw: int, out: Any) -> Any:
    """out (N, OH, OW, F) = A^T M A for each tile's 4x4 products M, the 2x2 blocks inside out only."""
    n, oh, ow, f = out.shape
    a_t = _matrix(A_T, m)
    y = a_t @ _to_tiles(m, th, tw) @ a_t.T  # (N, th, tw, F, 2, 2)
    out[...] = _fit(y.transpose(0, 1, 4, 2, 5, 3).reshape(n, 2 * th, 2 * tw, f), oh, ow)
    return out


def output_transform_grad(g: Any, th: int, tw: int, out: Any) -> Any:
    """The adjoint of `output_transform`: out = A dY A^T for each tile's 2x2 gradient dY (zeros past g)."""
    n, _, _, f = g.shape
    a_t = _matrix(A_T, g)
    dy = _fit(g, 2 * th, 2 * tw).reshape(n, th, 2, tw, 2, f).transpose(0, 1, 3, 5, 2, 4)  # (N, th, tw, F, 2, 2)
    return _from_tiles(a_t.T @ dy @ a_t, out)


def input_transform_grad(dv: Any, th: int, tw: int, out: Any) -> Any:
    """The adjoint of `input_transform`: out (N, H, W, C) += B dV B^T for each tile's 4x4 gradient dV, the
    overlapping tiles adding up (rows and columns past out dropped)."""
    xp = get_array_module(dv)
    n, h, w, c = out.shape
    b_t = _matrix(B_T, dv)
    dd = b_t.T @ _to_tiles(dv, th, tw) @ b_t  # (N, th, tw, C, 4, 4)
    full = xp.zeros((n, 2 * th + 2, 2 * tw + 2, c), dtype=dv.dtype)
    for a in (0, 2):  # the tiles' 2x2 quarters at (a, b) lie side by side on the grid shifted by (a, b)
        for b in (0, 2):
            quarter = dd[..., a:a + 2, b:b + 2].transpose(0, 1, 4, 2, 5, 3).reshape(n, 2 * th, 2 * tw, c)
            full[:, a:a + 2 * th, b:b + 2 * tw] += quarter
    out += _fit(full, h, w)
    return out


# --- the passes of a convolution -----------------------------------------------------------------------------------
def forward(xpad: Any, u: Any, out: Any) -> Any:
    """out (N, OH, OW, F) = the valid 3x3 convolution of the padded images xpad with the transformed kernel u;
    returns the transformed tiles V (16, tiles, C), kept for backward."""
    xp = get_array_module(xpad)
    n, oh, ow, _ = out.shape
    th, tw = tiles(oh, ow)
    fast = compiled(xpad)
    v = xp.empty((16, n * th * tw, xpad.shape[3]), dtype=xpad.dtype)
    (kernels.winograd_input if fast else input_transform)(xpad, th, tw, v)
    (kernels.winograd_output if fast else output_transform)(xp.matmul(v, u), th, tw, out)
    return v


def backward(v: Any, u: Any, g: Any, dxpad: Any, weights: bool = True) -> Any:
    """For output gradient g (N, OH, OW, F): the input gradient added into the padded dxpad (when not None), and
    dU (16, C, F), the gradient of the transformed kernel, returned (None unless `weights`)."""
    xp = get_array_module(g)
    n, oh, ow, f = g.shape
    th, tw = tiles(oh, ow)
    fast = compiled(g)
    w = xp.empty((16, n * th * tw, f), dtype=g.dtype)
    (kernels.winograd_output_grad if fast else output_transform_grad)(g, th, tw, w)
    if dxpad is not None:
        (kernels.winograd_input_grad if fast else input_transform_grad)(xp.matmul(w, u.transpose(0, 2, 1)), th, tw,
                                                                         dxpad)
    return xp.matmul(v.transpose(0, 2, 1), w) if weights else None
