"""dtype conversion: differentiable between float dtypes, the gradient cast back."""

from __future__ import annotations

from typing import Any

from shendu.ops.function import Function


class AsType(Function):
    """y = x converted to dtype;  dx = g converted back to x's dtype."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x: Any) -> Any:
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.astype(self.in_dtype),)
