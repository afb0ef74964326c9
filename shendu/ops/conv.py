"""Convolutions on channels-last images (NHWC) with Keras's kernel layouts.

A convolution is an im2col gather followed by one matrix product: the shifted windows of the (padded)
input are copied once into `cols` (rows: output pixels, columns: kernel taps x channels), and
y = cols @ kernel.reshape(kh*kw*C, F). Its backward is dkernel = cols^T g and, for the input, the products
g @ k_ij^T of every tap (one batched product, each tap's result contiguous), each scatter-added into its shifted
window. The batch is cut into chunks that run on shendu's threads (`shendu.parallel`), BLAS on one thread each.
3x3 stride-1 convolutions with many channels run as Winograd tiles instead (`Conv2DWinograd`, chosen by `conv2d`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels, winograd
from shendu.ops.function import Function
from shendu.parallel import batch_chunks, run_chunks, sum_parts
from shendu.tensor import Tensor

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


# --- sizes and padding (Keras/TF conventions) -------------------------------------------------------
def valid_length(length: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    """How many windows of a kernel dilated to k_eff = (k - 1) d + 1 fit in `length` at stride s:
    (L - k_eff) // s + 1, the output length of a valid convolution or pooling (below 1: none fits)."""
    return (length - (kernel - 1) * dilation - 1) // stride + 1


def valid_output_hw(padded_hw: Pair, kernel_hw: Pair, strides: Pair, dilation: Pair) -> Pair:
    """(OH, OW) of a valid convolution over images of size padded_hw; a ValueError when the kernel does not fit."""
    oh, ow = (valid_length(n, k, s, d) for n, k, s, d in zip(padded_hw, kernel_hw, strides, dilation))
    if oh < 1 or ow < 1:
        k_eff = tuple((k - 1) * d + 1 for k, d in zip(kernel_hw, dilation))
        raise ValueError(f"the padded image {tuple(padded_hw)} is smaller than the dilated kernel {k_eff}")
    return oh, ow


