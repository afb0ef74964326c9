"""Keras 3's `keras.distribution` for data parallelism: `DataParallel`, `set_distribution`, `distribution`.

`set_distribution(DataParallel())` makes every model compiled afterwards train data-parallel over the processes of
the MPI job, as a strategy's scope does for the models compiled inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from shendu.distribute.strategy import Strategy

_global: list[Strategy | None] = [None]


def list_devices(device_type: str | None = None) -> list[str]:
    """The replicas of the job, one per process: 'cpu:0' ... 'cpu:(n-1)'."""
    from shendu.distribute.strategy import communicator

    return [f"cpu:{i}" for i in range(communicator().size)]


class DataParallel(Strategy):
    """keras.distribution.DataParallel: the batch split over the processes, the weights replicated."""

    def __init__(self, device_mesh: Any = None, devices: Any = None, auto_shard_dataset: bool = True,
                 timeout: float | None = None) -> None:
        super().__init__(timeout)
        self.devices = list_devices() if devices is None else list(devices)
        self.batch_dim_name = "batch"

    @contextlib.contextmanager
    def scope(self) -> Iterator[Strategy]:
        """This distribution for the models compiled inside (Keras's `distribution.scope()`)."""
        previous = _global[0]
        _global[0] = self
        try:
            yield self
        finally:
            _global[0] = previous


def set_distribution(value: Strategy | None) -> None:
    """The distribution every model compiled from now on uses (None: back to one process)."""
    if value is not None and not isinstance(value, Strategy):
        raise TypeError(f"set_distribution: expected a DataParallel (or a tf.distribute strategy) or None; "
                        f"got {type(value).__name__}")
    _global[0] = value


def distribution() -> Strategy | None:
    """The distribution set with set_distribution (or a DataParallel scope), else None."""
    return _global[0]
