"""Check an op's backward against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu.grad_mode import no_grad
from shendu.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytic and numerical gradients disagree."""


def gradcheck(f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """True when backward matches (f(x + eps) - f(x - eps)) / 2 eps for every element of every input.

    Float inputs (and Python numbers) are copied to float64 leaves; integer and boolean arrays (labels,
    indices, masks) are passed as constants and not checked. f must return a tensor (reduced with a fixed
    random weighting when it is not a scalar). Raises `GradcheckError` naming the input and the largest error.
    """
    xs = [_leaf(x) for x in inputs]
    probe = f(*xs)
    weight = np.random.default_rng(0).uniform(0.5, 1.5, probe.shape)

    def scalar(*args: Tensor) -> Tensor:
        return (f(*args) * weight).sum()

    scalar(*xs).backward()
    for i, x in enumerate(xs):
        if not x.requires_grad:
            continue
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad.data
        numeric = np.zeros_like(x.data)
        flat, num = x.data.reshape(-1), numeric.reshape(-1)
        with no_grad():
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                hi = scalar(*xs).item()
                flat[j] = orig - eps
                lo = scalar(*xs).item()
                flat[j] = orig
                num[j] = (hi - lo) / (2 * eps)
        err = np.abs(analytic - numeric)
        if not np.all(err <= atol + rtol * np.abs(numeric)):
            k = tuple(int(n) for n in np.unravel_index(int(np.argmax(err)), err.shape))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}): largest error {err[k]:.3g} at index {k}: "
                f"backward gives {analytic[k]:.6g}, finite differences give {numeric[k]:.6g}"
            )
    return True


def _leaf(x: Any) -> Tensor:
    """A float64 copy of x requiring a gradient, or an integer/boolean array as a constant tensor."""
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind in "iub":
        return Tensor(arr.copy())
    return Tensor(arr.astype(np.float64, order="C"), requires_grad=True)
