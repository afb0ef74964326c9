"""Two independent ops as one graph node whose forward passes, and later backward passes, run at once on two of
shendu's threads: the two directions of a Bidirectional recurrent layer, whose time loops cannot be split over cores
but do not depend on each other. The fused recurrences spend most of their time in compiled loops and BLAS without
the GIL, so the two run side by side; ops that would hold the GIL (`releases_gil` False or absent: the NumPy loops)
run one after the other.

The output is the two outputs concatenated along the last axis (their other axes must match); its gradient is split
the same way. Each op computes exactly what it computes alone (the tests compare with the two ops applied one after
the other); on one thread, or on a GPU, they run one after the other.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from shendu import grad_mode
from shendu.backend import get_array_module
from shendu.ops.function import Function
from shendu.parallel import MIN_PRODUCT_WORK, batch_chunks, one_blas_thread, run_chunks
from shendu.tensor import Tensor


class Concurrent(Function):
    """ops[0] on inputs[:split] and ops[1] on inputs[split:], with their params; out = concat(out0, out1, axis=-1)."""

    def __init__(self, ops: tuple[type, type], params: tuple[dict, dict], split: int) -> None:
        self.ops = [ops[0](**params[0]), ops[1](**params[1])]
        self.split = split

    @classmethod
    def apply(cls, *inputs: Tensor, ops: tuple[type, type], params: tuple[dict, dict], split: int) -> Tensor:
        """As `Function.apply`; an op that keeps backward factors only when asked (the fused recurrences' `keep`)
        gets it from its own inputs, as its own `apply` would decide."""
        parts = (inputs[:split], inputs[split:])
        recording = grad_mode.state.enabled
        params = tuple({**p, "keep": recording and any(t.requires_grad for t in part)} if _takes_keep(op) else p
                       for op, p, part in zip(ops, params, parts))
        with one_blas_thread():
            return super().apply(*inputs, ops=ops, params=params, split=split)

    def forward(self, *arrays: Any) -> Any:
        parts = (arrays[:self.split], arrays[self.split:])
        self.side_by_side = all(getattr(op, "releases_gil", _holds_gil)(part[0]) for op, part in zip(self.ops, parts))
        outs = _both(lambda i: self.ops[i].forward(*parts[i]), self.side_by_side)
        self.width = outs[0].shape[-1]
        return get_array_module(outs[0]).concatenate(outs, axis=-1)

    def backward(self, g: Any) -> tuple[Any, ...]:
        xp = get_array_module(g)
        self.ops[0].inputs, self.ops[1].inputs = self.inputs[:self.split], self.inputs[self.split:]
        gs = (xp.ascontiguousarray(g[..., :self.width]), xp.ascontiguousarray(g[..., self.width:]))
        with one_blas_thread():
            grads = _both(lambda i: self.ops[i].backward(gs[i]), self.side_by_side)
        return (*grads[0], *grads[1])


def _both(run: Callable[[int], Any], side_by_side: bool) -> list[Any]:
    """[run(0), run(1)], at once on two threads when both ops release the GIL and shendu has two threads, else one
    after the other."""
    if side_by_side and len(batch_chunks(2, MIN_PRODUCT_WORK, MIN_PRODUCT_WORK)) == 2:
        return run_chunks(lambda sl: run(sl.start), [slice(0, 1), slice(1, 2)])
    return [run(0), run(1)]


@functools.cache
def _takes_keep(op: type) -> bool:
    """Whether the op's constructor has a `keep` parameter (read once per op class, not at every call)."""
    return "keep" in inspect.signature(op).parameters


def _holds_gil(x: Any) -> bool:
    """An op that does not say otherwise is taken to hold the GIL (NumPy passes on small arrays mostly do)."""
    return False
