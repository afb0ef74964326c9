"""Dataset: tf.data's input pipeline on NumPy, with elements seen as shendu Tensors.

Sources (from_tensor_slices, from_tensors, range, from_generator, list_files, the file readers) feed
transformations (shuffle, batch, map, filter, window, zip, cache, ...), each a small class in the module of its
family. Inside the pipeline elements are structures of NumPy arrays; iteration and the functions given to map,
filter, flat_map, ... see them as Tensors that share the arrays' memory. Slices of in-memory arrays travel as index
chunks until `batch` (see `plan.py`), so an MNIST epoch costs milliseconds instead of 60,000 element copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu.data.options import Options
from shendu.data.plan import Slices, gather_elements
from shendu.data.spec import spec_of
from shendu.data.structure import map_structure, to_numpy, to_raw, to_tensors
from shendu.tensor import Tensor, make_tensor

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_END = object()


def check_count(where: str, value: Any) -> int:
    """An integer argument (a Python or NumPy integer, or a 0-d integer Tensor), else a TypeError naming `where`."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: expected an integer, got {value!r}")
    return int(value)


def check_callable(where: str, fn: Any) -> Callable[..., Any]:
    if not callable(fn):
        raise TypeError(f"{where}: expected a callable, got {type(fn).__name__}")
    return fn


def call(fn: Callable[..., Any], element: Any) -> Any:
    """fn on an internal element seen as Tensors; a plain tuple is unpacked into arguments (tf.data's rule)."""
    element = to_tensors(element)
    return fn(*element) if type(element) is tuple else fn(element)


