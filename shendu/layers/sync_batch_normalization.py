"""SyncBatchNormalization: batch normalization with the statistics of the global batch of a data-parallel job."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from shendu.layers.normalization import BatchNormalization
from shendu.tensor import Tensor


def _communicator() -> Any:
    """The MPI job's communicator when shendu.distribute runs one with several processes, else None."""
    strategy = sys.modules.get("shendu.distribute.strategy")
    comm = None if strategy is None else strategy._communicator
    return comm if comm is not None and comm.size > 1 else None


class SyncBatchNormalization(BatchNormalization):
    """tf.keras's SyncBatchNormalization (Keras 3's BatchNormalization(synchronized=True)): in training, the mean
    and variance over the samples of every replica, mean = sum_r sum x / N, var = sum_r sum (x - mean)^2 / N, their
    gradients summed over the replicas in the backward pass. In one process it is BatchNormalization."""

    def call(self, inputs: Tensor, training: bool | None = None, mask: Any = None) -> Tensor:
        comm = _communicator()
        if comm is None or not (training and self.trainable) or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        from shendu.distribute.ops import AllReduceSum

        self._check_input(inputs, (self.axis,), (self.moving_mean.shape[0],))
        axis = self.axis % inputs.ndim
        axes = tuple(i for i in range(inputs.ndim) if i != axis)
        local = np.array([inputs.data.size // inputs.shape[axis]], np.float64)
        n = float(comm.allreduce_(local, f"SyncBatchNormalization '{self.name}'")[0])
        what = f"SyncBatchNormalization '{self.name}'"
        mean = AllReduceSum.apply(inputs.sum(axis=axes, keepdims=True), comm=comm, what=what) / n
        centered = inputs - mean
        variance = AllReduceSum.apply((centered * centered).sum(axis=axes, keepdims=True), comm=comm, what=what) / n
        y = centered / (variance + self.epsilon).sqrt()
        shape = tuple(inputs.shape[i] if i == axis else 1 for i in range(inputs.ndim))
        params = self._params()
        gamma = params[0] if self.gamma is not None else None
        beta = params[-1] if self.beta is not None else None
        if gamma is not None:
            y = y * gamma.reshape(*shape)
        if beta is not None:
            y = y + beta.reshape(*shape)
        self._update_moving(mean.data.reshape(-1), variance.data.reshape(-1))
        return y
