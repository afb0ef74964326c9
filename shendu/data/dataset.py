"""Dataset: tf.data's input pipeline on NumPy (from_tensor_slices, shuffle, batch, map, prefetch, take, skip, repeat).

Slices of in-memory arrays travel as index arrays until `batch`, which gathers a whole batch with one fancy index
per component (or a view for unshuffled data), so an MNIST epoch costs milliseconds instead of 60,000 Python
element copies and stacks. Other pipelines (after a per-element map, from a generator) run element by element.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shendu import random as shendu_random
from shendu.data.prefetch import prefetch as _prefetch
from shendu.data.shuffle import IndexChunk, as_index_array, shuffle_elements, shuffle_indices
from shendu.data.structure import describe, flatten, packer, to_arrays

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_AUTOTUNE_PREFETCH = 4


@dataclass(frozen=True)
class _Slices:
    """An index plan: the flat component arrays, how to rebuild an element, and a fresh index stream per epoch."""

    arrays: list[np.ndarray]
    pack: Callable[[list[Any]], Any]
    chunks: Callable[[], Iterator[IndexChunk]]

    def with_chunks(self, chunks: Callable[[], Iterator[IndexChunk]]) -> _Slices:
        return _Slices(self.arrays, self.pack, chunks)


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Dataset.{name}: expected an integer, got {value!r}")
    return int(value)


class Dataset:
    """A re-iterable pipeline of elements; each `iter()` starts a new pass (a new shuffle order)."""

    # --- sources ---------------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """Elements are the slices along the first axis of x, of (x, y), (x, y, w), a dict or any nest of these."""
        return _TensorSliceDataset(tensors)

    @staticmethod
    def from_generator(generator: Callable[..., Any], output_types: Any = None, output_shapes: Any = None,
                       args: tuple | None = None) -> Dataset:
        """Elements from generator(*args), called afresh for each pass; leaves become arrays of output_types,
        checked against output_shapes (None for any size) when given."""
        return _GeneratorDataset(generator, output_types, output_shapes, tuple(args or ()))

    # --- transformations -------------------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True) -> Dataset:
        """Shuffle through a buffer of buffer_size elements (>= the dataset's size: a uniform permutation).

        seed=None draws one from shendu.random, so `shendu.random.seed(s)` makes the orders repeatable.
        """
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: int | None = None,
              deterministic: bool | None = None) -> Dataset:
        """Stack consecutive elements into batches (the last one smaller unless drop_remainder)."""
        return _BatchDataset(self, batch_size, drop_remainder)

    def map(self, map_func: Callable[..., Any], num_parallel_calls: int | None = None,
            deterministic: bool | None = None) -> Dataset:
        """Apply map_func to each element (to each batch after `batch`); a tuple element is unpacked into args."""
        return _MapDataset(self, map_func)

    def prefetch(self, buffer_size: int) -> Dataset:
        """Prepare up to buffer_size elements ahead on a background thread (AUTOTUNE: a few)."""
        return _PrefetchDataset(self, buffer_size)

    def take(self, count: int) -> Dataset:
        """The first count elements (-1: all)."""
        return _TakeDataset(self, count)

    def skip(self, count: int) -> Dataset:
        """All but the first count elements (-1: skip all)."""
        return _SkipDataset(self, count)

    def repeat(self, count: int | None = None) -> Dataset:
        """Repeat the dataset count times (None or -1: forever); each pass reshuffles what `shuffle` does."""
        return _RepeatDataset(self, count)

    # --- inspection and iteration ----------------------------------------------------------------------------
    def cardinality(self) -> int:
        """The number of elements, INFINITE_CARDINALITY (-1) or UNKNOWN_CARDINALITY (-2)."""
        raise NotImplementedError

    def __len__(self) -> int:
        n = self.cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Any]:
        plan = self._slices()
        if plan is not None:
            return _gather_elements(plan)
        return self._iterate()

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterate with every leaf as a NumPy array or scalar."""
        return (to_arrays(element) for element in self)

    def __repr__(self) -> str:
        n = self.cardinality()
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, str(n))
        return f"<{type(self).__name__.lstrip('_')} cardinality={size}>"

    def _slices(self) -> _Slices | None:
        """The index plan when elements are still rows of in-memory arrays, else None."""
        return None

    def _iterate(self) -> Iterator[Any]:
        raise NotImplementedError