class Dataset:
    """A re-iterable pipeline of elements; each `iter()` starts a new pass (a new shuffle order)."""

    # --- sources ---------------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """Elements are the slices along the first axis of x, of (x, y), (x, y, w), a dict or any nest of these."""
        return _sources.TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors: Any) -> Dataset:
        """One element: the given tensor or structure of tensors, whole."""
        return _sources.TensorSliceDataset(tensors, whole=True)

    @staticmethod
    def range(*args: Any, output_type: Any = np.int64) -> Dataset:
        """range(stop), range(start, stop) or range(start, stop, step), as Python's range, of dtype output_type."""
        return _sources.RangeDataset(args, output_type)

    @staticmethod
    def from_generator(generator: Callable[..., Any], output_types: Any = None, output_shapes: Any = None,
                       args: tuple | None = None, output_signature: Any = None) -> Dataset:
        """Elements from generator(*args), called afresh for each pass; leaves become arrays of the given types,
        checked against the shapes (None for any size). output_signature: a structure of TensorSpecs."""
        return _sources.GeneratorDataset(generator, output_types, output_shapes, tuple(args or ()), output_signature)

    @staticmethod
    def list_files(file_pattern: Any, shuffle: bool | None = None, seed: int | None = None) -> Dataset:
        """The file names matching a glob pattern (or list of patterns), as byte strings; shuffled by default."""
        return _sources.list_files(file_pattern, shuffle, seed)

    @staticmethod
    def zip(*datasets: Any) -> Dataset:
        """Elements are the structure of the datasets' elements, in step: zip((a, b)), zip(a, b) or zip({'k': a})."""
        return _combining.ZipDataset(datasets[0] if len(datasets) == 1 else datasets)

    # --- transformations -------------------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True) -> Dataset:
        """Shuffle through a buffer of buffer_size elements (>= the dataset's size: a uniform permutation).

        seed=None draws one from shendu.random, so `shendu.random.seed(s)` makes the orders repeatable.
        """
        return _passes.ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: int | None = None,
              deterministic: bool | None = None) -> Dataset:
        """Stack consecutive elements into batches (the last one smaller unless drop_remainder)."""
        return _batching.BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size: int, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False) -> Dataset:
        """Batches of elements padded at the end of each axis to padded_shapes (None or -1: the batch's longest),
        with padding_values (default 0, or b'' for strings)."""
        return _batching.PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self) -> Dataset:
        """Split each element along its first axis into as many elements (the inverse of batch)."""
        return _batching.UnbatchDataset(self)

    def rebatch(self, batch_size: Any, drop_remainder: bool = False) -> Dataset:
        """Re-cut the stream of rows into batches of batch_size (a list of sizes: used in turn)."""
        return _batching.RebatchDataset(self, batch_size, drop_remainder)

    def map(self, map_func: Callable[..., Any], num_parallel_calls: int | None = None,
            deterministic: bool | None = None) -> Dataset:
        """Apply map_func to each element (to each batch after `batch`); a tuple element is unpacked into args."""
        return _mapping.MapDataset(self, map_func)

    def flat_map(self, map_func: Callable[..., Any]) -> Dataset:
        """Map each element to a Dataset and chain their elements."""
        return _mapping.FlatMapDataset(self, map_func)

    def interleave(self, map_func: Callable[..., Any], cycle_length: int | None = None,
                   block_length: int | None = None, num_parallel_calls: int | None = None,
                   deterministic: bool | None = None) -> Dataset:
        """Map elements to Datasets and take block_length elements from each of cycle_length of them in turn
        (cycle_length None or AUTOTUNE: the number of CPU cores, as TensorFlow)."""
        return _mapping.InterleaveDataset(self, map_func, cycle_length, block_length)

    def filter(self, predicate: Callable[..., Any]) -> Dataset:
        """The elements for which predicate returns True."""
        return _selection.FilterDataset(self, predicate)

    def take_while(self, predicate: Callable[..., Any]) -> Dataset:
        """The elements up to (not including) the first for which predicate returns False."""
        return _selection.TakeWhileDataset(self, predicate)

    def take(self, count: int) -> Dataset:
        """The first count elements (-1: all)."""
        return _selection.TakeDataset(self, count)

    def skip(self, count: int) -> Dataset:
        """All but the first count elements (-1: skip all)."""
        return _selection.SkipDataset(self, count)

    def shard(self, num_shards: int, index: int) -> Dataset:
        """Every num_shards-th element, starting with element `index`."""
        return _selection.ShardDataset(self, num_shards, index)

    def enumerate(self, start: int = 0) -> Dataset:
        """Elements become (i, element) with i counting from start (int64)."""
        return _combining.EnumerateDataset(self, start)

    def concatenate(self, dataset: Dataset) -> Dataset:
        """This dataset's elements, then those of `dataset` (same structure and dtypes)."""
        return _combining.ConcatenateDataset(self, dataset)

    def window(self, size: int, shift: int | None = None, stride: int = 1, drop_remainder: bool = False) -> Dataset:
        """Elements become windows: datasets of `size` elements (every stride-th), a window starting every shift
        elements (default size); each component of a structured element becomes its own dataset."""
        return _windowing.WindowDataset(self, size, shift, stride, drop_remainder)

    def repeat(self, count: int | None = None) -> Dataset:
        """Repeat the dataset count times (None or -1: forever); each pass reshuffles what `shuffle` does."""
        return _passes.RepeatDataset(self, count)

    def cache(self, filename: str = "") -> Dataset:
        """Keep the elements of the first complete pass and replay them afterwards: in memory, or also in the file
        `filename + '.safetensors'`, which later runs read instead of running the pipeline."""
        return _cache.CacheDataset(self, filename)

    def prefetch(self, buffer_size: int) -> Dataset:
        """Prepare up to buffer_size elements ahead on a background thread (AUTOTUNE: a few)."""
        return _prefetch.PrefetchDataset(self, buffer_size)

    def with_options(self, options: Options) -> Dataset:
        """The same elements with `options` merged into this pipeline's options (see `shendu.data.options`)."""
        return _passes.OptionsDataset(self, options)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """transformation_func(self), which must return a Dataset (for chaining custom transformations)."""
        out = check_callable("Dataset.apply", transformation_func)(self)
        if not isinstance(out, Dataset):
            raise TypeError(f"Dataset.apply: transformation_func must return a Dataset, got {type(out).__name__}")
        return out

    # --- inspection and iteration ----------------------------------------------------------------------------
    def cardinality(self) -> Tensor:
        """The number of elements as a 0-d int64 Tensor: INFINITE_CARDINALITY (-1) or UNKNOWN_CARDINALITY (-2)
        when the pipeline cannot tell without running (a filter, a generator)."""
        return make_tensor(np.asarray(self._cardinality(), dtype=np.int64), None)

    @property
    def element_spec(self) -> Any:
        """The structure of TensorSpecs (shape, dtype) of an element; where only running the pipeline can tell
        (after map, from an untyped generator), the spec of the first element."""
        spec = self.__dict__.get("_spec_cache")
        if spec is None:
            spec = self._element_spec()
            if spec is None:
                spec = spec_of(self._first("element_spec"))
            self.__dict__["_spec_cache"] = spec
        return spec

    def options(self) -> Options:
        """The options attached with `with_options` anywhere upstream (merged, the later ones winning)."""
        upstream = [d.options() for d in self._inputs()]
        merged = Options()
        for opts in upstream:
            merged = merged.merge(opts)
        return merged

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> DatasetIterator:
        return DatasetIterator(self)

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterate with every leaf as a NumPy array, or a NumPy scalar (bytes for a string) when 0-d."""
        return (map_structure(to_numpy, element) for element in self._elements())

    def reduce(self, initial_state: Any, reduce_func: Callable[[Any, Any], Any]) -> Any:
        """Fold the elements into a state: state = reduce_func(state, element), from initial_state; Tensors."""
        check_callable("Dataset.reduce", reduce_func)
        state = to_raw(initial_state, "Dataset.reduce initial_state")
        for element in self._elements():
            state = to_raw(reduce_func(to_tensors(state), to_tensors(element)), "Dataset.reduce reduce_func")
        return to_tensors(state)

    def get_single_element(self) -> Any:
        """The one element of a dataset that has exactly one, else a ValueError."""
        elements = self._elements()
        first = next(elements, _END)
        extra = first is not _END and next(elements, _END) is not _END
        close = getattr(elements, "close", None)
        if close is not None:
            close()
        if first is _END:
            raise ValueError("Dataset.get_single_element: the dataset is empty; it must have exactly one element")
        if extra:
            raise ValueError("Dataset.get_single_element: the dataset has more than one element")
        return to_tensors(first)

    def __repr__(self) -> str:
        n = self._cardinality()
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, str(n))
        return f"<{type(self).__name__} cardinality={size}>"

    # --- what each kind of dataset defines -------------------------------------------------------------------
    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _element_spec(self) -> Any:
        """The spec known without running the pipeline, or None."""
        return None

    def _inputs(self) -> list[Dataset]:
        input_ = getattr(self, "_input", None)
        return [] if input_ is None else [input_]

    def _slices(self) -> Slices | None:
        """The index plan when elements are still rows of in-memory arrays, else None (called once per pass)."""
        return None

    def _input_rechunked(self, chunks: Callable[[Slices], Iterator[Any]]) -> Slices | None:
        """The input's index plan with its chunk stream replaced by `chunks(plan)` (None when it has no plan), for
        the kinds (shuffle, repeat, skip, shard, cache) that reorder or select rows without touching them."""
        plan = self._input._slices()
        return None if plan is None else plan.with_chunks(lambda: chunks(plan))

    def _iterate(self) -> Iterator[Any]:
        raise NotImplementedError

    def _elements(self) -> Iterator[Any]:
        """One pass over the internal elements (NumPy leaves)."""
        plan = self._slices()
        if plan is not None:
            return gather_elements(plan)
        return self._iterate()

    def _first(self, where: str) -> Any:
        """The first internal element, or a ValueError naming `where` for an empty dataset."""
        elements = self._elements()
        try:
            return next(elements)
        except StopIteration:
            raise ValueError(f"Dataset.{where}: the dataset is empty, so the structure of its elements is unknown") \
                from None
        finally:
            close = getattr(elements, "close", None)
            if close is not None:
                close()


class DatasetIterator:
    """One pass over a dataset (`iter(ds)`): `next(it)` or `it.get_next()` give the next element as Tensors."""

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._elements = dataset._elements()

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        return to_tensors(next(self._elements))

    def get_next(self) -> Any:
        """The next element (StopIteration at the end, TensorFlow's OutOfRangeError)."""
        return next(self)

    @property
    def element_spec(self) -> Any:
        return self._dataset.element_spec

    def close(self) -> None:
        """Stop the pass early (ends a prefetch thread at once instead of at garbage collection)."""
        close = getattr(self._elements, "close", None)
        if close is not None:
            close()


from shendu.data import (  # noqa: E402  (the dataset kinds subclass Dataset, so they load after it)
    batching as _batching,
)
from shendu.data import cache as _cache  # noqa: E402
from shendu.data import combining as _combining  # noqa: E402
from shendu.data import mapping as _mapping  # noqa: E402
from shendu.data import passes as _passes  # noqa: E402
from shendu.data import prefetch as _prefetch  # noqa: E402
from shendu.data import selection as _selection  # noqa: E402
from shendu.data import sources as _sources  # noqa: E402
from shendu.data import windowing as _windowing  # noqa: E402
