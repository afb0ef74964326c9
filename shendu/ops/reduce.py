"""Reductions over axes (NumPy's `axis=` and `keepdims=`): sum, mean, var, max, min, prod, logsumexp; the scans
cumsum and cumprod along one axis; and the sum of segments."""

from __future__ import annotations

from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function

Axis = int | tuple[int, ...] | None


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Turn an `axis=` argument into a sorted tuple of non-negative axes (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = set()
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for a tensor of {ndim} dimensions")
        if a % ndim in out:
            raise ValueError(f"axis {a} is repeated in {axis}")
        out.add(a % ndim)
    return tuple(sorted(out))


class _Reduction(Function):
    """Shared setup: the reduced axes and the input shape; `_kept()` is the output shape with keepdims=True,
    to which a reduced gradient is reshaped so that it broadcasts against the input.
    """

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def _setup(self, x: Any) -> None:
        self.axes = normalize_axes(self.axis, x.ndim)
        self.shape = x.shape

    def _kept(self) -> tuple[int, ...]:
        return tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))

    def _count(self) -> int:
        n = 1
        for a in self.axes:
            n *= self.shape[a]
        return n

    def _as_asked(self, y: Any) -> Any:
        """A result computed with keepdims=True, with the reduced axes dropped unless keepdims was asked."""
        return y if self.keepdims else y.reshape([n for i, n in enumerate(self.shape) if i not in self.axes])

    def _spread(self, g: Any) -> Any:
        """g (reduced) copied to every position of the input's shape, as a new writable array."""
        dx = get_array_module(g).empty(self.shape, dtype=g.dtype)
        dx[...] = g if g.ndim in (0, dx.ndim) else g.reshape(self._kept())  # 0-d and keepdims g broadcast as is
        return dx


class Sum(_Reduction):
    """y = sum of x over axes;  dx = g broadcast back over the summed axes."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (self._spread(g),)


class Mean(_Reduction):
    """y = sum(x) / n over axes;  dx = g / n broadcast back."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (self._spread(g / self._count()),)


class Var(_Reduction):
    """y = mean((x - mean x)^2) over axes (ddof=0, as NumPy and Keras);  dx = g * 2 (x - mean x) / n."""

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        sq = self.centered * self.centered
        return sq.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.reshape(self._kept()) * (2.0 / self._count()) * self.centered,)


class Max(_Reduction):
    """y = max of x over axes;  dx = g at the maxima, split evenly between ties (as `torch.amax` and TensorFlow)."""

    pick = "max"

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.x = x
        self.y = getattr(x, self.pick)(axis=self.axes, keepdims=True)
        return self._as_asked(self.y)

    def backward(self, g: Any) -> tuple[Any]:
        hit = (self.x == self.y).astype(g.dtype)
        hit /= hit.sum(axis=self.axes, keepdims=True)
        return (g.reshape(self._kept()) * hit,)


class Min(Max):
    """y = min of x over axes;  dx = g at the minima, split evenly between ties."""

    pick = "min"


class Prod(_Reduction):
    """y = product of x over axes;  dx_i = g prod_{j != i} x_j.

    That is g y / x_i when no x is zero; otherwise the products of the other factors come from exclusive running
    products from the left and from the right, so that a zero factor still gets its gradient.
    """

    def forward(self, x: Any) -> Any:
        self._setup(x)
        self.x = x
        self.y = x.prod(axis=self.axes, keepdims=True)
        return self._as_asked(self.y)

    def backward(self, g: Any) -> tuple[Any]:
        xp = get_array_module(g)
        g = g.reshape(self._kept())
        if not (self.x == 0).any():
            return (g * self.y / self.x,)
        ends = tuple(range(self.x.ndim - len(self.axes), self.x.ndim))
        moved = xp.moveaxis(self.x, self.axes, ends)
        rows = moved.reshape(*moved.shape[: ends[0] if ends else moved.ndim], self._count())
        others = xp.ones_like(rows)  # others[i] = prod_{j < i} rows[j] * prod_{j > i} rows[j]
        others[..., 1:] = xp.cumprod(rows[..., :-1], axis=-1)
        others[..., :-1] *= xp.cumprod(rows[..., :0:-1], axis=-1)[..., ::-1]
        return (g * xp.moveaxis(others.reshape(moved.shape), ends, self.axes),)