def _gather_elements(plan: _Slices) -> Iterator[Any]:
    arrays, pack = plan.arrays, plan.pack
    for chunk in plan.chunks():
        for i in chunk if isinstance(chunk, range) else chunk.tolist():
            yield pack([a[i] for a in arrays])


def _cut_batches(chunks: Iterator[IndexChunk], batch_size: int, drop_remainder: bool) -> Iterator[IndexChunk]:
    """Regroup a stream of index chunks into chunks of batch_size (ranges stay ranges, so they slice as views)."""
    pending: list[IndexChunk] = []
    pending_len = 0
    for chunk in chunks:
        start, n = 0, len(chunk)
        if pending_len:
            start = min(batch_size - pending_len, n)
            pending.append(chunk[:start])
            pending_len += start
            if pending_len < batch_size:
                continue
            yield np.concatenate([as_index_array(c) for c in pending])
            pending, pending_len = [], 0
        while n - start >= batch_size:
            yield chunk[start:start + batch_size]
            start += batch_size
        if start < n:
            pending, pending_len = [chunk[start:]], n - start
    if pending_len and not drop_remainder:
        yield pending[0] if len(pending) == 1 else np.concatenate([as_index_array(c) for c in pending])


def _take_chunks(chunks: Iterator[IndexChunk], count: int) -> Iterator[IndexChunk]:
    for chunk in chunks:
        if count <= 0:
            return
        yield chunk[:count]
        count -= len(chunk)


def _skip_chunks(chunks: Iterator[IndexChunk], count: int) -> Iterator[IndexChunk]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:]
        count = 0


def _repeat(make: Callable[[], Iterator[Any]], count: int, chunks: bool = False) -> Iterator[Any]:
    """make()'s items, count times (forever if count < 0); stops early if a pass is empty.

    With chunks=True the items are index chunks, and a pass of empty chunks counts as empty.
    """
    passes = itertools.count() if count < 0 else range(count)
    for _ in passes:
        produced = False
        for item in make():
            if chunks and not len(item):
                continue
            produced = True
            yield item
        if not produced:
            return


class _TensorSliceDataset(Dataset):
    def __init__(self, tensors: Any) -> None:
        if tensors is None:
            raise ValueError("Dataset.from_tensor_slices: got None; expected an array or a tuple/dict of arrays")
        try:
            structure = to_arrays(tensors)
        except ValueError as e:
            raise ValueError(f"Dataset.from_tensor_slices: a component could not become one array ({e}); "
                             "use a tuple, not a list, to pass several arrays") from e
        arrays = flatten(structure)
        if not arrays:
            raise ValueError("Dataset.from_tensor_slices: got an empty structure; expected at least one array")
        if any(a.ndim == 0 for a in arrays):
            raise ValueError(f"Dataset.from_tensor_slices: every component needs a first axis to slice; "
                             f"got {describe(structure)}")
        if any(a.dtype == object for a in arrays):
            raise ValueError(f"Dataset.from_tensor_slices: a component is ragged (dtype object): {describe(structure)}")
        sizes = {len(a) for a in arrays}
        if len(sizes) > 1:
            raise ValueError("Dataset.from_tensor_slices: all components must have the same size along the first "
                             f"axis; got {describe(structure)}")
        self._n = sizes.pop()
        self._plan = _Slices(arrays, packer(structure), lambda: iter((range(self._n),)))

    def cardinality(self) -> int:
        return self._n

    def _slices(self) -> _Slices:
        return self._plan


