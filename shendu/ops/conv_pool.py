"""A convolution, its ReLU and the max pooling after it as one op: the commonest block of a CNN.

Per batch chunk the convolution's output is pooled at once, while it is still in cache, and the ReLU is applied
after the pool, on the pooled values only: max and ReLU commute (ReLU is non-decreasing), and the gradient is
the same, since the winner of a window passed the ReLU exactly when the window's max is positive. The chunks
run in parallel (`shendu.parallel`), one hand-off for the three ops instead of one per op.
"""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.conv import Conv2D, unpad
from shendu.ops.function import Function
from shendu.ops.pool import MaxPool2D
from shendu.parallel import run_chunks


class Conv2DMaxPool(Function):
    """y = max_pool(conv2d(x, kernel) + bias), followed by ReLU when `relu`; `conv` holds Conv2D's parameters
    (strides, padding, dilation, groups) and `pool` MaxPool2D's (pool_size, strides, padding).

    Backward: g masked by y > 0 (the ReLU), sent to each window's winner (the pool), then the convolution's
    backward on those rows.
    """

    def __init__(self, conv: dict[str, Any], pool: dict[str, Any], relu: bool = False) -> None:
        self.conv, self.pool, self.relu = Conv2D(**conv), MaxPool2D(**pool), relu

    def forward(self, x: Any, kernel: Any, bias: Any = None) -> Any:
        xp = get_array_module(x)
        conv, pool = self.conv, self.pool
        n, oh, ow, f = conv.prepare(x, kernel, bias)
        pool.setup((n, oh, ow, f))
        y = xp.empty(pool.out_shape, dtype=x.dtype)

        def run(sl: slice) -> tuple[Any, Any]:
            z = xp.empty(((sl.stop - sl.start) * oh * ow, f), dtype=x.dtype)
            cols = conv.forward_rows(x, sl, z)
            return cols, pool.forward_rows(z.reshape(-1, oh, ow, f), y[sl], self.relu)

        self.parts = run_chunks(run, conv.chunks)
        self.y = y
        return y

    def backward(self, g: Any) -> tuple[Any, ...]:
        xp = get_array_module(g)
        conv, pool = self.conv, self.pool
        conv.inputs = self.inputs  # the convolution asks which inputs want a gradient
        f = conv.kernel.shape[3]
        dxpad = xp.zeros(conv.xp_shape, dtype=g.dtype) if self.needs_grad(0) else None

        def run(sl: slice, part: tuple[Any, Any]) -> Any:
            cols, idx = part
            gz = xp.empty((sl.stop - sl.start, *pool.xpad_shape[1:]), g.dtype)
            gz = pool.unpad(pool.backward_rows(g[sl], idx, gz, self.y[sl] if self.relu else None))
            return conv.backward_rows(sl, cols, xp.ascontiguousarray(gz).reshape(-1, f), dxpad)

        dk, db = conv.weight_grads(run_chunks(run, conv.chunks, self.parts))
        return (None if dxpad is None else unpad(dxpad, conv.padding)), dk, db
