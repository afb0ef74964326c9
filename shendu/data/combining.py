"""Datasets side by side or one after another: zip, concatenate, enumerate."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, check_count
from shendu.data.spec import TensorSpec, merge_specs
from shendu.data.structure import describe, flatten, map_structure, packer, same_structure


class ZipDataset(Dataset):
    def __init__(self, datasets: Any) -> None:
        leaves = flatten(datasets)
        if not leaves or not all(isinstance(d, Dataset) for d in leaves):
            kinds = map_structure(lambda d: type(d).__name__, datasets)
            raise TypeError(f"Dataset.zip: expected a Dataset or a tuple or dict of Datasets, got {kinds}")
        self._datasets, self._leaves, self._pack = datasets, leaves, packer(datasets)

    def _inputs(self) -> list[Dataset]:
        return self._leaves

    def _cardinality(self) -> int:
        """The shortest input (unknown if any is unknown, infinite only if all are)."""
        result = INFINITE_CARDINALITY
        for d in self._leaves:
            n = d._cardinality()
            if n == UNKNOWN_CARDINALITY:
                return n
            if n != INFINITE_CARDINALITY and (result == INFINITE_CARDINALITY or n < result):
                result = n
        return result

    def _element_spec(self) -> Any:
        return self._pack([d.element_spec for d in self._leaves])

    def _iterate(self) -> Iterator[Any]:
        for elements in zip(*(d._elements() for d in self._leaves)):
            yield self._pack(list(elements))


class ConcatenateDataset(Dataset):
    def __init__(self, first: Dataset, second: Dataset) -> None:
        if not isinstance(second, Dataset):
            raise TypeError(f"Dataset.concatenate: expected a Dataset, got {type(second).__name__}")
        self._first, self._second = first, second

    def _inputs(self) -> list[Dataset]:
        return [self._first, self._second]

    def _cardinality(self) -> int:
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        if UNKNOWN_CARDINALITY in (a, b):
            return UNKNOWN_CARDINALITY
        return a + b

    def _element_spec(self) -> Any:
        a, b = self._first.element_spec, self._second.element_spec
        merged = merge_specs(a, b)
        if merged is None:
            raise TypeError(f"Dataset.concatenate: the datasets' elements differ in structure or dtype: {a} and {b}")
        return merged

    def _iterate(self) -> Iterator[Any]:
        template = None
        for element in itertools.chain(self._first._elements(), self._second._elements()):
            if template is None:
                template = element
            elif not same_structure(template, element):
                raise TypeError(f"Dataset.concatenate: the datasets' elements differ in structure: "
                                f"{describe(template)} and {describe(element)}")
            yield element


class EnumerateDataset(Dataset):
    def __init__(self, source: Dataset, start: int) -> None:
        self._input, self._start = source, check_count("Dataset.enumerate start", start)

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _element_spec(self) -> Any:
        return TensorSpec((), np.int64), self._input.element_spec

    def _iterate(self) -> Iterator[Any]:
        for i, element in enumerate(self._input._elements(), self._start):
            yield np.int64(i), element