class _GeneratorDataset(Dataset):
    def __init__(self, generator: Callable[..., Any], output_types: Any, output_shapes: Any, args: tuple) -> None:
        if not callable(generator):
            raise TypeError(f"Dataset.from_generator: generator must be a callable returning an iterator, "
                            f"got {type(generator).__name__}")
        self._generator, self._args = generator, args
        self._types = None if output_types is None else [np.dtype(t) for t in flatten(output_types)]
        self._shapes = None if output_shapes is None else _flatten_shapes(output_shapes)

    def cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        for element in self._generator(*self._args):
            leaves = flatten(element)
            expected = self._types or self._shapes
            if expected is not None and len(expected) != len(leaves):
                raise ValueError(f"Dataset.from_generator: the generator yielded {describe(element)}, which has "
                                 f"{len(leaves)} components; output_types/output_shapes describe {len(expected)}")
            arrays = [np.asarray(x, dtype=None if self._types is None else self._types[i])
                      for i, x in enumerate(leaves)]
            if self._shapes is not None:
                for a, shape in zip(arrays, self._shapes):
                    if shape is not None and (a.ndim != len(shape) or
                                              any(d is not None and d != s for d, s in zip(shape, a.shape))):
                        raise ValueError(f"Dataset.from_generator: the generator yielded a component of shape "
                                         f"{a.shape}; output_shapes expects {tuple(shape)}")
            yield packer(element)(arrays)


def _flatten_shapes(shapes: Any) -> list[Any]:
    """Leaves of an output_shapes structure, where a shape is a tuple/list of ints and None."""
    if shapes is None or (isinstance(shapes, (tuple, list)) and
                          all(d is None or isinstance(d, (int, np.integer)) for d in shapes)):
        return [shapes]
    items = shapes.values() if isinstance(shapes, dict) else shapes
    return [leaf for item in items for leaf in _flatten_shapes(item)]


class _ShuffleDataset(Dataset):
    def __init__(self, source: Dataset, buffer_size: int, seed: int | None, reshuffle: bool) -> None:
        self._input = source
        self._buffer = _check_count("shuffle", buffer_size)
        if self._buffer < 1:
            raise ValueError(f"Dataset.shuffle: buffer_size must be at least 1, got {buffer_size}")
        self._seed = int(shendu_random.generator().integers(2**63)) if seed is None else int(seed)
        self._reshuffle = reshuffle
        self._seeds = np.random.default_rng(self._seed)

    def _rng(self) -> np.random.Generator:
        """A fresh generator per pass: a new order each pass when reshuffling, the same order otherwise."""
        return np.random.default_rng(self._seeds.integers(2**63) if self._reshuffle else self._seed)

    def cardinality(self) -> int:
        return self._input.cardinality()

    def _slices(self) -> _Slices | None:
        plan = self._input._slices()
        if plan is None:
            return None
        return plan.with_chunks(lambda: shuffle_indices(plan.chunks(), self._buffer, self._rng()))

    def _iterate(self) -> Iterator[Any]:
        return shuffle_elements(self._input, self._buffer, self._rng())


class _BatchDataset(Dataset):
    def __init__(self, source: Dataset, batch_size: int, drop_remainder: bool) -> None:
        self._input = source
        self._size = _check_count("batch", batch_size)
        if self._size < 1:
            raise ValueError(f"Dataset.batch: batch_size must be at least 1, got {batch_size}")
        self._drop = bool(drop_remainder)

    def cardinality(self) -> int:
        n = self._input.cardinality()
        if n < 0:
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _iterate(self) -> Iterator[Any]:
        plan = self._input._slices()
        if plan is None:
            return _stack_batches(iter(self._input), self._size, self._drop)
        return _gather_batches(plan, self._size, self._drop)


def _gather_batches(plan: _Slices, batch_size: int, drop_remainder: bool) -> Iterator[Any]:
    arrays, pack = plan.arrays, plan.pack
    for index in _cut_batches(plan.chunks(), batch_size, drop_remainder):
        if isinstance(index, range):
            rows = slice(index.start, index.stop)
            yield pack([a[rows] for a in arrays])
        else:
            yield pack([a[index] for a in arrays])


def _stack_batches(elements: Iterator[Any], batch_size: int, drop_remainder: bool) -> Iterator[Any]:
    batch: list[Any] = []
    for element in elements:
        batch.append(element)
        if len(batch) == batch_size:
            yield _stack(batch)
            batch = []
    if batch and not drop_remainder:
        yield _stack(batch)


