"""tf.custom_gradient: a function that returns its value and the function giving its gradient, as one graph node.

`f(*x)` returns `(y, grad_fn)`; the node's value is y and, in the backward pass, `grad_fn(upstream)` gives the
gradients of the inputs x (one per input, None where there is none). When f reads trainable variables, grad_fn must
take them as `grad_fn(upstream, variables=...)` and return `(input_grads, variable_grads)`, as in TensorFlow; the
variables are found by running f under a `tf.GradientTape` (`watched_variables`). The ops f runs are not
differentiated: grad_fn replaces them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu.creation import convert_to_tensor
from shendu.ops.function import Function
from shendu.tensor import Tensor
from shendu.tf.tape import GradientTape

__all__ = ["custom_gradient"]


class _CustomGradient(Function):
    """y from the custom function, its backward grad_fn(upstream[, variables])."""

    def __init__(self, value: np.ndarray, grad_fn: Callable[..., Any], n_inputs: int,
                 variables: Sequence[Tensor]) -> None:
        self.value, self.grad_fn, self.n_inputs, self.variables = value, grad_fn, n_inputs, list(variables)

    def forward(self, *arrays: Any) -> Any:
        return self.value

    def backward(self, g: Any) -> tuple[Any, ...]:
        upstream = Tensor(g)
        if self.variables:
            grads, var_grads = self.grad_fn(upstream, variables=self.variables)
            var_grads = list(var_grads)
            if len(var_grads) != len(self.variables):
                raise ValueError(f"tf.custom_gradient: grad_fn returned {len(var_grads)} variable gradients for "
                                 f"{len(self.variables)} variables")
        else:
            grads, var_grads = self.grad_fn(upstream), []
        grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
        if len(grads) != self.n_inputs:
            raise ValueError(f"tf.custom_gradient: grad_fn returned {len(grads)} gradients for {self.n_inputs} inputs")
        return tuple(None if v is None else np.asarray(v.numpy() if isinstance(v, Tensor) else v)
                     for v in (*grads, *var_grads))


def custom_gradient(f: Callable[..., Any] | None = None) -> Any:
    """Decorator: `@tf.custom_gradient def f(x): ...; return y, grad_fn` (y one tensor)."""
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        inputs = [a if isinstance(a, Tensor) else convert_to_tensor(a) for a in args]
        with GradientTape() as tape:
            for t in inputs:
                if t.dtype.kind == "f":
                    tape.watch(t)
            y, grad_fn = f(*inputs, **kwargs)
        if not isinstance(y, Tensor):
            y = convert_to_tensor(y)
        variables = [v for v in tape.watched_variables() if all(v is not t for t in inputs)]
        if variables and "variables" not in inspect.signature(grad_fn).parameters:
            raise TypeError(f"tf.custom_gradient: `{getattr(f, '__name__', f)}` reads the variables "
                            f"{[v.name for v in variables]}, so its grad_fn must take a keyword argument 'variables' "
                            f"and return (input gradients, variable gradients)")
        return _CustomGradient.apply(*inputs, *variables, value=y.data, grad_fn=grad_fn, n_inputs=len(inputs),
                                     variables=variables)

    return wrapper
