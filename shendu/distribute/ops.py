"""The collective as an op of the graph: a sum over the replicas whose gradient is again a sum over the replicas."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops import Function


class AllReduceSum(Function):
    """y = sum over replicas r of x_r (every replica gets y); dx_r = sum_s w_s dy_s / w_r.

    Each replica's dy_s is the gradient of its own loss L_s; fit minimises sum_s w_s L_s with w_s its share of the
    global batch and then weights each replica's gradients by w_r (see training.py), hence the division. Outside
    fit (w unknown) the losses are summed, w = 1: dx_r = sum_s dy_s."""

    def __init__(self, comm: Any, what: str = "allreduce") -> None:
        self.comm, self.what = comm, what

    def forward(self, x: Any) -> Any:
        return self.comm.allreduce_(np.array(x, copy=True, order="C"), self.what)

    def backward(self, g: Any) -> tuple[Any, ...]:
        share = self.comm.share
        if share is None:
            return (self.comm.allreduce_(np.array(g, copy=True, order="C"), self.what + " (backward)"),)
        summed = self.comm.allreduce_(np.multiply(g, share, order="C"), self.what + " (backward)")
        return (summed / share,)
