"""Compiled updates of many variables in one call (numba, the optional `shendu[fast]` extra).

An optimizer step on a small network spent more time calling the per-variable loop (`kernels.adam`) from Python, six
times for an MLP's six variables, than in the loop itself. Here the variables go in groups of `GROUP` (tuples of flat
arrays, padded with empty arrays, so one compiled signature serves any number of variables) and each group is one
call. The loop is `kernels.adam`, so the values are the same bit for bit (tests/optimizers compare them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops.kernels import _jit, adam

GROUP = 8


@_jit
def adam_group(gs: Any, ws: Any, ms: Any, vs: Any, b1: Any, c1: Any, b2: Any, c2: Any, step_size: Any,
               eps: Any) -> None:
    """`kernels.adam` on each (g, w, m, v) of the tuples, one after the other."""
    for k in range(len(ws)):
        adam(gs[k], ws[k], ms[k], vs[k], b1, c1, b2, c2, step_size, eps)


def in_groups(loop: Any, columns: list[list[np.ndarray]], scalars: tuple[Any, ...]) -> None:
    """loop(*tuples, *scalars) for each group of GROUP rows of `columns` (one list of flat arrays per argument, all
    of one dtype), the last group padded with empty arrays."""
    n = len(columns[0])
    empty = np.empty(0, dtype=columns[0][0].dtype)
    for start in range(0, n, GROUP):
        stop = min(n, start + GROUP)
        pad = (empty,) * (GROUP - (stop - start))
        loop(*(tuple(col[start:stop]) + pad for col in columns), *scalars)
