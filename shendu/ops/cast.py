"""dtype and device conversion: differentiable between float dtypes and between devices, the gradient sent back."""

from __future__ import annotations

from typing import Any

from shendu import backend
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


class ToDevice(Function):
    """y = x copied to another device (a GPU index, None for the host);  dx = g copied back to x's device."""

    def __init__(self, index: int | None) -> None:
        self.index = index

    def forward(self, x: Any) -> Any:
        self.source = backend.array_device(x)
        return backend.to_device(x, self.index)

    def backward(self, g: Any) -> tuple[Any]:
        return (backend.to_device(g, self.source),)
