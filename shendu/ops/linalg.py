"""Linear algebra on (batches of) matrices: `a @ b` for 1-D, 2-D and batched (broadcast) operands, inverse,
determinant, solve and diagonal matrices."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
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


def _mT(a: Any) -> Any:
    """The matrix transpose of a (batch of) matrices."""
    return a.swapaxes(-1, -2)


class Inv(Function):
    """y = a^-1 (batched);  da = -y^T g y^T."""

    def forward(self, a: Any) -> Any:
        self.y = get_array_module(a).linalg.inv(a)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        yt = _mT(self.y)
        return (-(yt @ g @ yt),)


class Det(Function):
    """y = det(a) (batched);  da = g y a^-T (Jacobi's formula; a must be invertible for the gradient)."""

    def forward(self, a: Any) -> Any:
        self.a = a
        self.y = get_array_module(a).linalg.det(a)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        inv_t = _mT(get_array_module(g).linalg.inv(self.a))
        return ((g * self.y)[..., None, None] * inv_t,)


class LogAbsDet(Function):
    """y = log |det(a)| (batched);  da = g a^-T."""

    def forward(self, a: Any) -> Any:
        self.a = a
        return get_array_module(a).linalg.slogdet(a)[1]

    def backward(self, g: Any) -> tuple[Any]:
        return (g[..., None, None] * _mT(get_array_module(g).linalg.inv(self.a)),)


class Solve(Function):
    """y = a^-1 b, the solution of a y = b (batched, b a matrix);  db = a^-T g, da = -db y^T."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a = a
        self.y = get_array_module(a).linalg.solve(a, b)
        return self.y

    def backward(self, g: Any) -> tuple[Any, Any]:
        db = get_array_module(g).linalg.solve(_mT(self.a), g)
        da = -(db @ _mT(self.y)) if self.needs_grad(0) else None
        return da, db


class MatrixDiag(Function):
    """y[..., i, i + k] = v[..., i] in an otherwise zero square matrix of side n + |k|;  dv = the k-th diagonal of g."""

    def __init__(self, k: int = 0) -> None:
        self.k = k

    def forward(self, v: Any) -> Any:
        xp = get_array_module(v)
        n = v.shape[-1]
        side = n + abs(self.k)
        self.rows = xp.arange(n) + max(-self.k, 0)
        self.cols = xp.arange(n) + max(self.k, 0)
        y = xp.zeros((*v.shape[:-1], side, side), dtype=v.dtype)
        y[..., self.rows, self.cols] = v
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g[..., self.rows, self.cols],)