def conv_output_length(length: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Keras's output length (of a convolution or a pooling): `valid_length` for 'valid', ceil(L / s) for 'same'
    and 'causal'. None stays None (an unknown length)."""
    if length is None:
        return None
    if padding == "valid":
        return valid_length(length, kernel, stride, dilation)
    return (length + stride - 1) // stride


def explicit_padding(padding: str, length: int, kernel: int, stride: int, dilation: int = 1) -> Pair:
    """(before, after) zeros for one axis. 'same' pads max((out-1) s + k_eff - L, 0) in total, the odd
    pixel after (as TF); 'causal' pads k_eff - 1 before (Conv1D); 'valid' pads nothing."""
    k_eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (k_eff - 1, 0)
    if padding == "same":
        out = (length + stride - 1) // stride
        total = max((out - 1) * stride + k_eff - length, 0)
        return (total // 2, total - total // 2)
    raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")


def conv_transpose_output_length(length: int | None, kernel: int, stride: int, padding: str,
                                 output_padding: int | None = None, dilation: int = 1) -> int | None:
    """Keras's Conv2DTranspose length: L s + max(k_eff - s, 0) ('valid') or L s ('same') by default;
    (L - 1) s + k_eff + output_padding ('valid') or (L - 1) s + k_eff % 2 + output_padding ('same') when given."""
    if length is None:
        return None
    k_eff = (kernel - 1) * dilation + 1
    if output_padding is None:
        return length * stride + max(k_eff - stride, 0) if padding == "valid" else length * stride
    return (length - 1) * stride + (k_eff if padding == "valid" else k_eff % 2) + output_padding


def conv_transpose_crop(kernel: int, stride: int, padding: str, output_padding: int | None = None,
                        dilation: int = 1) -> int:
    """How many leading pixels of the full transposed output, of length (L - 1) s + k_eff, Keras drops:
    k_eff - 1 minus the left padding of the equivalent dilated convolution (as Keras converts for JAX)."""
    k_eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0
    pad = stride + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
    return k_eff - 1 - min(pad // 2 + pad % 2, k_eff - 1)


# --- gathering and scattering windows ---------------------------------------------------------------
def pad_spatial(x: Any, padding: Padding, value: float = 0.0) -> Any:
    """x (N, H, W, C) with `padding` ((top, bottom), (left, right)) pixels of `value` added; x itself if none."""
    (t, b), (left, r) = padding
    if not (t or b or left or r):
        return x
    xp = get_array_module(x)
    n, h, w, c = x.shape
    out = xp.full((n, h + t + b, w + left + r, c), value, dtype=x.dtype)
    out[:, t:t + h, left:left + w] = x
    return out


def window(start: int, count: int, stride: int) -> slice:
    """The slice of `count` positions from `start` in steps of `stride`."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def im2col(x: Any, kh: int, kw: int, oh: int, ow: int, strides: Pair, dilation: Pair, groups: int = 1,
           ones: bool = False, out: Any = None) -> Any:
    """The windows of x (N, H, W, C) as a (groups, N*oh*ow, kh*kw*C/groups) stack of matrices, taps
    ordered (i, j, c) like a Keras kernel's rows, by one strided copy. With ones=True each matrix gets a
    last column of ones, so that a bias row appended to the kernel is added inside the matrix product.
    With C == 1 the copy is made tap-major (contiguous runs along W) and returned as a transposed view. With `out`
    (an array of the result's shape) the windows are written there and out is returned."""
    xp = get_array_module(x)
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    (st_h, st_w), (d_h, d_w) = strides, dilation
    m, cg = n * oh * ow, c // groups
    k = kh * kw * cg
    strided = xp.lib.stride_tricks.as_strided
    guard = {"writeable": False} if xp is np else {}  # CuPy's as_strided has no writeable

    def as_strided(a: Any, shape: tuple, steps: tuple) -> Any:
        return strided(a, shape, steps, **guard)

    if c == 1:
        cols = xp.empty((k + ones, m), dtype=x.dtype)
        view = as_strided(x, (kh, kw, n, oh, ow), (sh * d_h, sw * d_w, sn, sh * st_h, sw * st_w))
        cols[:k].reshape(view.shape)[...] = view
        cols = cols[None].swapaxes(1, 2)
    else:
        cols = xp.empty((groups, m, k + ones), dtype=x.dtype) if out is None else out
        view = as_strided(x, (groups, n, oh, ow, kh, kw, cg),
                          (cg * sc, sn, sh * st_h, sw * st_w, sh * d_h, sw * d_w, sc))
        cols[:, :, :k].reshape(view.shape)[...] = view
    if ones:
        cols[:, :, k] = 1
    if out is not None and cols is not out:
        out[...] = cols
        return out
    return cols


def col2im(taps: Any, out: Any, oh: int, ow: int, strides: Pair, dilation: Pair) -> Any:
    """The adjoint of the gather: taps (kh, kw, groups, N, oh, ow, C/groups) added into `out` (N, H, W, C), each
    tap into its shifted window (kh*kw slice additions, no loop over pixels). Returns out."""
    kh, kw, groups, _, _, _, cg = taps.shape
    if groups == 1 and kernels.enabled() and get_array_module(out) is np:
        kernels.col2im(kh, kw, *strides, *dilation)(taps[:, :, 0], out)
        return out
    grouped = out.reshape(*out.shape[:3], groups, cg)
    for i in range(kh):
        rows = window(i * dilation[0], oh, strides[0])
        for j in range(kw):
            cols = window(j * dilation[1], ow, strides[1])
            tap = taps[i, j]
            if groups == 1:
                out[:, rows, cols] += tap[0]
            else:
                grouped[:, rows, cols] += tap.transpose(1, 2, 3, 0, 4)
    return out


def unpad(x: Any, padding: Padding) -> Any:
    """The view of padded images x (N, H, W, C) without the `padding` (the adjoint of `pad_spatial`)."""
    (t, _), (left, _) = padding
    h = x.shape[1] - padding[0][0] - padding[0][1]
    w = x.shape[2] - padding[1][0] - padding[1][1]
    return x[:, t:t + h, left:left + w]


