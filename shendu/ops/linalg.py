"""Matrix products: `a @ b` for 1-D, 2-D and batched (broadcast) operands."""

from __future__ import annotations

from typing import Any

from shendu.ops.function import Function


class MatMul(Function):
    """y = a @ b;  da = g @ b^T, db = a^T @ g (batch axes summed back by the engine)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a @ b

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = g[..., None, :]
        if b.ndim == 1:
            g = g[..., None]
        da = db = None
        if self.needs_grad(0):
            da = g @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                da = da.reshape(-1, a.shape[0]).sum(axis=0)
        if self.needs_grad(1):
            db = a2.swapaxes(-1, -2) @ g
            if b.ndim == 1:
                db = db.reshape(-1, b.shape[0]).sum(axis=0)
        return da, db
