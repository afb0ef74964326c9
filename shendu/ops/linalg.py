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
        if b.ndim == 1:  # restore the dropped column axis of y, then treat b as a (k, 1) matrix
            b, g = b[:, None], g[..., None]
        if a.ndim == 1:  # restore the dropped row axis of y, then treat a as a (1, k) matrix
            a, g = a[None, :], g[..., None, :]
        da = db = None
        if self.needs_grad(0):
            da = g @ b.swapaxes(-1, -2)
            if self.a.ndim == 1:
                da = da.reshape(-1, a.shape[-1]).sum(axis=0)
        if self.needs_grad(1):
            db = a.swapaxes(-1, -2) @ g
            if self.b.ndim == 1:
                db = db.reshape(-1, b.shape[0]).sum(axis=0)
        return da, db