class LogSumExp(_Reduction):
    """y = log sum(e^x) over axes, computed as m + log sum(e^(x - m)) with m = max x (never overflows);
    dx = g e^(x - y) = g softmax(x) over the axes."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self._setup(x)
        m = x.max(axis=self.axes, keepdims=True) if x.size else xp.zeros(self._kept(), dtype=x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # a row of -inf (or with inf) sums as it is
        self.e = xp.exp(x - m)
        self.s = self.e.sum(axis=self.axes, keepdims=True)
        with xp.errstate(divide="ignore"):  # a row of -inf: log 0 = -inf is the answer
            y = xp.log(self.s) + m
        return self._as_asked(y)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.reshape(self._kept()) / self.s * self.e,)


def scan(x: Any, axis: int, exclusive: bool, reverse: bool, product: bool) -> Any:
    """The running sum (or product) of x along axis; exclusive leaves out the element itself (the first output is
    0, or 1), reverse runs from the end. TensorFlow's cumsum/cumprod."""
    xp = get_array_module(x)
    run = xp.cumprod if product else xp.cumsum
    if reverse:
        x = xp.flip(x, axis)
    if exclusive:
        y = xp.empty_like(x)
        first = [slice(None)] * x.ndim
        first[axis] = slice(0, 1)
        rest = list(first)
        rest[axis] = slice(1, None)
        upto = list(first)
        upto[axis] = slice(0, -1)
        y[tuple(first)] = 1 if product else 0
        run(x[tuple(upto)], axis=axis, out=y[tuple(rest)])
    else:
        y = run(x, axis=axis)
    return xp.flip(y, axis) if reverse else y


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along axis (j < i when exclusive; j >= i, j > i when reverse);
    dx = the same running sum of g in the other direction."""

    def __init__(self, axis: int = 0, exclusive: bool = False, reverse: bool = False) -> None:
        self.axis, self.exclusive, self.reverse = axis, exclusive, reverse

    def forward(self, x: Any) -> Any:
        self.axis = normalize_axes(self.axis, x.ndim)[0]
        return scan(x, self.axis, self.exclusive, self.reverse, product=False)

    def backward(self, g: Any) -> tuple[Any]:
        return (scan(g, self.axis, self.exclusive, not self.reverse, product=False),)


class Cumprod(Cumsum):
    """y_i = prod_{j <= i} x_j along axis (exclusive and reverse as in `Cumsum`);
    dx = (running sum of g y in the other direction) / x, as TensorFlow (a zero in x gives inf or nan there)."""

    def forward(self, x: Any) -> Any:
        self.axis = normalize_axes(self.axis, x.ndim)[0]
        self.x = x
        self.y = scan(x, self.axis, self.exclusive, self.reverse, product=True)
        return self.y

    def backward(self, g: Any) -> tuple[Any]:
        return (scan(g * self.y, self.axis, self.exclusive, not self.reverse, product=False) / self.x,)


class SegmentSum(Function):
    """y[k] = sum of the rows x[i] with ids[i] = k, for k < n (rows with a negative id are dropped);
    dx[i] = g[ids[i]] (0 for a dropped row). ids index the leading ids.ndim axes of x."""

    def __init__(self, ids: Any, n: int) -> None:
        self.ids, self.n = ids, n

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.keep = self.ids >= 0
        y = xp.zeros((self.n, *x.shape[self.ids.ndim :]), dtype=x.dtype)
        xp.add.at(y, self.ids[self.keep], x[self.keep])
        return y

    def backward(self, g: Any) -> tuple[Any]:
        dx = g[get_array_module(g).where(self.keep, self.ids, 0)]
        dx[~self.keep] = 0
        return (dx,)
