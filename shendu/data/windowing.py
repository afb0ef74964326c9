"""Dataset.window: windows of consecutive elements, each window's components themselves datasets (tf.data's rule),
so that `ds.window(n).flat_map(lambda w: w.batch(n))` gives the windows as tensors."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import Dataset, check_count
from shendu.data.sources import ElementsDataset, TensorSliceDataset
from shendu.data.spec import DatasetSpec
from shendu.data.structure import flatten, map_structure, packer

_END = object()


def _component(values: list[Any]) -> Dataset:
    """One component of a window as a dataset: slices of one stacked array when the values share shape and dtype."""
    arrays = [np.asarray(v) for v in values]
    if len({(a.shape, a.dtype) for a in arrays}) == 1:
        return TensorSliceDataset(np.stack(arrays))
    return ElementsDataset(values)


class WindowDataset(Dataset):
    def __init__(self, source: Dataset, size: int, shift: int | None, stride: int, drop_remainder: bool) -> None:
        where = "Dataset.window"
        self._input = source
        self._size = check_count(f"{where} size", size)
        self._shift = self._size if shift is None else check_count(f"{where} shift", shift)
        self._stride = check_count(f"{where} stride", stride)
        if min(self._size, self._shift, self._stride) < 1:
            raise ValueError(f"{where}: size, shift and stride must be at least 1, got size={size}, shift={shift}, "
                             f"stride={stride}")
        self._drop = bool(drop_remainder)

    def _cardinality(self) -> int:
        """TensorFlow's count: full windows only with drop_remainder, else one window per shift position."""
        n = self._input._cardinality()
        if n < 0:
            return n
        if self._drop:
            rest = n - ((self._size - 1) * self._stride + 1)
            return 0 if rest < 0 else rest // self._shift + 1
        return -(-n // self._shift)

    def _element_spec(self) -> Any:
        return map_structure(DatasetSpec, self._input.element_spec)

    def _iterate(self) -> Iterator[Any]:
        span = (self._size - 1) * self._stride + 1
        elements = self._input._elements()
        held: deque[Any] = deque()
        base, start, exhausted = 0, 0, False  # base: the index of held[0] (or of the next element read)
        while True:
            while not exhausted and base + len(held) < start + span:
                element = next(elements, _END)
                if element is _END:
                    exhausted = True
                elif not held and base < start:
                    base += 1  # before this window's start (shift > span): never needed
                else:
                    held.append(element)
            end = base + len(held)
            if start >= end:
                return
            picked = [held[i - base] for i in range(start, min(start + span, end), self._stride)]
            if len(picked) < self._size and self._drop:
                return
            pack = packer(picked[0])
            columns = zip(*(flatten(e) for e in picked))
            yield pack([_component(list(values)) for values in columns])
            start += self._shift
            while held and base < start:
                held.popleft()
                base += 1
