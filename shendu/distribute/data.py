"""Each replica's part of each global batch, with the order of the data shared by all replicas.

A global batch of n samples is split into `size` contiguous parts whose sizes differ by at most one (the first
n % size replicas take one more), as tf.distribute splits a batch across replicas; the gradient average weights
each part by its size, so the step equals one process on the whole batch. At the start of each pass every replica
takes rank 0's random state for the draws that order the data (the shuffle of arrays, a Dataset's shuffle), so all
replicas see the same global batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu import random
from shendu.distribute.communicator import Communicator
from shendu.models import data_adapter as da
from shendu.tensor import Tensor
from shendu.utils.tree import flatten, map_structure


def split_bounds(n: int, size: int, rank: int, what: str = "a batch") -> tuple[int, int]:
    """[start, stop) of rank's part of n samples split over size replicas (sizes differ by at most one)."""
    if n < size:
        raise ValueError(f"{what} has {n} samples for {size} replicas: every replica needs at least one. Choose a "
                         "batch size (and a number of samples) so that each batch, the last one too, has at least "
                         "one sample per replica")
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def _samples(batch: Any) -> int:
    leaves = [a for a in flatten(batch) if a is not None]
    return da.num_samples(leaves, "the batch") if leaves else 0


def _part(value: Any, start: int, stop: int) -> Any:
    if value is None:
        return None
    return map_structure(lambda a: a[start:stop] if np.ndim(a) else a, value)


class DistributedAdapter:
    """Wraps a data adapter of fit/evaluate/predict: yields this replica's part of each global batch and tells
    `on_batch(local, global)` the sizes."""

    def __init__(self, adapter: Any, comm: Communicator, on_batch: Callable[[int | None, int | None], None]) -> None:
        self.adapter = adapter
        self.comm = comm
        self.on_batch = on_batch
        self.global_sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:  # num_batches, reiterable, infinite, data, x, ...: the wrapped one's
        if name == "adapter":
            raise AttributeError(name)
        return getattr(self.adapter, name)

    def __len__(self) -> int:
        return len(self.adapter)

    def __iter__(self) -> Iterator[da.Batch]:
        return self.batches()

    def _shared_generators(self) -> dict[str, np.random.Generator]:
        found = da.find_generators(getattr(self.adapter, "data", None), lambda o: type(o).__module__.startswith(
            "shendu.data."), "data")
        return {"global": random.generator(), **found}

    def batches(self, start: int = 0) -> Iterator[da.Batch]:
        """One pass from global batch `start`: the random states that order it are rank 0's on every replica."""
        gens = self._shared_generators()
        own = gens["global"].bit_generator.state
        shared = self.comm.broadcast_json({k: g.bit_generator.state for k, g in gens.items()}, "sharing the data order")
        da.set_generator_states(gens, shared, "the data (shared across replicas)")
        inner = self.adapter.batches(start)
        self.global_sizes = []
        try:
            first = next(inner, None)
            if self.comm.rank != 0:  # rank 0's stream moves on; the others keep their own (dropout masks differ)
                gens["global"].bit_generator.state = own
            batch = first
            while batch is not None:
                n = _samples(batch)
                lo, hi = split_bounds(n, self.comm.size, self.comm.rank, f"Global batch {len(self.global_sizes) + 1}")
                self.global_sizes.append(n)
                self.on_batch(hi - lo, n)
                yield tuple(_part(v, lo, hi) for v in batch)
                batch = next(inner, None)
        finally:
            self.on_batch(None, None)


class DistributedDataset:
    """strategy.experimental_distribute_dataset(ds): iterating gives this replica's part of each element."""

    def __init__(self, dataset: Any, comm: Communicator) -> None:
        self.dataset = dataset
        self.comm = comm
        self._adapter = DistributedAdapter(da.IterableDataAdapter(dataset), comm, lambda local, total: None)

    def __iter__(self) -> Iterator[Any]:
        for x, y, w in self._adapter.batches():
            parts = tuple(map_structure(Tensor, v) for v in (x, y, w) if v is not None)
            yield parts[0] if len(parts) == 1 else parts

    def __len__(self) -> int:
        return len(self.dataset)