def relu_inplace(y: Any) -> Any:
    """y = max(y, 0) in place for a contiguous y. NumPy's maximum against a scalar misses its SIMD loop, so
    the bulk is compared with a zero block of the same contiguous shape (3x faster), the tail with 0."""
    xp = get_array_module(y)
    if not y.flags.c_contiguous:
        return xp.maximum(y, 0, out=y)
    flat = y.reshape(-1)
    bulk = flat.size - flat.size % _BLOCK
    if bulk:
        rows = flat[:bulk].reshape(-1, _BLOCK)
        xp.maximum(rows, xp.zeros(_BLOCK, dtype=y.dtype), out=rows)
    if bulk < flat.size:
        xp.maximum(flat[bulk:], 0, out=flat[bulk:])
    return y


_BLOCK = 2048


def bias_relu(y: Any, bias: Any, relu: bool) -> Any:
    """y = y + bias (unless None), then the ReLU when `relu`, in place over (rows, columns) y: with numba one compiled
    pass (`kernels.bias_relu_rows`: MNIST's first Dense layer, 30,000 x 128, 1.74 -> 0.71 ms), else NumPy's two."""
    if (kernels.enabled() and isinstance(y, np.ndarray) and y.ndim == 2 and y.flags.c_contiguous
            and y.dtype in (np.float32, np.float64)
            and (bias is None or (getattr(bias, "dtype", None) == y.dtype and bias.shape == (y.shape[1],)))):
        kernels.bias_relu_rows(y, np.empty(0, y.dtype) if bias is None else np.ascontiguousarray(bias), relu)
        return y
    if bias is not None:
        y += bias
    return relu_inplace(y) if relu else y


def sum_rows(g: Any) -> Any:
    """A (rows, columns) g summed over its rows, a bias's gradient: with numba one compiled pass accumulating in float64
    (`kernels.column_sums`; 7,744 x 64: 0.22 -> 0.05 ms), else NumPy's sum."""
    if (kernels.enabled() and isinstance(g, np.ndarray) and g.ndim == 2 and g.flags.c_contiguous
            and g.dtype in (np.float32, np.float64)):
        out = np.empty(g.shape[1], g.dtype)
        kernels.column_sums(g, out)
        return out
    return g.sum(axis=0)


