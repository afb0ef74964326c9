"""The graph node: a `Function` computes its forward pass on raw arrays and its backward pass likewise."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from shendu import devices, grad_mode
from shendu.tensor import Tensor, make_tensor

_next_seq = itertools.count(1).__next__


record_hook: Callable[[tuple[Tensor, ...]], None] | None = None
"""Called with the inputs of each recorded node while a GradientTape records (`tf.GradientTape.watched_variables`)."""


class GradFlag:
    """What `Function.needs_grad` reads of an op's input where the op runs outside the graph (the lean training
    step; a block inside a fused op): whether a gradient flows to that input."""

    __slots__ = ("requires_grad",)

    def __init__(self, requires_grad: bool) -> None:
        self.requires_grad = requires_grad


class Function:
    """Base class of every differentiable op.

    Subclasses implement `forward(*arrays) -> array` and `backward(grad) -> tuple of input grads`
    (one per input, `None` where an input needs none). Parameters go to `__init__`. A backward may
    return a gradient in the broadcast shape: the engine sums it back to the input's shape.
    """

    inputs: tuple[Tensor, ...] | None = None  # set when recorded; None again once released
    seq = 0  # creation number of a recorded node: a node is numbered after the nodes of its inputs

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def needs_grad(self, i: int) -> bool:
        """Whether input i wants a gradient; lets backward skip work nobody uses."""
        return self.inputs[i].requires_grad

    def release(self) -> None:
        """Drop the inputs and saved arrays once backward is done, freeing the graph."""
        vars(self).clear()

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run forward on the inputs' arrays and record this node when any input needs a gradient."""
        fn = cls(**params)
        try:
            out = fn.forward(*[t.data for t in inputs])
        except (TypeError, ValueError) as err:
            mixed = devices.mixed_devices(cls.__name__, [t.data for t in inputs])
            if mixed is not None:  # a CPU array met a GPU one: say so rather than CuPy's "Unsupported type"
                raise mixed from None
            if isinstance(err, TypeError):
                raise
            shapes = " and ".join(str(t.data.shape) for t in inputs)
            raise ValueError(f"{cls.__name__}: cannot apply to shapes {shapes}: {err}") from None
        if grad_mode.state.enabled:
            for t in inputs:
                if t.requires_grad:
                    fn.inputs = inputs
                    fn.seq = _next_seq()
                    if record_hook is not None:
                        record_hook(inputs)
                    return make_tensor(out, fn)
        return make_tensor(out, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back to an input's shape: the one place broadcasting is undone.

    Broadcasting prepends axes and stretches axes of length one, so sum the leading extra axes away,
    then sum (keeping them) the axes where the input has length one.
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    if grad.shape != shape:
        grad = grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
    return grad