def _stack(elements: list[Any]) -> Any:
    first = elements[0]
    columns = [flatten(e) for e in elements]
    width = len(columns[0])
    if any(len(c) != width for c in columns):
        raise ValueError(f"Dataset.batch: elements have different structures, e.g. {describe(first)}")
    try:
        return packer(first)([np.stack(leaves) for leaves in zip(*columns)])
    except ValueError as e:
        shapes = sorted({describe(x) for x in elements}, key=str)[:3]
        raise ValueError(f"Dataset.batch: cannot stack elements of different shapes into one batch: {shapes}") from e


class _MapDataset(Dataset):
    def __init__(self, source: Dataset, map_func: Callable[..., Any]) -> None:
        if not callable(map_func):
            raise TypeError(f"Dataset.map: map_func must be callable, got {type(map_func).__name__}")
        self._input, self._fn = source, map_func

    def cardinality(self) -> int:
        return self._input.cardinality()

    def _iterate(self) -> Iterator[Any]:
        fn = self._fn
        for element in self._input:
            yield fn(*element) if type(element) is tuple else fn(element)


class _PrefetchDataset(Dataset):
    def __init__(self, source: Dataset, buffer_size: int) -> None:
        size = _check_count("prefetch", buffer_size)
        if size < 1 and size != AUTOTUNE:
            raise ValueError(f"Dataset.prefetch: buffer_size must be at least 1 or AUTOTUNE, got {buffer_size}")
        self._input, self._size = source, _AUTOTUNE_PREFETCH if size == AUTOTUNE else size

    def cardinality(self) -> int:
        return self._input.cardinality()

    def _iterate(self) -> Iterator[Any]:
        return _prefetch(self._input.__iter__, self._size)


class _TakeDataset(Dataset):
    def __init__(self, source: Dataset, count: int) -> None:
        self._input, self._count = source, _check_count("take", count)

    def cardinality(self) -> int:
        n = self._input.cardinality()
        if self._count < 0:
            return n
        if n == UNKNOWN_CARDINALITY:
            return n
        return self._count if n == INFINITE_CARDINALITY else min(n, self._count)

    def _slices(self) -> _Slices | None:
        plan = self._input._slices()
        if plan is None or self._count < 0:
            return plan
        return plan.with_chunks(lambda: _take_chunks(plan.chunks(), self._count))

    def _iterate(self) -> Iterator[Any]:
        return iter(self._input) if self._count < 0 else itertools.islice(self._input, self._count)


class _SkipDataset(Dataset):
    def __init__(self, source: Dataset, count: int) -> None:
        self._input, self._count = source, _check_count("skip", count)

    def cardinality(self) -> int:
        n = self._input.cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(n - self._count, 0)

    def _slices(self) -> _Slices | None:
        plan = self._input._slices()
        if plan is None:
            return None
        if self._count < 0:
            return plan.with_chunks(lambda: iter(()))
        return plan.with_chunks(lambda: _skip_chunks(plan.chunks(), self._count))

    def _iterate(self) -> Iterator[Any]:
        if self._count < 0:
            for _ in self._input:
                pass
            return iter(())
        return itertools.islice(self._input, self._count, None)


class _RepeatDataset(Dataset):
    def __init__(self, source: Dataset, count: int | None) -> None:
        self._input = source
        self._count = -1 if count is None else _check_count("repeat", count)

    def cardinality(self) -> int:
        n = self._input.cardinality()
        if n == 0 or self._count == 0:
            return 0
        if self._count < 0:
            return INFINITE_CARDINALITY if n != UNKNOWN_CARDINALITY else n
        return n if n < 0 else n * self._count

    def _slices(self) -> _Slices | None:
        plan = self._input._slices()
        if plan is None:
            return None
        return plan.with_chunks(lambda: _repeat(plan.chunks, self._count, chunks=True))

    def _iterate(self) -> Iterator[Any]:
        return _repeat(self._input.__iter__, self._count)

