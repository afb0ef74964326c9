"""Embedding lookup: rows of a table picked by integer ids, with a scatter-add gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.backend import get_array_module
from shendu.ops import kernels
from shendu.ops.function import Function


class Gather(Function):
    """y[..., :] = W[ids[...], :];  dW[v] = sum of g over the positions where ids == v (zero for unused rows).

    The gradient sums by sorting the ids once and adding each run of equal ids with `add.reduceat`, which is
    several times faster than `add.at` for large batches; with numba one compiled pass adds the rows in input order
    (`kernels.scatter_add_rows`, equal to rounding); on a GPU (CuPy has no `reduceat`) `add.at` adds atomically.
    """

    def __init__(self, ids: Any) -> None:
        self.ids = ids

    def forward(self, table: Any) -> Any:
        self.rows = table.shape[0]
        return get_array_module(table).take(table, self.ids, axis=0)

    def backward(self, g: Any) -> tuple[Any]:
        return (scatter_rows(self.ids.reshape(-1), g.reshape(-1, g.shape[-1]), self.rows),)


def scatter_rows(ids: Any, values: Any, rows: int) -> Any:
    """A (rows, width) array whose row v is the sum of values[k] over the k with ids[k] == v."""
    xp = get_array_module(values)
    out = xp.zeros((rows, values.shape[1]), dtype=values.dtype)
    if ids.size == 0:
        return out
    if xp is not np:
        xp.add.at(out, ids, values)
        return out
    if kernels.enabled() and values.flags.c_contiguous:
        kernels.scatter_add_rows(ids, values, out)
        return out
    order = xp.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = xp.flatnonzero(xp.concatenate([xp.ones(1, bool), sorted_ids[1:] != sorted_ids[:-1]]))
    out[sorted_ids[starts]] = xp.add.reduceat(values[order], starts, axis=0)
    return out
