"""Functions over elements: map (one element to one), flat_map and interleave (one element to a dataset)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from shendu.data.dataset import AUTOTUNE, Dataset, call, check_callable, check_count
from shendu.data.structure import to_raw

_END = object()


class MapDataset(Dataset):
    def __init__(self, source: Dataset, map_func: Callable[..., Any]) -> None:
        self._input, self._fn = source, check_callable("Dataset.map", map_func)

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _iterate(self) -> Iterator[Any]:
        fn = self._fn
        for element in self._input._elements():
            yield to_raw(call(fn, element), "Dataset.map: map_func's result")


def _dataset_of(fn: Callable[..., Any], element: Any, where: str) -> Dataset:
    out = call(fn, element)
    if not isinstance(out, Dataset):
        raise TypeError(f"{where}: map_func must return a Dataset, got {type(out).__name__}")
    return out


class FlatMapDataset(Dataset):
    def __init__(self, source: Dataset, map_func: Callable[..., Any]) -> None:
        self._input, self._fn = source, check_callable("Dataset.flat_map", map_func)

    def _iterate(self) -> Iterator[Any]:
        for element in self._input._elements():
            yield from _dataset_of(self._fn, element, "Dataset.flat_map")._elements()


def _cpu_cores() -> int:
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(len(cores), 1)


class InterleaveDataset(Dataset):
    """TensorFlow's sequential interleave: cycle_length open datasets, block_length elements from each in turn;
    an exhausted one frees its slot, which takes the next input element's dataset when the cycle comes back."""

    def __init__(self, source: Dataset, map_func: Callable[..., Any], cycle_length: int | None,
                 block_length: int | None) -> None:
        where = "Dataset.interleave"
        self._input, self._fn = source, check_callable(where, map_func)
        cycle = AUTOTUNE if cycle_length is None else check_count(f"{where} cycle_length", cycle_length)
        self._cycle = _cpu_cores() if cycle == AUTOTUNE else cycle
        self._block = 1 if block_length is None else check_count(f"{where} block_length", block_length)
        if self._cycle < 1 or self._block < 1:
            raise ValueError(f"{where}: cycle_length and block_length must be at least 1 (cycle_length may be "
                             f"AUTOTUNE), got {cycle_length} and {block_length}")

    def _iterate(self) -> Iterator[Any]:
        inputs = self._input._elements()
        slots: list[Iterator[Any] | None] = [None] * self._cycle
        open_count, index, taken, inputs_done = 0, 0, 0, False
        while not inputs_done or open_count:
            current = slots[index]
            if current is None and not inputs_done:
                element = next(inputs, None)
                if element is None:
                    inputs_done = True
                    continue
                slots[index] = _dataset_of(self._fn, element, "Dataset.interleave")._elements()
                open_count += 1
                continue
            if current is not None:
                item = next(current, _END)
                if item is not _END:
                    yield item
                    taken += 1
                    if taken < self._block:
                        continue
                else:
                    slots[index] = None
                    open_count -= 1
            index, taken = (index + 1) % self._cycle, 0

