"""Convolutions on channels-last images (NHWC) with Keras's kernel layouts.

A convolution is an im2col gather followed by one matrix product: the shifted windows of the (padded)
input are copied once into `cols` (rows: output pixels, columns: kernel taps x channels), and
y = cols @ kernel.reshape(kh*kw*C, F). Its backward is dkernel = cols^T g and, for the input, the products
g @ k_ij^T of every tap (one batched product, each tap's result contiguous), each scatter-added into its shifted
window. The batch is cut into chunks that run on shendu's threads (`shendu.parallel`), BLAS on one thread each.
With numba, 3x3 stride-1 convolutions with many channels run as Winograd tiles instead (`shendu.ops.winograd`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels, winograd
from shendu.ops.function import Function
from shendu.parallel import batch_chunks, run_chunks, sum_parts

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


# --- sizes and padding (Keras/TF conventions) -------------------------------------------------------
def conv_output_length(length: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Keras's output length: ceil((L - k_eff + 1) / s) for 'valid', ceil(L / s) for 'same' and 'causal',
    with k_eff = (k - 1) * dilation + 1. None stays None (an unknown length)."""
    if length is None:
        return None
    k_eff = (kernel - 1) * dilation + 1
    n = length - k_eff + 1 if padding == "valid" else length
    return (n + stride - 1) // stride


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
           ones: bool = False) -> Any:
    """The windows of x (N, H, W, C) as a (groups, N*oh*ow, kh*kw*C/groups) stack of matrices, taps
    ordered (i, j, c) like a Keras kernel's rows, by one strided copy. With ones=True each matrix gets a
    last column of ones, so that a bias row appended to the kernel is added inside the matrix product.
    With C == 1 the copy is made tap-major (contiguous runs along W) and returned as a transposed view."""
    xp = get_array_module(x)
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    (st_h, st_w), (d_h, d_w) = strides, dilation
    m, cg = n * oh * ow, c // groups
    k = kh * kw * cg
    as_strided = xp.lib.stride_tricks.as_strided
    if c == 1:
        cols = xp.empty((k + ones, m), dtype=x.dtype)
        view = as_strided(x, (kh, kw, n, oh, ow), (sh * d_h, sw * d_w, sn, sh * st_h, sw * st_w), writeable=False)
        cols[:k].reshape(view.shape)[...] = view
        cols = cols[None].swapaxes(1, 2)
    else:
        cols = xp.empty((groups, m, k + ones), dtype=x.dtype)
        view = as_strided(x, (groups, n, oh, ow, kh, kw, cg),
                          (cg * sc, sn, sh * st_h, sw * st_w, sh * d_h, sw * d_w, sc), writeable=False)
        cols[:, :, :k].reshape(view.shape)[...] = view
    if ones:
        cols[:, :, k] = 1
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


def _bias_relu(y: Any, bias: Any, relu: bool) -> Any:
    if bias is not None:
        y += bias
    return relu_inplace(y) if relu else y


