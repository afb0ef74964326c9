"""Which elements pass: take, skip, shard (on index plans too), filter and take_while (by a predicate)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu.data import plan as _plan
from shendu.data.dataset import (
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
    call,
    check_callable,
    check_count,
)
from shendu.data.plan import Slices
from shendu.tensor import Tensor


class TakeDataset(Dataset):
    def __init__(self, source: Dataset, count: int) -> None:
        self._input, self._count = source, check_count("Dataset.take", count)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if self._count < 0 or n == UNKNOWN_CARDINALITY:
            return n
        return self._count if n == INFINITE_CARDINALITY else min(n, self._count)

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        plan = self._input._slices()
        if plan is None or self._count < 0:
            return plan
        return plan.with_chunks(lambda: _plan.take_chunks(plan.chunks(), self._count))

    def _iterate(self) -> Iterator[Any]:
        elements = self._input._elements()
        return elements if self._count < 0 else itertools.islice(elements, self._count)


class SkipDataset(Dataset):
    def __init__(self, source: Dataset, count: int) -> None:
        self._input, self._count = source, check_count("Dataset.skip", count)

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(n - self._count, 0)

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        if self._count < 0:
            return self._input_rechunked(lambda plan: iter(()))
        return self._input_rechunked(lambda plan: _plan.skip_chunks(plan.chunks(), self._count))

    def _iterate(self) -> Iterator[Any]:
        elements = self._input._elements()
        if self._count < 0:
            for _ in elements:
                pass
            return iter(())
        return itertools.islice(elements, self._count, None)


class ShardDataset(Dataset):
    def __init__(self, source: Dataset, num_shards: int, index: int) -> None:
        self._input = source
        self._num = check_count("Dataset.shard num_shards", num_shards)
        self._index = check_count("Dataset.shard index", index)
        if self._num < 1:
            raise ValueError(f"Dataset.shard: num_shards must be at least 1, got {num_shards}")
        if not 0 <= self._index < self._num:
            raise ValueError(f"Dataset.shard: index must be in [0, num_shards={self._num}), got {index}")

    def _cardinality(self) -> int:
        n = self._input._cardinality()
        if n < 0:
            return n
        return n // self._num + (1 if n % self._num > self._index else 0)

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        return self._input_rechunked(lambda plan: _plan.shard_chunks(plan.chunks(), self._num, self._index))

    def _iterate(self) -> Iterator[Any]:
        return itertools.islice(self._input._elements(), self._index, None, self._num)


def _truth(where: str, value: Any) -> bool:
    """A predicate's result as a Python bool; it must be one boolean (a bool, or a 0-d boolean array/Tensor)."""
    arr = value.data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype != np.bool_ or arr.ndim != 0:
        raise TypeError(f"{where}: predicate must return a scalar boolean, got {arr.dtype}{list(arr.shape)}")
    return bool(arr)


class FilterDataset(Dataset):
    def __init__(self, source: Dataset, predicate: Callable[..., Any]) -> None:
        self._input, self._predicate = source, check_callable("Dataset.filter", predicate)

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _iterate(self) -> Iterator[Any]:
        predicate = self._predicate
        for element in self._input._elements():
            if _truth("Dataset.filter", call(predicate, element)):
                yield element


class TakeWhileDataset(Dataset):
    def __init__(self, source: Dataset, predicate: Callable[..., Any]) -> None:
        self._input, self._predicate = source, check_callable("Dataset.take_while", predicate)

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _iterate(self) -> Iterator[Any]:
        predicate = self._predicate
        for element in self._input._elements():
            if not _truth("Dataset.take_while", call(predicate, element)):
                return
            yield element
