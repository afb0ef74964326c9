"""tf.distribute's strategies on MPI: one replica per process, `scope()`, `run`, `reduce`, distributed datasets.

A model built and compiled inside `strategy.scope()` keeps the strategy (`model.distribute_strategy`): its fit
splits each global batch across the processes, averages the gradients with one bucketed allreduce per step and
reports global metrics; see docs/distributed.md. Without mpiexec there is one replica and nothing changes.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu.distribute.communicator import Communicator
from shendu.tensor import Tensor

_state = threading.local()
_communicator: Communicator | None = None


def communicator(timeout: float | None = None) -> Communicator:
    """The process's one Communicator (MPI is initialised once per process)."""
    global _communicator
    if _communicator is None:
        _communicator = Communicator(timeout)
    elif timeout is not None:
        _communicator.timeout = float(timeout)
    return _communicator


class ReduceOp(enum.Enum):
    """How `Strategy.reduce` combines the replicas' values."""

    SUM = "SUM"
    MEAN = "MEAN"


class Strategy:
    """Data parallelism over the processes of an MPI job (one replica each); the base of the named strategies."""

    def __init__(self, timeout: float | None = None) -> None:
        self._comm = communicator(timeout)
        self.extended = self

    @property
    def num_replicas_in_sync(self) -> int:
        return self._comm.size

    @property
    def rank(self) -> int:
        """This process's replica (0 is the chief: it prints and writes files)."""
        return self._comm.rank

    @property
    def is_chief(self) -> bool:
        return self._comm.rank == 0

    @contextlib.contextmanager
    def scope(self) -> Iterator[Strategy]:
        """Models compiled (and built) inside use this strategy; nested scopes of another strategy are refused."""
        current = getattr(_state, "strategy", None)
        if current is not None and current is not self:
            raise ValueError(f"{type(self).__name__}.scope(): already inside the scope of another strategy "
                             f"({type(current).__name__}); leave it first")
        _state.strategy = self
        try:
            yield self
        finally:
            _state.strategy = current

    def _attach(self, model: Any) -> Any:
        """Called by compile() in this scope: the model's optimizer combines the replicas' gradients."""
        from shendu.distribute.training import attach

        return attach(self, model)

    def run(self, fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None) -> Any:
        """fn(*args, **kwargs) on this process's replica; optimizer.apply_gradients inside sums the replicas'
        gradients (as tf.distribute: scale the loss by 1 / global batch size, e.g. with compute_average_loss)."""
        with self.scope():
            return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op: ReduceOp | str, value: Any, axis: int | None = None) -> Tensor:
        """The replicas' values combined: SUM or MEAN, over `axis` of each value too when given (MEAN over an
        axis divides by the total length of that axis over the replicas)."""
        op = ReduceOp(reduce_op.upper() if isinstance(reduce_op, str) else reduce_op)
        array = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
        count = 1.0
        if axis is not None:
            count = float(array.shape[axis])
            array = array.sum(axis=axis)
        buf = np.append(np.ascontiguousarray(array).reshape(-1), count)
        self._comm.allreduce_(buf, "Strategy.reduce")
        total = buf[:-1].reshape(array.shape)
        if op is ReduceOp.MEAN:
            total = total / buf[-1]
        dtype = value.dtype if isinstance(value, (Tensor, np.ndarray)) and value.dtype.kind == "f" else np.float32
        return Tensor(np.asarray(total, dtype=dtype))

    def gather(self, value: Any, axis: int = 0) -> Tensor:
        """The replicas' values concatenated along `axis`, in replica order."""
        array = np.moveaxis(np.asarray(value.data if isinstance(value, Tensor) else value), axis, 0)
        parts = self._comm.allgatherv(np.ascontiguousarray(array), "Strategy.gather")
        return Tensor(np.moveaxis(np.concatenate(parts), 0, axis))

    def experimental_distribute_dataset(self, dataset: Any, options: Any = None) -> Any:
        """The dataset as this replica sees it: each element (a global batch) split across the replicas."""
        from shendu.distribute.data import DistributedDataset

        return DistributedDataset(dataset, self._comm)

    def distribute_datasets_from_function(self, dataset_fn: Callable[[Any], Any], options: Any = None) -> Any:
        """dataset_fn(InputContext) on each replica; the function shards and batches per replica itself."""
        return dataset_fn(InputContext(self._comm.size, self._comm.rank, self._comm.size))

    def experimental_local_results(self, value: Any) -> tuple:
        """This process's results of `run` (one replica per process)."""
        return (value,)


class InputContext:
    """tf.distribute.InputContext: how many pipelines there are, which one this is, and the per-replica batch."""

    def __init__(self, num_input_pipelines: int, input_pipeline_id: int, num_replicas_in_sync: int) -> None:
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"InputContext: the global batch size {global_batch_size} is not divisible by the "
                             f"{self.num_replicas_in_sync} replicas")
        return global_batch_size // self.num_replicas_in_sync


class MirroredStrategy(Strategy):
    """tf.distribute.MirroredStrategy: here one replica per MPI process (devices are the processes)."""

    def __init__(self, devices: Any = None, cross_device_ops: Any = None, timeout: float | None = None) -> None:
        super().__init__(timeout)


class MultiWorkerMirroredStrategy(Strategy):
    """tf.distribute.MultiWorkerMirroredStrategy: the workers are the processes of the MPI job (mpiexec gives
    the cluster; no cluster_resolver or TF_CONFIG). communication_options.timeout_seconds sets the deadline."""

    def __init__(self, cluster_resolver: Any = None, communication_options: Any = None,
                 timeout: float | None = None) -> None:
        seconds = getattr(communication_options, "timeout_seconds", None)
        super().__init__(timeout if timeout is not None else seconds)


class CommunicationOptions:
    """tf.distribute.experimental.CommunicationOptions: timeout_seconds bounds every collective."""

    def __init__(self, bytes_per_pack: int = 0, timeout_seconds: float | None = None,
                 implementation: Any = None) -> None:
        self.bytes_per_pack, self.timeout_seconds, self.implementation = bytes_per_pack, timeout_seconds, implementation


def get_strategy() -> Strategy | None:
    """The strategy whose scope is open (or the Keras distribution set with set_distribution), else None."""
    from shendu.distribute import keras_distribution

    return getattr(_state, "strategy", None) or keras_distribution.distribution()


def has_strategy() -> bool:
    return get_strategy() is not None


def current_for_model() -> Strategy | None:
    """The strategy a model compiled now takes: the one in scope, else the global Keras distribution."""
    return get_strategy()
