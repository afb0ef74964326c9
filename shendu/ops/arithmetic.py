"""Element-wise arithmetic with NumPy broadcasting: + - * / ** and negation, maximum, minimum, floor division and
modulo, the squared difference, and the sum of n tensors."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function


class Add(Function):
    """y = a + b;  da = g, db = g."""

    def forward(self, a: Any, b: Any) -> Any:
        return a + b

    def backward(self, g: Any) -> tuple[Any, Any]:
        return g, g


class Sub(Function):
    """y = a - b;  da = g, db = -g."""

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, g: Any) -> tuple[Any, Any]:
        return g, (-g if self.needs_grad(1) else None)


class Mul(Function):
    """y = a * b;  da = g * b, db = g * a."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, g: Any) -> tuple[Any, Any]:
        da = g * self.b if self.needs_grad(0) else None
        db = g * self.a if self.needs_grad(1) else None
        return da, db


class Div(Function):
    """y = a / b;  da = g / b, db = -g * a / b^2 = -g * y / b."""

    def forward(self, a: Any, b: Any) -> Any:
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, g: Any) -> tuple[Any, Any]:
        da = g / self.b if self.needs_grad(0) else None
        db = -g * self.y / self.b if self.needs_grad(1) else None
        return da, db


class Neg(Function):
    """y = -x;  dx = -g."""

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, g: Any) -> tuple[Any]:
        return (-g,)


class PowScalar(Function):
    """y = x ** p for a constant p;  dx = g * p * x^(p-1) (zero for p = 0)."""

    def __init__(self, p: float) -> None:
        self.p = p

    def forward(self, x: Any) -> Any:
        self.x = x
        return x**self.p

    def backward(self, g: Any) -> tuple[Any]:
        p = self.p
        if p == 0:
            return (get_array_module(g).zeros_like(g),)
        if p == 2:
            return (g * 2 * self.x,)
        return (g * p * self.x ** (p - 1),)


class Pow(Function):
    """y = a ** b for tensors;  da = g * b * a^(b-1), db = g * y * log(a).

    As in torch, da is 0 where b = 0 and db is 0 where a = 0 and b >= 0 (instead of 0 * inf = nan).
    """

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, g: Any) -> tuple[Any, Any]:
        xp = get_array_module(g)
        a, b = self.a, self.b
        da = db = None
        with xp.errstate(divide="ignore", invalid="ignore"):
            if self.needs_grad(0):
                da = g * xp.where(b == 0, 0, b * a ** (b - 1))
            if self.needs_grad(1):
                db = g * xp.where((a == 0) & (b >= 0), 0, self.y * xp.log(a))
        return da, db


class Maximum(Function):
    """y = max(a, b) element-wise; the gradient goes to the larger input. On a tie it is split evenly (ties="split",
    as torch) or goes all to a (ties="first", as TensorFlow: da = g where a >= b)."""

    def __init__(self, ties: str = "split") -> None:
        self.ties = ties

    def forward(self, a: Any, b: Any) -> Any:
        xp = get_array_module(a)
        self.a, self.b = a, b
        return xp.maximum(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        return _split_by_winner(g, self.a > self.b, self.a == self.b, self.ties)


class Minimum(Function):
    """y = min(a, b) element-wise; the gradient goes to the smaller input. On a tie it is split evenly (ties="split",
    as torch) or goes all to a (ties="first", as TensorFlow: da = g where a <= b)."""

    def __init__(self, ties: str = "split") -> None:
        self.ties = ties

    def forward(self, a: Any, b: Any) -> Any:
        xp = get_array_module(a)
        self.a, self.b = a, b
        return xp.minimum(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        return _split_by_winner(g, self.a < self.b, self.a == self.b, self.ties)


def _split_by_winner(g: Any, a_wins: Any, tie: Any, ties: str) -> tuple[Any, Any]:
    """Route g to a where a wins, to b where b wins, and on a tie half to each (ties="split") or all to a."""
    share_a = a_wins + (0.5 if ties == "split" else 1.0) * tie
    return g * share_a.astype(g.dtype), g * (1 - share_a).astype(g.dtype)


class FloorDiv(Function):
    """y = floor(a / b) (Python's //);  da = db = 0: a step function."""

    def forward(self, a: Any, b: Any) -> Any:
        return get_array_module(a).floor_divide(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        zero = get_array_module(g).zeros_like(g)
        return zero, zero


class FloorMod(Function):
    """y = a - b floor(a / b) (Python's %, the sign of b);  da = g, db = -g floor(a / b)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.q, y = get_array_module(a).divmod(a, b)
        return y

    def backward(self, g: Any) -> tuple[Any, Any]:
        return g, (-g * self.q if self.needs_grad(1) else None)


class SquaredDifference(Function):
    """y = (a - b)^2;  da = 2 g (a - b), db = -da."""

    def forward(self, a: Any, b: Any) -> Any:
        self.d = a - b
        return self.d * self.d

    def backward(self, g: Any) -> tuple[Any, Any]:
        da = 2 * g * self.d
        return da, -da


class AddN(Function):
    """y = x_1 + ... + x_n for tensors of one shape;  dx_i = g."""

    def forward(self, *xs: Any) -> Any:
        y = xs[0].copy()
        for x in xs[1:]:
            y += x
        return y

    def backward(self, g: Any) -> tuple[Any, ...]:
        return (g,) * len(self.inputs)