# --- the ops ----------------------------------------------------------------------------------------
class Conv2D(Function):
    """y[n, p, q, f] = sum_{i,j,c} xpad[n, p s_h + i d_h, q s_w + j d_w, c] k[i, j, c, f] (+ b[f]), optionally
    followed by a fused ReLU. x is (N, H, W, C), the kernel Keras's (kh, kw, C/groups, F); `padding` is
    explicit ((top, bottom), (left, right)) (see `explicit_padding`). With groups, channel group g of x
    feeds filters g F/groups ... (g+1) F/groups - 1.

    Backward: dk = cols^T g, db = sum of g, dx = scatter-add of the taps g @ k_ij^T (skipped when x needs no
    gradient, e.g. for the first layer). Both passes run on batch chunks in parallel (`shendu.parallel`).
    The ReLU's mask is skipped when the gradient is `masked_grad`, one a max-pooling consumer already masked.
    Where `winograd.applies`, cols are Winograd tiles and the products those of `shendu.ops.winograd`.
    """

    def __init__(self, strides: Pair = (1, 1), padding: Padding = ((0, 0), (0, 0)), dilation: Pair = (1, 1),
                 groups: int = 1, relu: bool = False) -> None:
        self.strides, self.padding, self.dilation = tuple(strides), padding, tuple(dilation)
        self.groups, self.relu = groups, relu

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        n, oh, ow, f = self.prepare(x, kernel, bias)
        y = get_array_module(x).empty((n * oh * ow, f), dtype=x.dtype)
        self.cols = run_chunks(lambda sl: self.forward_rows(x, sl, y[sl.start * oh * ow:sl.stop * oh * ow]),
                               self.chunks)
        if self.relu:
            self.y = y
        return y.reshape(n, oh, ow, f)

    def prepare(self, x: Any, kernel: Any, bias: Any) -> tuple[int, int, int, int]:
        """Check the shapes, keep the geometry, the kernel as a matrix (bias row appended) and the batch chunks;
        return the output shape (N, OH, OW, F)."""
        xp = get_array_module(x)
        kh, kw, cg, f = kernel.shape
        g = self.groups
        if x.ndim != 4 or x.shape[3] != cg * g or f % g:
            raise ValueError(f"expected NHWC inputs with {cg * g} channels for a kernel {kernel.shape} and "
                             f"groups={g}, got inputs of shape {x.shape}")
        (t, b), (left, r) = self.padding
        n, h, w, _ = self.x_shape = x.shape
        self.xp_shape = (n, h + t + b, w + left + r, cg * g)
        oh = (self.xp_shape[1] - (kh - 1) * self.dilation[0] - 1) // self.strides[0] + 1
        ow = (self.xp_shape[2] - (kw - 1) * self.dilation[1] - 1) // self.strides[1] + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"the padded image {self.xp_shape[1:3]} is smaller than the dilated kernel "
                             f"{((kh - 1) * self.dilation[0] + 1, (kw - 1) * self.dilation[1] + 1)}")
        self.kernel, self.out_hw, self.has_bias = kernel, (oh, ow), bias is not None
        self.winograd = winograd.applies(x, kernel, self.strides, self.dilation, g)
        if self.winograd:
            self.u, self.bias = winograd.transform_kernel(kernel), bias
        else:
            w = kernel.reshape(kh * kw * cg, f)
            if bias is not None:
                w = xp.concatenate([w, bias.reshape(1, f).astype(w.dtype, copy=False)])
            self.w = w.reshape(-1, g, f // g).transpose(1, 0, 2)  # (groups, kh*kw*cg [+ 1], F/groups)
        self.chunks = batch_chunks(n, oh * ow * (kh * kw * cg + f))
        return n, oh, ow, f

    def forward_rows(self, x: Any, sl: slice, out: Any) -> Any:
        """The output of images x[sl] into `out` (one row per output pixel, F columns); returns their cols (their
        Winograd tiles on that path)."""
        xp = get_array_module(x)
        kh, kw, _, f = self.kernel.shape
        (oh, ow), g = self.out_hw, self.groups
        if self.winograd:
            tiles = winograd.forward(pad_spatial(x[sl], self.padding), self.u, out.reshape(-1, oh, ow, f))
            if self.bias is not None:
                out += self.bias
            if self.relu:
                relu_inplace(out)
            return tiles
        cols = im2col(pad_spatial(x[sl], self.padding), kh, kw, oh, ow, self.strides, self.dilation, g,
                      ones=self.has_bias)
        if g == 1:
            xp.matmul(cols[0], self.w[0], out=out)
        else:
            out.reshape(-1, g, f // g)[...] = (cols @ self.w).transpose(1, 0, 2)
        if self.relu:
            relu_inplace(out)
        return cols

    def backward(self, grad: Any) -> tuple[Any, ...]:
        oh, ow = self.out_hw
        f = self.kernel.shape[3]
        g2 = grad.reshape(-1, f)
        dxpad = get_array_module(grad).zeros(self.xp_shape, dtype=grad.dtype) if self.needs_grad(0) else None
        mask = self.y if self.relu and grad is not getattr(self, "masked_grad", None) else None

        def run(sl: slice, cols: Any) -> Any:
            rows = slice(sl.start * oh * ow, sl.stop * oh * ow)
            gc = g2[rows] if mask is None else g2[rows] * (mask[rows] > 0)
            return self.backward_rows(sl, cols, gc, dxpad)

        return (None if dxpad is None else unpad(dxpad, self.padding), *self.weight_grads(
            run_chunks(run, self.chunks, self.cols)))

    def wants_weight_grads(self) -> bool:
        """Whether the kernel or the bias wants a gradient (else backward skips cols^T g)."""
        return self.needs_grad(1) or (self.has_bias and self.needs_grad(2))

    def backward_rows(self, sl: slice, cols: Any, gc: Any, dxpad: Any) -> Any:
        """For images x[sl] with output gradient rows gc: their input gradient added into dxpad[sl] (when not
        None) and their part of [dk; db] returned (None when no weight gradient is wanted); on the Winograd path
        `cols` are the tiles and the part is (dU, db)."""
        xp = get_array_module(gc)
        kh, kw, cg, f = self.kernel.shape
        (oh, ow), g = self.out_hw, self.groups
        if self.winograd:
            wanted = self.wants_weight_grads()
            du = winograd.backward(cols, self.u, gc.reshape(-1, oh, ow, f), None if dxpad is None else dxpad[sl],
                                   wanted)
            return (du, gc.sum(axis=0)) if wanted else None
        gg = gc[None] if g == 1 else gc.reshape(-1, g, f // g).transpose(1, 0, 2)  # (groups, m, F/groups)
        if dxpad is not None:
            # the kernel's rows tap by tap, transposed: (kh*kw, groups, F/groups, cg)
            taps_w = self.kernel.reshape(kh * kw, cg, g, f // g).transpose(0, 2, 3, 1)
            taps = xp.matmul(gg, taps_w)  # every tap's contribution: (kh*kw, groups, m, cg)
            col2im(taps.reshape(kh, kw, g, sl.stop - sl.start, oh, ow, cg), dxpad[sl], oh, ow, self.strides,
                   self.dilation)
        return cols.swapaxes(1, 2) @ gg if self.wants_weight_grads() else None

    def weight_grads(self, parts: list[Any]) -> tuple[Any, Any]:
        """(dk, db) from the chunks' parts of [dk; db] (None where not wanted)."""
        if not self.wants_weight_grads():
            return None, None
        kh, kw, cg, f = self.kernel.shape
        if self.winograd:
            dk = winograd.kernel_grad(sum_parts([p[0] for p in parts])) if self.needs_grad(1) else None
            db = sum_parts([p[1] for p in parts]) if self.has_bias and self.needs_grad(2) else None
            return dk, db
        dkb = sum_parts(parts)
        dkb = dkb[0] if self.groups == 1 else dkb.transpose(1, 0, 2).reshape(-1, f)
        dk = dkb[:kh * kw * cg].reshape(self.kernel.shape) if self.needs_grad(1) else None
        db = dkb[-1] if self.has_bias and self.needs_grad(2) else None
        return dk, db


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
        self.full = ((h - 1) * self.strides[0] + (kh - 1) * self.dilation[0] + 1,
                     (w - 1) * self.strides[1] + (kw - 1) * self.dilation[1] + 1)
        taps_w = kernel.reshape(kh * kw, f, c).transpose(0, 2, 1)  # (kh*kw, C, F)
        y = xp.empty((n, *self.out_hw, f), dtype=xp.result_type(x, kernel))

        def run(sl: slice) -> None:
            m = sl.stop - sl.start
            taps = xp.matmul(x[sl].reshape(-1, c), taps_w).reshape(kh, kw, 1, m, h, w, f)
            full = col2im(taps, xp.zeros((m, *self.full, f), dtype=taps.dtype), h, w, self.strides, self.dilation)
            y[sl] = self._crop(full)
            _bias_relu(y[sl].reshape(-1, f), bias, self.relu)

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
        oh = (self.xp_shape[1] - (kh - 1) * self.dilation[0] - 1) // self.strides[0] + 1
        ow = (self.xp_shape[2] - (kw - 1) * self.dilation[1] - 1) // self.strides[1] + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"the padded image {self.xp_shape[1:3]} is smaller than the dilated kernel "
                             f"{((kh - 1) * self.dilation[0] + 1, (kw - 1) * self.dilation[1] + 1)}")
        self.kernel, self.out_hw = kernel, (oh, ow)
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
        _bias_relu(out.reshape(-1, c * dm), bias, self.relu)
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
