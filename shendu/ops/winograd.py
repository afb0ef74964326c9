"""Winograd's minimal filtering F(4x4, 3x3) for 3x3 convolutions with stride 1 (Lavin & Gray 2016).

A 4x4 block of outputs needs 144 multiply-adds per channel pair directly, but only 36 in the transformed domain:
Y = A^T [(G g G^T) . (B^T d B)] A for each 6x6 input tile d (neighbouring tiles overlap by two pixels). Over a batch,
the element-wise product becomes 36 matrix products, (tiles x C) @ (C x F), one per position of the 6x6 transform.
The backward passes reuse the transformed tiles: with W = A dY A^T, dU = V^T W (then dk = G^T dU G) and dV = W U^T
(then dx gets B dV B^T).

The tile transforms are written here as NumPy matrix products over all tiles at once (`input_transform`, ...), the
readable reference; with numba the compiled loops of `kernels` (the same transforms, one pass each) run instead.
`Conv2DWinograd` (`shendu.ops.conv`) is the op; it is chosen where it pays (`applies`): with the compiled
transforms, for convolutions with enough channels that the products dominate. (F(2x2, 3x3), 4x4 tiles and 16
products, ran here first: its products have four times the rows of these for 1.8 times the arithmetic.)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels

B_T = np.array([[4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
                [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
                [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
                [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
                [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
                [0.0, 4.0, 0.0, -5.0, 0.0, 1.0]])
"""The input transform: V = B^T d B turns a 6x6 input tile into the transformed domain (interpolation points 0,
+-1, +-2 and infinity)."""
G = np.array([[1 / 4, 0.0, 0.0],
              [-1 / 6, -1 / 6, -1 / 6],
              [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6],
              [1 / 24, -1 / 12, 1 / 6],
              [0.0, 0.0, 1.0]])
"""The kernel transform: U = G g G^T turns a 3x3 kernel into 6x6."""
A_T = np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
                [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
                [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
                [0.0, 1.0, -1.0, 8.0, -8.0, 1.0]])
"""The output transform: Y = A^T M A turns a tile's 6x6 products into its 4x4 outputs."""
ALPHA, STEP = B_T.shape[0], A_T.shape[0]
"""A tile's input size (6) and output size (4): the tiles of the input start every STEP pixels."""
POSITIONS = ALPHA * ALPHA
"""The positions of the transformed domain: one matrix product each."""

MIN_CHANNELS = 16
"""Input channels from which the products outweigh the transforms (a first layer on images stays on im2col)."""
BLOCK_BYTES = 1 << 21
"""The most bytes of a block's products: images go through the products and the output transform a block at a time,
so that the products of one block are still in cache (an L2 of 2 MB a core here) when the output transform reads
them. Tutorial CNN, 2 cores, against 512 KB: training step 6.47 -> 6.28 ms (a chunk of 32 images in two blocks
forward and one backward instead of six), predict 32.9k -> 35.1k images/s; 8 MB blocks lost in predict (31k)."""


def supports(kernel_shape: tuple[int, ...], strides: tuple[int, int], dilation: tuple[int, int], groups: int) -> bool:
    """Whether F(4x4, 3x3) computes this convolution: a 3x3 kernel, stride 1, no dilation, one group."""
    return tuple(kernel_shape[:2]) == (3, 3) and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1


def applies(x: Any, kernel: Any, strides: tuple[int, int], dilation: tuple[int, int], groups: int) -> bool:
    """Whether a convolution of x with kernel pays to run as Winograd tiles: the compiled transforms run (numba,
    NumPy arrays) and there are at least MIN_CHANNELS input channels."""
    return compiled(x) and kernel.shape[2] >= MIN_CHANNELS and supports(kernel.shape, strides, dilation, groups)


def compiled(x: Any) -> bool:
    """Whether the tile transforms of x run as the compiled loops (else as the NumPy reference)."""
    return kernels.enabled() and get_array_module(x) is np


def transform_kernel(kernel: Any) -> Any:
    """U (36, C, F) = G g G^T for each (c, f) of a (3, 3, C, F) kernel, as two products over the kernel's rows."""
    xp = get_array_module(kernel)
    g = xp.asarray(G, dtype=kernel.dtype)
    rows = (g @ kernel.reshape(3, -1)).reshape(ALPHA, 3, -1)  # G g: (6, 3, C F)
    return xp.matmul(g, rows).reshape(POSITIONS, *kernel.shape[2:])  # (G g) G^T, row by row


def kernel_grad(du: Any) -> Any:
    """dk (3, 3, C, F) = G^T dU G: the adjoint of `transform_kernel`."""
    xp = get_array_module(du)
    g = xp.asarray(G, dtype=du.dtype)
    rows = xp.matmul(g.T, du.reshape(ALPHA, ALPHA, -1))  # dU G, row by row: (6, 3, C F)
    return (g.T @ rows.reshape(ALPHA, -1)).reshape(3, 3, *du.shape[1:])