# --- the ops ----------------------------------------------------------------------------------------
class Conv2D(Function):
    """y[n, p, q, f] = sum_{i,j,c} xpad[n, p s_h + i d_h, q s_w + j d_w, c] k[i, j, c, f] + b[f], then a ReLU when
    `relu`. x is (N, H, W, C), the kernel Keras's (kh, kw, C/groups, F); `padding` is explicit ((top, bottom),
    (left, right)) (see `explicit_padding`). With groups, channel group g of x feeds filters g F/groups ...
    (g+1) F/groups - 1. Computed by im2col: y = cols @ [k; b], cols the windows of x with a column of ones.

    Backward: g masked by y > 0 (the ReLU); [dk; db] = cols^T g; dx = the scatter-add (`col2im`) of the taps
    g @ k_ij^T, skipped when x needs no gradient (e.g. for the first layer). Both passes run on batch chunks in
    parallel (`shendu.parallel`); `conv2d` picks this op or `Conv2DWinograd`.
    """

    def __init__(self, strides: Pair = (1, 1), padding: Padding = ((0, 0), (0, 0)), dilation: Pair = (1, 1),
                 groups: int = 1, relu: bool = False) -> None:
        self.strides, self.padding, self.dilation = tuple(strides), padding, tuple(dilation)
        self.groups, self.relu = groups, relu

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        n, oh, ow, f = self.prepare(x, kernel, bias)
        y = get_array_module(x).empty((n, oh, ow, f), dtype=x.dtype)
        self.saved = run_chunks(lambda sl: self.forward_rows(x[sl], y[sl]), self.chunks)
        if self.relu:
            self.y = y
        return y

    def backward(self, grad: Any) -> tuple[Any, ...]:
        want_k, want_b = self.needs_grad(1), self.has_bias and self.needs_grad(2)
        dxpad = get_array_module(grad).zeros(self.xp_shape, dtype=grad.dtype) if self.needs_grad(0) else None
        self.prepare_backward()

        def run(sl: slice, saved: Any) -> Any:
            g = grad[sl] * (self.y[sl] > 0) if self.relu else grad[sl]
            return self.backward_rows(saved, g, None if dxpad is None else dxpad[sl], want_k or want_b)

        dk, db = self.weight_grads(run_chunks(run, self.chunks, self.saved), want_k, want_b)
        return (None if dxpad is None else unpad(dxpad, self.padding)), dk, db

    def prepare(self, x: Any, kernel: Any, bias: Any) -> tuple[int, int, int, int]:
        """Check the shapes, keep the geometry, the kernel as the products want it (`prepare_kernel`) and the batch
        chunks; return the output shape (N, OH, OW, F)."""
        kh, kw, cg, f = kernel.shape
        g = self.groups
        if x.ndim != 4 or x.shape[3] != cg * g or f % g:
            raise ValueError(f"expected NHWC inputs with {cg * g} channels for a kernel {kernel.shape} and "
                             f"groups={g}, got inputs of shape {x.shape}")
        (t, b), (left, r) = self.padding
        n, h, w, _ = x.shape
        self.xp_shape = (n, h + t + b, w + left + r, cg * g)
        oh, ow = self.out_hw = valid_output_hw(self.xp_shape[1:3], (kh, kw), self.strides, self.dilation)
        self.kernel, self.has_bias = kernel, bias is not None
        self.prepare_kernel(kernel, bias)
        self.chunks = batch_chunks(n, oh * ow * (kh * kw * cg + f))
        return n, oh, ow, f

    def prepare_kernel(self, kernel: Any, bias: Any) -> None:
        """Keep w = [k; b], the kernel as a matrix with the bias as its last row, per group."""
        xp = get_array_module(kernel)
        kh, kw, cg, f = kernel.shape
        w = kernel.reshape(kh * kw * cg, f)
        if bias is not None:
            w = xp.concatenate([w, bias.reshape(1, f).astype(w.dtype, copy=False)])
        self.w = w.reshape(-1, self.groups, f // self.groups).transpose(1, 0, 2)  # (groups, kh*kw*cg [+ 1], F/groups)

    def prepare_backward(self) -> None:
        """Set up what `backward_rows` needs beyond the forward's state, once before the chunks of a backward pass
        (nothing here)."""

    def forward_rows(self, x: Any, out: Any) -> Any:
        """out (N, OH, OW, F) = the convolution of images x (a batch chunk): cols @ w, then the ReLU; returns cols
        (kept for backward)."""
        xp = get_array_module(x)
        kh, kw, _, f = self.kernel.shape
        (oh, ow), g = self.out_hw, self.groups
        cols = im2col(pad_spatial(x, self.padding), kh, kw, oh, ow, self.strides, self.dilation, g,
                      ones=self.has_bias)
        rows = out.reshape(-1, f)
        if g == 1:
            xp.matmul(cols[0], self.w[0], out=rows)
        else:
            rows.reshape(-1, g, f // g)[...] = (cols @ self.w).transpose(1, 0, 2)
        if self.relu:
            relu_inplace(rows)
        return cols

    def backward_rows(self, cols: Any, g: Any, dxpad: Any, weights: bool) -> Any:
        """For a batch chunk with cols and output gradient g (N, OH, OW, F): the input gradient added into its padded
        dxpad (when not None); returns its part of [dk; db] = cols^T g (None unless `weights`)."""
        xp = get_array_module(g)
        kh, kw, cg, f = self.kernel.shape
        (oh, ow), groups = self.out_hw, self.groups
        g2 = g.reshape(-1, f)
        gg = g2[None] if groups == 1 else g2.reshape(-1, groups, f // groups).transpose(1, 0, 2)  # (groups, m, F/g)
        if dxpad is not None:
            # the kernel's rows tap by tap, transposed: (kh*kw, groups, F/groups, cg)
            taps_w = self.kernel.reshape(kh * kw, cg, groups, f // groups).transpose(0, 2, 3, 1)
            taps = xp.matmul(gg, taps_w)  # every tap's contribution: (kh*kw, groups, m, cg)
            col2im(taps.reshape(kh, kw, groups, g.shape[0], oh, ow, cg), dxpad, oh, ow, self.strides, self.dilation)
        return cols.swapaxes(1, 2) @ gg if weights else None

    def weight_grads(self, parts: list[Any], kernel: bool, bias: bool) -> tuple[Any, Any]:
        """(dk, db) from the chunks' parts of [dk; db], each None unless asked for (`kernel`, `bias`)."""
        if not (kernel or bias):
            return None, None
        kh, kw, cg, f = self.kernel.shape
        dkb = sum_parts(parts)
        dkb = dkb[0] if self.groups == 1 else dkb.transpose(1, 0, 2).reshape(-1, f)
        dk = dkb[:kh * kw * cg].reshape(self.kernel.shape) if kernel else None
        return dk, (dkb[-1] if bias else None)


class Conv2DWinograd(Conv2D):
    """The same convolution for a 3x3 kernel at stride 1 (one group, no dilation), as Winograd F(4x4, 3x3) tiles
    (`shendu.ops.winograd`): y = A^T [U . V] A with U = G k G^T and V = B^T d B for every 6x6 input tile d, the
    element-wise product summed over the channels as 36 matrix products; then + b and the ReLU. A quarter of the
    arithmetic of im2col.

    Backward: with W = A g A^T, dU = V^T W (dk = G^T dU G) and dV = W U^T (dx += B dV B^T); db = sum of g. The
    transforms run as compiled loops with numba, else as the NumPy reference; `conv2d` picks this op where it pays.
    """

    def prepare_kernel(self, kernel: Any, bias: Any) -> None:
        """Keep U = G k G^T (36, C, F) and the bias (U^T is made by `prepare_backward`)."""
        if not winograd.supports(kernel.shape, self.strides, self.dilation, self.groups):
            raise ValueError(f"Winograd F(4x4, 3x3) needs a 3x3 kernel, stride 1, no dilation and one group, got a "
                             f"kernel {kernel.shape}, strides {self.strides}, dilation {self.dilation} and "
                             f"groups={self.groups}")
        self.u, self.bias, self.u_t = winograd.transform_kernel(kernel), bias, None

    def prepare_backward(self) -> None:
        """Keep U^T (36, F, C) contiguous: the input gradient's products dV = W U^T run faster on it than on a
        transposed view of U (32 images: 0.53 -> 0.37 ms)."""
        self.u_t = get_array_module(self.u).ascontiguousarray(self.u.transpose(0, 2, 1))

    def forward_rows(self, x: Any, out: Any) -> Any:
        """out (N, OH, OW, F) = the convolution of images x (a batch chunk), + b, then the ReLU; returns their
        transformed tiles V (kept for backward)."""
        v = winograd.forward(pad_spatial(x, self.padding), self.u, out, self.bias)
        if self.relu:
            relu_inplace(out)
        return v

    def pools(self, pool: Any) -> bool:
        """Whether `forward_pooled_rows` covers this pool: 2x2 windows at stride 2, no padding, the compiled loops."""
        return (pool.compiled and winograd.compiled(self.kernel) and tuple(pool.pool) == (2, 2)
                and tuple(pool.strides) == (2, 2) and pool.padding == ((0, 0), (0, 0)))

    def forward_pooled_rows(self, x: Any, out: Any, idx: Any, relu: bool) -> Any:
        """`forward_rows` and then the pool that `pools` accepts, in the output transform: out (N, OH // 2, OW // 2,
        F) the pooled output, then the ReLU when relu; idx its winners; the unpooled output is never stored."""
        return winograd.forward(pad_spatial(x, self.padding), self.u, out, self.bias, pool=(idx, relu))

    def backward_rows(self, v: Any, g: Any, dxpad: Any, weights: bool) -> Any:
        """For a batch chunk with tiles V and output gradient g (N, OH, OW, F): the input gradient added into its
        padded dxpad (when not None); returns its part of (dU, db) (None unless `weights`)."""
        du = winograd.backward(v, self.u, g, dxpad, weights, self.u_t)
        return (du, sum_rows(g.reshape(-1, g.shape[3]))) if weights else None

    def backward_pooled_rows(self, v: Any, g: Any, pool: Any, idx: Any, y: Any, dxpad: Any, weights: bool) -> Any:
        """`backward_rows` from the gradient g of `forward_pooled_rows`'s pooled output y (masked by y > 0 when y is
        not None: the ReLU after the pool), the pool's gradient made inside the output-gradient transform
        (`kernels.winograd_output_grad_pool`), so that the conv's unpooled gradient is never stored."""
        th, tw = winograd.tiles(*self.out_hw)
        f = g.shape[3]
        w = np.empty((winograd.POSITIONS, g.shape[0] * th * tw, f), dtype=g.dtype)
        db = np.empty(f if weights else 0, dtype=g.dtype)
        kernels.winograd_output_grad_pool(g, g if y is None else y, y is not None, idx, pool.h_exact and pool.w_exact,
                                          th, tw, w, db)
        du = winograd.backward_tiles(v, self.u, w, (th, tw), dxpad, weights, self.u_t)
        return (du, db) if weights else None

    def weight_grads(self, parts: list[Any], kernel: bool, bias: bool) -> tuple[Any, Any]:
        """(dk, db) = (G^T dU G, db) from the chunks' parts of (dU, db), each None unless asked for."""
        dk = winograd.kernel_grad(sum_parts([p[0] for p in parts])) if kernel else None
        return dk, (sum_parts([p[1] for p in parts]) if bias else None)


def conv2d_class(x: Any, kernel: Any, strides: Pair = (1, 1), dilation: Pair = (1, 1), groups: int = 1,
                 **_: Any) -> type[Conv2D]:
    """The op that computes a convolution of x with kernel (Conv2D's parameters; only these matter): Conv2DWinograd
    where it pays (`winograd.applies`: the compiled transforms, 3x3, stride 1, many channels), else Conv2D."""
    return Conv2DWinograd if winograd.applies(x, kernel, strides, dilation, groups) else Conv2D


def conv2d(x: Tensor, kernel: Tensor, bias: Tensor | None = None, **params: Any) -> Tensor:
    """The convolution of x with kernel (+ bias), `params` those of Conv2D, by the op `conv2d_class` picks."""
    op = conv2d_class(x.data, kernel.data, **params)
    return op.apply(x, kernel, **params) if bias is None else op.apply(x, kernel, bias, **params)


class Conv2DTranspose(Function):
    """The transpose (adjoint) of a strided, dilated convolution: every input pixel scatters x[n, h, w] @ k_ij^T
    to full[n, h s_h + i d_h, w s_w + j d_w], then y = full cropped by `crop` (top, left) to `out_hw`
    (zeros where it reaches past full), plus bias and an optional fused ReLU. Kernel (kh, kw, F, C) as Keras.

    Backward: the crop's adjoint gives g_full; cols = im2col(g_full); dx = cols @ k, dk = cols^T x. Both passes
    run on batch chunks in parallel (`shendu.parallel`).
    """

    def __init__(self, out_hw: Pair, crop: Pair = (0, 0), strides: Pair = (1, 1), dilation: Pair = (1, 1),
                 relu: bool = False) -> None:
        self.out_hw, self.crop = tuple(out_hw), tuple(crop)
        self.strides, self.dilation, self.relu = tuple(strides), tuple(dilation), relu

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        xp = get_array_module(x)
        kh, kw, f, c = kernel.shape
        if x.ndim != 4 or x.shape[3] != c:
            raise ValueError(f"expected NHWC inputs with {c} channels for a kernel {kernel.shape}, got {x.shape}")
        n, h, w, _ = x.shape
        self.x, self.kernel = x, kernel
        self.full = tuple(conv_transpose_output_length(n, k, s, "valid", 0, d)  # (L - 1) s + k_eff
                          for n, k, s, d in zip((h, w), (kh, kw), self.strides, self.dilation))
        taps_w = kernel.reshape(kh * kw, f, c).transpose(0, 2, 1)  # (kh*kw, C, F)
        y = xp.empty((n, *self.out_hw, f), dtype=xp.result_type(x, kernel))

        def run(sl: slice) -> None:
            m = sl.stop - sl.start
            taps = xp.matmul(x[sl].reshape(-1, c), taps_w).reshape(kh, kw, 1, m, h, w, f)
            full = col2im(taps, xp.zeros((m, *self.full, f), dtype=taps.dtype), h, w, self.strides, self.dilation)
            y[sl] = self._crop(full)
            bias_relu(y[sl].reshape(-1, f), bias, self.relu)

        self.chunks = batch_chunks(n, h * w * kh * kw * f * (c + 1))
        run_chunks(run, self.chunks)
        if self.relu:
            self.y = y
        return y

    def _crop(self, full: Any) -> Any:
        """full (N, FH, FW, F) -> (N, OH, OW, F): rows crop_h ... crop_h + OH - 1, zeros past the end."""
        xp = get_array_module(full)
        (t, left), (oh, ow) = self.crop, self.out_hw
        if full.shape[1] - t >= oh and full.shape[2] - left >= ow:
            return full[:, t:t + oh, left:left + ow]
        out = xp.zeros((full.shape[0], oh, ow, full.shape[3]), dtype=full.dtype)
        part = full[:, t:t + oh, left:left + ow]
        out[:, :part.shape[1], :part.shape[2]] = part
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        x, kernel = self.x, self.kernel
        kh, kw, f, c = kernel.shape
        h, w = x.shape[1:3]
        if self.relu:
            grad = grad * (self.y > 0)
        db = grad.reshape(-1, f).sum(axis=0) if len(self.inputs) == 3 and self.needs_grad(2) else None
        (t, left), (oh, ow) = self.crop, self.out_hw
        dx = xp.empty(x.shape, dtype=grad.dtype) if self.needs_grad(0) else None

        def run(sl: slice) -> Any:
            gfull = xp.zeros((sl.stop - sl.start, *self.full, f), dtype=grad.dtype)
            part = gfull[:, t:t + oh, left:left + ow]
            part[...] = grad[sl, :part.shape[1], :part.shape[2]]
            cols = im2col(gfull, kh, kw, h, w, self.strides, self.dilation)[0]  # (n*h*w, kh*kw*F)
            if dx is not None:
                xp.matmul(cols, kernel.reshape(-1, c), out=dx[sl].reshape(-1, c))
            return cols.T @ x[sl].reshape(-1, c) if self.needs_grad(1) else None

        parts = run_chunks(run, self.chunks)
        dk = sum_parts(parts).reshape(kernel.shape) if self.needs_grad(1) else None
        return dx, dk, db


class DepthwiseConv2D(Function):
    """y[n, p, q, c m + k] = sum_{i,j} xpad[n, p s_h + i d_h, q s_w + j d_w, c] w[i, j, c, k] (+ b), the kernel
    (kh, kw, C, depth_multiplier) as Keras; each channel is filtered on its own. Computed tap by tap with
    element-wise products into a (k, N, OH, OW, C) buffer, so that every pass runs along the channels.

    Backward: dw[i, j, :, k] = sum over pixels of window_ij(x) * g_k; dx = scatter-add of g_k * w[i, j, :, k].
    """

    def __init__(self, strides: Pair = (1, 1), padding: Padding = ((0, 0), (0, 0)), dilation: Pair = (1, 1),
                 relu: bool = False) -> None:
        self.strides, self.padding, self.dilation, self.relu = tuple(strides), padding, tuple(dilation), relu

    def _windows(self, kh: int, kw: int) -> Any:
        oh, ow = self.out_hw
        for i in range(kh):
            rows = window(i * self.dilation[0], oh, self.strides[0])
            for j in range(kw):
                yield i, j, (slice(None), rows, window(j * self.dilation[1], ow, self.strides[1]))

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        xp = get_array_module(x)
        kh, kw, c, dm = kernel.shape
        if x.ndim != 4 or x.shape[3] != c:
            raise ValueError(f"expected NHWC inputs with {c} channels for a kernel {kernel.shape}, got {x.shape}")
        (t, b), (left, r) = self.padding
        n, h, w, _ = x.shape
        self.xp_shape = (n, h + t + b, w + left + r, c)
        oh, ow = self.out_hw = valid_output_hw(self.xp_shape[1:3], (kh, kw), self.strides, self.dilation)
        self.kernel = kernel
        out = xp.empty((n, oh, ow, c * dm), dtype=x.dtype)
        self.chunks = batch_chunks(n, oh * ow * c * dm * kh * kw)
        self.xpads = run_chunks(lambda sl: self._forward_rows(x[sl], bias, out[sl]), self.chunks)
        if self.relu:
            self.y = out
        return out

    def _forward_rows(self, x: Any, bias: Any, out: Any) -> Any:
        """The output of images x (a batch chunk) into `out`; returns them padded (kept for backward)."""
        xp = get_array_module(x)
        kernel = self.kernel
        kh, kw, c, dm = kernel.shape
        xpad = pad_spatial(x, self.padding)
        y = xp.empty((dm, *out.shape[:3], c), dtype=x.dtype)
        tmp = xp.empty(y.shape[1:], dtype=x.dtype)
        for i, j, win in self._windows(kh, kw):
            for k in range(dm):
                if i == j == 0:
                    xp.multiply(xpad[win], kernel[i, j, :, k], out=y[k])
                else:
                    xp.multiply(xpad[win], kernel[i, j, :, k], out=tmp)
                    y[k] += tmp
        out[...] = (y[0] if dm == 1 else y.transpose(1, 2, 3, 4, 0)).reshape(out.shape)
        bias_relu(out.reshape(-1, c * dm), bias, self.relu)
        return xpad

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        c, dm = self.kernel.shape[2:]
        g2 = grad.reshape(-1, c * dm)
        if self.relu:
            g2 = g2 * (self.y.reshape(-1, c * dm) > 0)
        g4 = g2.reshape(grad.shape)
        db = g2.sum(axis=0) if len(self.inputs) == 3 and self.needs_grad(2) else None
        dxp = xp.zeros(self.xp_shape, dtype=grad.dtype) if self.needs_grad(0) else None
        parts = run_chunks(lambda sl, xpad: self._backward_rows(xpad, g4[sl], None if dxp is None else dxp[sl]),
                           self.chunks, self.xpads)
        dk = sum_parts(parts) if self.needs_grad(1) else None
        dx = None if dxp is None else unpad(dxp, self.padding)
        return dx, dk, db

    def _backward_rows(self, xpad: Any, grad: Any, dxp: Any) -> Any:
        """For images (a batch chunk) padded as xpad with output gradient grad: their input gradient added into
        dxp (when not None) and their part of the kernel gradient returned (None when not wanted)."""
        xp = get_array_module(grad)
        kernel = self.kernel
        kh, kw, c, dm = kernel.shape
        gk = grad.reshape(*grad.shape[:3], c, dm)
        gk = gk[None, ..., 0] if dm == 1 else xp.ascontiguousarray(gk.transpose(4, 0, 1, 2, 3))  # (dm, n, OH, OW, C)
        dk = xp.empty_like(kernel) if self.needs_grad(1) else None
        tmp = xp.empty(gk.shape[1:], dtype=grad.dtype)
        for i, j, win in self._windows(kh, kw):
            for k in range(dm):
                if dk is not None:
                    dk[i, j, :, k] = xp.einsum("nhwc,nhwc->c", xpad[win], gk[k])
                if dxp is not None:
                    xp.multiply(gk[k], kernel[i, j, :, k], out=tmp)
                    dxp[win] += tmp
        return dk
