"""A convolution, its ReLU and the max pooling after it as one op: the commonest block of a CNN.

Per batch chunk the convolution's output is pooled at once, while it is still in cache, and the ReLU is applied
after the pool, on the pooled values only: max and ReLU commute (ReLU is non-decreasing), and the gradient is
the same, since the winner of a window passed the ReLU exactly when the window's max is positive. The chunks
run in parallel (`shendu.parallel`), one hand-off for the three ops instead of one per op.

Without numba, a pool whose windows tile the convolution's output runs phase by phase (`conv_pool_phases`): one
convolution per window element, so that the pool is a max over contiguous arrays.

A first layer (no input gradient) with few input taps, e.g. 3x3 on grey or RGB images, runs as one compiled loop
when numba is there (`kernels.conv_max_pool`): a product with so few terms is bound by memory, not arithmetic, and
the loop never stores the unpooled output nor, in backward, its gradient.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import conv_pool_phases, kernels
from shendu.ops.conv import Conv2DWinograd, conv2d_class, pad_spatial, unpad
from shendu.ops.function import Function, GradFlag
from shendu.ops.pool import MaxPool2D
from shendu.parallel import Balance, run_chunks, sum_parts

Backward = tuple[Callable[[slice, Any], Any], Callable[[list[Any]], tuple[Any, ...]]]
"""A backward pass set up: (the function of a chunk's rows and its forward part, the function of all the chunks'
results that returns the gradients)."""

MAX_DIRECT_TAPS = 32
"""Input taps (kh kw C) up to which a first layer runs as the compiled loop instead of im2col and a product."""


class Conv2DMaxPool(Function):
    """y = max_pool(conv2d(x, kernel) + bias), followed by ReLU when `relu`; `conv` holds Conv2D's parameters
    (strides, padding, dilation, groups) and `pool` MaxPool2D's (pool_size, strides, padding); `input_grad`
    False says that x will want no gradient (a first layer), which allows the compiled loop.

    The convolution and the pool are this op's own helpers (the convolution the op `conv2d_class` picks, im2col or
    Winograd), whose passes it runs chunk by chunk. Backward: g masked by y > 0 (the ReLU), sent to each window's
    winner (the pool), then the convolution's backward on those rows.
    """

    def __init__(self, conv: dict[str, Any], pool: dict[str, Any], relu: bool = False,
                 input_grad: bool = True) -> None:
        self.conv_params, self.pool, self.relu, self.input_grad = conv, MaxPool2D(**pool), relu, input_grad

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        rows = self.start(x, kernel, bias)
        self.parts = run_chunks(rows, self.chunks)
        return self.y

    def start(self, x: Any, kernel: Any, bias: Any = None) -> Callable[[slice], Any]:
        """Set up the pass over images x: `y` (the output, allocated, not yet computed), `chunks`, and the function
        that computes y's rows sl and returns what backward keeps of them (forward runs it on each chunk). Reads
        only x's shape and type, so x may be another op's output still being computed."""
        xp = get_array_module(x)
        op = conv2d_class(x, kernel, **self.conv_params)
        conv = self.conv = op(**self.conv_params)
        pool = self.pool
        n, oh, ow, f = conv.prepare(x, kernel, bias)
        self.chunks = conv.chunks
        pool.setup((n, oh, ow, f))
        y = self.y = xp.empty(pool.out_shape, dtype=x.dtype)
        self.direct = self._direct(x, kernel)
        self.phases = not self.direct and conv_pool_phases.applies(conv, pool, x)
        self.pooled_transform = isinstance(conv, Conv2DWinograd) and conv.pools(pool) and xp is np
        if self.direct:
            loop = kernels.conv_max_pool(*self.geometry)
            w = xp.ascontiguousarray(kernel.reshape(-1, f))
            b = xp.zeros(f, dtype=x.dtype) if bias is None else bias

            def direct(sl: slice) -> tuple[Any, Any]:
                xs = pad_spatial(x[sl], conv.padding)
                idx = np.empty(y[sl].shape, dtype=np.uint8)
                loop(xs, w, b, self.relu, y[sl], idx)
                return xs, idx

            return direct
        if self.phases:
            return lambda sl: conv_pool_phases.forward_rows(conv, pool, x[sl], y[sl], self.relu)
        if self.pooled_transform:

            def pooled(sl: slice) -> tuple[Any, Any]:
                idx = np.empty(y[sl].shape, dtype=np.uint8)
                return conv.forward_pooled_rows(x[sl], y[sl], idx, self.relu), idx

            return pooled

        def run(sl: slice) -> tuple[Any, Any]:
            z = xp.empty((sl.stop - sl.start, oh, ow, f), dtype=x.dtype)
            saved = conv.forward_rows(x[sl], z)
            return saved, pool.forward_rows(z, y[sl], self.relu)

        return run

    def _direct(self, x: Any, kernel: Any) -> bool:
        """Whether this first layer runs as the compiled loop (its geometry kept for the loops)."""
        kh, kw, c, f = kernel.shape
        conv, pool = self.conv, self.pool
        self.geometry = (kh, kw, c, f, *conv.strides, *conv.dilation, *pool.pool, *pool.strides)
        return (not self.input_grad and kernels.enabled() and get_array_module(x) is np and conv.groups == 1
                and kh * kw * c <= MAX_DIRECT_TAPS and pool.compiled and pool.padding == ((0, 0), (0, 0)))

    def backward(self, g: Any) -> tuple[Any, ...]:
        rows, finish = self.start_backward(g)
        return finish(run_chunks(rows, self.chunks, self.parts))

    def start_backward(self, g: Any) -> Backward:
        """Set up the backward of output gradient g: (the function of rows sl and their forward part that writes
        their input gradient into `dx` (when wanted) and returns their share of the weight gradients, the function
        of those shares that returns (dx, dkernel, dbias)). Reads g's rows sl only in the first."""
        xp = get_array_module(g)
        conv, pool = self.conv, self.pool
        want_k, want_b = self.needs_grad(1), conv.has_bias and self.needs_grad(2)
        if self.needs_grad(0) and not self.input_grad:
            raise RuntimeError("Conv2DMaxPool: built with input_grad=False, but its input wants a gradient")
        if self.direct:
            return self._direct_weight_grads(g, want_k, want_b)
        dxpad = xp.zeros(conv.xp_shape, dtype=g.dtype) if self.needs_grad(0) else None
        self.dx = None if dxpad is None else unpad(dxpad, conv.padding)
        conv.prepare_backward()

        def run(sl: slice, part: tuple[Any, Any]) -> Any:
            if self.phases:
                return conv_pool_phases.backward_rows(conv, pool, part, g[sl], self.y[sl],
                                                      None if dxpad is None else dxpad[sl], want_k or want_b,
                                                      self.relu)
            saved, idx = part
            if self.pooled_transform:
                return conv.backward_pooled_rows(saved, g[sl], pool, idx, self.y[sl] if self.relu else None,
                                                 None if dxpad is None else dxpad[sl], want_k or want_b)
            gz = xp.empty((sl.stop - sl.start, *pool.xpad_shape[1:]), g.dtype)
            gz = pool.unpad(pool.backward_rows(g[sl], idx, gz, self.y[sl] if self.relu else None))
            return conv.backward_rows(saved, xp.ascontiguousarray(gz), None if dxpad is None else dxpad[sl],
                                      want_k or want_b)

        def finish(parts: list[Any]) -> tuple[Any, ...]:
            return (self.dx, *conv.weight_grads(parts, want_k, want_b))

        return run, finish

    def _direct_weight_grads(self, g: Any, want_k: bool, want_b: bool) -> Backward:
        """`start_backward` of the compiled loop: each chunk's (dk, db), then their sums (None unless wanted)."""
        kernel, f = self.conv.kernel, self.conv.kernel.shape[3]
        loop = kernels.conv_max_pool_grad(*self.geometry)
        self.dx = None

        def run(sl: slice, part: tuple[Any, Any]) -> tuple[Any, Any]:
            xs, idx = part
            dk, db = np.zeros((kernel.size // f, f), dtype=g.dtype), np.zeros(f, dtype=g.dtype)
            loop(xs, g[sl], self.y[sl], self.relu, idx, dk, db)
            return dk, db

        def finish(parts: list[Any]) -> tuple[Any, ...]:
            dk = sum_parts([p[0] for p in parts]).reshape(kernel.shape) if want_k else None
            db = sum_parts([p[1] for p in parts]) if want_b else None
            return None, dk, db

        return run, finish


class ConvPoolChain(Function):
    """Two Conv2DMaxPool blocks run depth first: each batch chunk goes through the first block and at once, on the
    same thread, through the second (the first block's output rows still in cache); backward likewise from the
    second block to the first. One hand-off to the threads per pass instead of one per block. Inputs: x, the first
    block's kernel (and bias), the second's kernel (and bias); `first` and `second` are each block's
    Conv2DMaxPool arguments, and `biases` says which blocks have a bias. With a `parallel.Balance` (the lean
    training step's), the calling thread's chunk is larger by the rows the balance has learned, and both passes
    report to it who waited."""

    def __init__(self, first: dict[str, Any], second: dict[str, Any], biases: tuple[bool, bool],
                 balance: Balance | None = None) -> None:
        self.blocks = (Conv2DMaxPool(**first), Conv2DMaxPool(**second))
        self.biases, self.balance = biases, balance

    def forward(self, x: Any, *weights: Any) -> Any:
        a, b = self.blocks
        cut = 2 if self.biases[0] else 1
        first, second = weights[:cut], weights[cut:]
        rows_a = a.start(x, *first)
        rows_b = b.start(a.y, *second)
        if self.balance is not None:
            a.chunks = self.balance.split(a.chunks)
        start = time.perf_counter()
        parts = run_chunks(lambda sl: (rows_a(sl), rows_b(sl)), a.chunks, balance=self.balance)
        self.seconds = time.perf_counter() - start
        a.parts, b.parts = [p[0] for p in parts], [p[1] for p in parts]
        return b.y

    def backward(self, g: Any) -> tuple[Any, ...]:
        a, b = self.blocks
        cut = 2 if self.biases[0] else 1
        a.inputs = (self.inputs[0], *self.inputs[1:1 + cut])
        b.inputs = (GradFlag(any(t.requires_grad for t in a.inputs)), *self.inputs[1 + cut:])
        rows_b, finish_b = b.start_backward(g)
        start = time.perf_counter()
        if b.dx is None:  # nothing of the first block wants a gradient
            _, dk_b, db_b = finish_b(run_chunks(rows_b, a.chunks, b.parts, balance=self.balance))
            grads_a: tuple[Any, ...] = (None, None, None)
        else:
            rows_a, finish_a = a.start_backward(b.dx)

            def rows(sl: slice, part_a: Any, part_b: Any) -> tuple[Any, Any]:
                share_b = rows_b(sl, part_b)  # writes the rows of b.dx that rows_a reads next
                return share_b, rows_a(sl, part_a)

            parts = run_chunks(rows, a.chunks, a.parts, b.parts, balance=self.balance)
            grads_a = finish_a([p[1] for p in parts])
            _, dk_b, db_b = finish_b([p[0] for p in parts])
        if self.balance is not None:  # a row's time in both passes: theirs over the caller's rows
            first = a.chunks[0]
            self.balance.update((self.seconds + time.perf_counter() - start) / (first.stop - first.start))
        dx, dk_a, db_a = grads_a
        return (dx, dk_a, *((db_a,) if self.biases[0] else ()), dk_b, *((db_b,) if self.biases[1] else ()))

