"""What happens from one pass to the next: shuffle (a new order each pass), repeat, and the options attached to a
pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu import random as shendu_random
from shendu.data import plan as _plan
from shendu.data.dataset import INFINITE_CARDINALITY, Dataset, check_count
from shendu.data.options import Options
from shendu.data.plan import Slices
from shendu.data.shuffle import shuffle_elements, shuffle_indices


class ShuffleDataset(Dataset):
    def __init__(self, source: Dataset, buffer_size: int, seed: int | None, reshuffle: bool) -> None:
        self._input = source
        self._buffer = check_count("Dataset.shuffle", buffer_size)
        if self._buffer < 1:
            raise ValueError(f"Dataset.shuffle: buffer_size must be at least 1, got {buffer_size}")
        self._seed = int(shendu_random.generator().integers(2**63)) if seed is None else check_count(
            "Dataset.shuffle seed", seed)
        self._reshuffle = bool(reshuffle)
        self._seeds = np.random.default_rng(self._seed)

    def _rng(self) -> np.random.Generator:
        """A fresh generator per pass: a new order each pass when reshuffling, the same order otherwise."""
        return np.random.default_rng(self._seeds.integers(2**63) if self._reshuffle else self._seed)

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        return self._input_rechunked(lambda plan: shuffle_indices(plan.chunks(), self._buffer, self._rng()))

    def _iterate(self) -> Iterator[Any]:
        return shuffle_elements(self._input._elements(), self._buffer, self._rng())


class RepeatDataset(Dataset):
    def __init__(self, source: Dataset, count: int | None) -> None:
        self._input = source
        self._count = -1 if count is None else check_count("Dataset.repeat", count)

    def _cardinality(self) -> int:
        """TensorFlow's rule: repeating forever is infinite unless the input is empty, even of unknown size."""
        n = self._input._cardinality()
        if n == 0 or self._count == 0:
            return 0
        if self._count < 0:
            return INFINITE_CARDINALITY
        return n if n < 0 else n * self._count

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        return self._input_rechunked(lambda plan: _plan.repeat(plan.chunks, self._count, chunks=True))

    def _iterate(self) -> Iterator[Any]:
        return _plan.repeat(self._input._elements, self._count)


class OptionsDataset(Dataset):
    def __init__(self, source: Dataset, options: Options) -> None:
        if not isinstance(options, Options):
            raise TypeError(f"Dataset.with_options: expected a tf.data.Options, got {type(options).__name__}")
        self._input, self._options = source, options

    def options(self) -> Options:
        return self._input.options().merge(self._options)

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _slices(self) -> Slices | None:
        return self._input._slices()

    def _iterate(self) -> Iterator[Any]:
        return self._input._elements()