def tiles(oh: int, ow: int) -> tuple[int, int]:
    """How many 4x4 output tiles cover an oh x ow output."""
    return -(-oh // STEP), -(-ow // STEP)


# --- the tile transforms in NumPy (the reference of the compiled `kernels.winograd_*` loops) -------------------------
# A transformed array (36, N th tw, C) holds, at row 6 a + b and column (n th + s) tw + t, entry [a, b] of the 6x6
# transform of tile (s, t) of image n; the tile of output rows 4s ... 4s + 3 reads input rows 4s ... 4s + 5.
# M S M^T for every tile S at once is one matrix product: with the tiles' entries gathered as the rows of a
# (36, tiles x C) matrix (row 6 u + v holds entry [u, v]), the Kronecker product M (x) M multiplies it.
KRON_B_T = np.kron(B_T, B_T)
"""(36, 36): row 6 a + b, column 6 u + v holds B^T[a, u] B^T[b, v], so that V = KRON_B_T @ d."""
KRON_A_T = np.kron(A_T, A_T)
"""(16, 36): the output transform as one product, Y = KRON_A_T @ M."""


def _fit(x: Any, h: int, w: int) -> Any:
    """Images x (N, H, W, C) cropped or zero-padded (after) to h x w; x itself when it has that size."""
    if x.shape[1:3] == (h, w):
        return x
    out = get_array_module(x).zeros((x.shape[0], h, w, x.shape[3]), dtype=x.dtype)
    part = x[:, :h, :w]
    out[:, :part.shape[1], :part.shape[2]] = part
    return out


def _product_into(m: Any, rows: Any, out: Any) -> Any:
    """out = m @ rows, out viewed as a (len(m), -1) matrix: written in place (one BLAS product) when contiguous."""
    xp = get_array_module(rows)
    m = xp.asarray(m, dtype=rows.dtype)
    if out.flags.c_contiguous:
        xp.matmul(m, rows, out=out.reshape(m.shape[0], -1))
    else:
        out[...] = (m @ rows).reshape(out.shape)
    return out


def _gather(x: Any, size: int, th: int, tw: int) -> Any:
    """The size x size tiles of x (N, H, W, C) starting every STEP pixels as a (size^2, N th tw C) matrix, row
    size u + v holding entry [u, v] of every tile (one strided copy; x must cover the tiles)."""
    xp = get_array_module(x)
    n, c = x.shape[0], x.shape[3]
    sn, sh, sw, sc = x.strides
    view = xp.lib.stride_tricks.as_strided(x, (size, size, n, th, tw, c), (sh, sw, sn, STEP * sh, STEP * sw, sc),
                                           writeable=False)
    rows = xp.empty((size * size, n * th * tw * c), dtype=x.dtype)
    rows.reshape(view.shape)[...] = view
    return rows


def input_transform(x: Any, th: int, tw: int, out: Any) -> Any:
    """out = B^T d B for every 6x6 tile d = x[n, 4s:4s+6, 4t:4t+6, c] of the padded images x (zeros past x)."""
    full = _fit(x, STEP * th + ALPHA - STEP, STEP * tw + ALPHA - STEP)
    return _product_into(KRON_B_T, _gather(full, ALPHA, th, tw), out)


def output_transform(m: Any, th: int, tw: int, out: Any, bias: Any) -> Any:
    """out (N, OH, OW, F) = A^T M A + bias for each tile's 6x6 products M, the 4x4 blocks inside out only (no bias
    when `bias` is empty)."""
    xp = get_array_module(m)
    n, oh, ow, f = out.shape
    y = xp.asarray(KRON_A_T, dtype=m.dtype) @ m.reshape(POSITIONS, -1)  # row 4 i + j: entry [i, j] of every tile
    blocks = y.reshape(STEP, STEP, n, th, tw, f).transpose(2, 3, 0, 4, 1, 5)  # (N, th, 4, tw, 4, F)
    out[...] = _fit(blocks.reshape(n, STEP * th, STEP * tw, f), oh, ow)
    if bias.size:
        out += bias
    return out


def output_transform_grad(g: Any, th: int, tw: int, out: Any) -> Any:
    """The adjoint of `output_transform`: out = A dY A^T for each tile's 4x4 gradient dY (zeros past g)."""
    full = _fit(g, STEP * th, STEP * tw)
    return _product_into(KRON_A_T.T, _gather(full, STEP, th, tw), out)


def input_transform_grad(dv: Any, th: int, tw: int, out: Any) -> Any:
    """The adjoint of `input_transform`: out (N, H, W, C) += B dV B^T for each tile's 6x6 gradient dV, the
    overlapping tiles adding up (rows and columns past out dropped)."""
    xp = get_array_module(dv)
    n, h, w, c = out.shape
    dd = (xp.asarray(KRON_B_T.T, dtype=dv.dtype) @ dv.reshape(POSITIONS, -1)).reshape(ALPHA, ALPHA, n, th, tw, c)
    full = xp.zeros((n, STEP * th + ALPHA - STEP, STEP * tw + ALPHA - STEP, c), dtype=dv.dtype)
    for a in range(ALPHA):  # entry (a, b) of every tile lands on the grid of pixels (4s + a, 4t + b)
        for b in range(ALPHA):
            full[:, a:a + STEP * th:STEP, b:b + STEP * tw:STEP] += dd[a, b]
    out += _fit(full, h, w)
    return out


# --- the passes of a convolution -----------------------------------------------------------------------------------
def transforms(fast: bool) -> tuple[Any, Any, Any, Any]:
    """The four tile transforms (input, output, output_grad, input_grad), each `(array, th, tw, out)` (the output
    transform also takes the bias, empty for none): the compiled loops when `fast`, else the NumPy reference."""
    if fast:
        k = kernels
        return k.winograd_input, k.winograd_output, k.winograd_output_grad, k.winograd_input_grad
    return input_transform, output_transform, output_transform_grad, input_transform_grad


def blocks(n: int, tiles_per_image: int, channels: int, itemsize: int) -> list[tuple[slice, slice]]:
    """(images, tiles) slices of as few blocks of images as keep each block's products (36 x tiles x channels)
    within BLOCK_BYTES, their sizes as even as the images allow."""
    per_image = POSITIONS * tiles_per_image * channels * itemsize
    k = min(n, -(-n * per_image // BLOCK_BYTES))
    bounds = [n * i // k for i in range(k + 1)] if k else []
    return [(slice(a, b), slice(a * tiles_per_image, b * tiles_per_image)) for a, b in itertools.pairwise(bounds)]


def forward(xpad: Any, u: Any, out: Any, bias: Any = None, pool: tuple[Any, bool] | None = None) -> Any:
    """out (N, OH, OW, F) = the valid 3x3 convolution of the padded images xpad with the transformed kernel u, + bias
    (added by the output transform); returns the transformed tiles V (36, tiles, C), kept for backward. The products
    and the output transform run a block of images at a time, so that the output transform finds them in cache.
    pool = (idx, relu): the output transform also max-pools 2x2 windows at stride 2 (`kernels.winograd_output_pool`,
    compiled only): out is then the pooled output (N, OH // 2, OW // 2, F), then the ReLU when relu, and idx its
    winners."""
    xp = get_array_module(xpad)
    n, _, _, f = out.shape
    oh, ow = xpad.shape[1] - 2, xpad.shape[2] - 2
    th, tw = tiles(oh, ow)
    to_tiles, from_tiles, _, _ = transforms(compiled(xpad))
    v = xp.empty((POSITIONS, n * th * tw, xpad.shape[3]), dtype=xpad.dtype)
    to_tiles(xpad, th, tw, v)
    b = xp.empty(0, out.dtype) if bias is None else xp.asarray(bias, dtype=out.dtype)
    for images, rows in blocks(n, th * tw, f, out.itemsize):
        if pool is None:
            from_tiles(xp.matmul(v[:, rows], u), th, tw, out[images], b)
        else:
            kernels.winograd_output_pool(xp.matmul(v[:, rows], u), th, tw, out[images], b, pool[1], pool[0][images])
    return v


def backward(v: Any, u: Any, g: Any, dxpad: Any, weights: bool = True, u_t: Any = None) -> Any:
    """For output gradient g (N, OH, OW, F): the input gradient added into the padded dxpad (when not None), a block
    of images at a time, and dU (36, C, F), the gradient of the transformed kernel, returned (None unless
    `weights`). u_t: U^T (36, F, C) when the caller keeps it (contiguous, for faster products)."""
    xp = get_array_module(g)
    n, oh, ow, f = g.shape
    th, tw = tiles(oh, ow)
    _, _, grad_to_tiles, _ = transforms(compiled(g))
    w = xp.empty((POSITIONS, n * th * tw, f), dtype=g.dtype)
    grad_to_tiles(g, th, tw, w)
    return backward_tiles(v, u, w, (th, tw), dxpad, weights, u_t)


def backward_tiles(v: Any, u: Any, w: Any, grid: tuple[int, int], dxpad: Any, weights: bool = True,
                   u_t: Any = None) -> Any:
    """`backward` from the output gradient's transformed tiles W (36, tiles, F) of a grid of th x tw tiles an image:
    dV = W U^T into dxpad (when not None), a block of images at a time; returns dU = V^T W (None unless `weights`)."""
    xp = get_array_module(w)
    th, tw = grid
    if dxpad is not None:
        _, _, _, grad_from_tiles = transforms(compiled(w))
        u_t = u.transpose(0, 2, 1) if u_t is None else u_t
        for images, rows in blocks(dxpad.shape[0], th * tw, dxpad.shape[3], w.itemsize):
            grad_from_tiles(xp.matmul(w[:, rows], u_t), th, tw, dxpad[images])
    return xp.matmul(v.transpose(0, 2, 1), w) if weights else None
