"""Einstein summation: y = einsum(equation, *xs), each input's gradient another einsum of g and the other inputs."""

from __future__ import annotations

import string
from typing import Any

from shendu.backend import get_array_module
from shendu.ops.function import Function


def explicit_equation(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """The inputs' subscripts and the output's, with '...' spelled out as letters and an implicit output
    ('ij,jk' means 'ij,jk->ik': the letters used once, in alphabetical order, after the broadcast axes).
    """
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} inputs, but {len(ndims)} were given")
    spare = [c for c in string.ascii_letters if c not in equation]
    n_ellipsis = max([n - len(t) + 3 for t, n in zip(terms, ndims) if "..." in t], default=0)
    broadcast = "".join(spare[:n_ellipsis])
    subscripts = []
    for t, n in zip(terms, ndims):
        if "..." in t:
            t = t.replace("...", broadcast[n_ellipsis - (n - len(t) + 3):])
        if len(t) != n or not t.isalpha():
            raise ValueError(f"einsum: subscripts {t!r} do not fit an input of {n} dimensions in {equation!r}")
        subscripts.append(t)
    if arrow:
        out = rhs.replace("...", broadcast)
    else:
        letters = "".join(subscripts)
        out = broadcast + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in broadcast))
    return subscripts, out


class Einsum(Function):
    """y = einsum(equation, *xs);  dx_i = einsum(g and the other inputs -> x_i's subscripts), spread over the
    axes that only x_i sums (their gradient is g's sum broadcast) and onto the diagonal of a repeated subscript.
    """

    def __init__(self, equation: str) -> None:
        self.equation = equation

    def forward(self, *xs: Any) -> Any:
        self.xs = xs
        self.subscripts, self.out = explicit_equation(self.equation, [x.ndim for x in xs])
        return _einsum(self.subscripts, self.out, xs)

    def backward(self, g: Any) -> tuple[Any, ...]:
        grads = []
        for i, x in enumerate(self.xs):
            grads.append(self._input_grad(i, x, g) if self.needs_grad(i) else None)
        return tuple(grads)

    def _input_grad(self, i: int, x: Any, g: Any) -> Any:
        xp = get_array_module(g)
        others = [(s, y) for j, (s, y) in enumerate(zip(self.subscripts, self.xs)) if j != i]
        known = set(self.out).union(*(s for s, _ in others))
        own = "".join(dict.fromkeys(self.subscripts[i]))  # x_i's letters, each once
        size = {c: n for c, n in zip(self.subscripts[i], x.shape)}
        reached = "".join(c for c in own if c in known)
        d = _einsum([self.out, *(s for s, _ in others)], reached, [g, *(y for _, y in others)])
        shape = [d.shape[reached.index(c)] if c in reached else 1 for c in own]
        full = [size[c] if n == 1 else n for c, n in zip(own, shape)]
        d = d.reshape(shape)
        if full != shape:  # letters summed in x_i alone (or broadcast from length one): constant along them
            d = xp.broadcast_to(d, full).copy()
        if own == self.subscripts[i]:
            return d
        dx = xp.zeros(x.shape, dtype=g.dtype)  # a repeated letter: the gradient goes onto that diagonal
        xp.einsum(f"{self.subscripts[i]}->{own}", dx)[...] = d  # a writable view of the diagonal
        return dx


def _einsum(subscripts: list[str], out: str, xs: Any) -> Any:
    xp = get_array_module(*xs)
    return xp.einsum(f"{','.join(subscripts)}->{out}", *xs, optimize=len(xs) > 1)
