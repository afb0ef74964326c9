"""Batches: batch (one gather per array on an index plan, else a stack of elements), padded_batch, unbatch and
rebatch (the rows of batches re-cut into other batch sizes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import Dataset, check_count
from shendu.data.plan import gather_batches
from shendu.data.spec import TensorSpec, dims, map_specs, prepend
from shendu.data.structure import box, boxed_positions, describe, flatten, is_dataset, packer


def _batch_size(where: str, value: Any) -> int:
    size = check_count(where, value)
    if size < 1:
        raise ValueError(f"{where}: batch_size must be at least 1, got {value}")
    return size


def _batched_cardinality(n: int, size: int, drop: bool) -> int:
    if n < 0:
        return n
    return n // size if drop else -(-n // size)


class BatchDataset(Dataset):
    def __init__(self, source: Dataset, batch_size: int, drop_remainder: bool) -> None:
        self._input = source
        self._size = _batch_size("Dataset.batch", batch_size)
        self._drop = bool(drop_remainder)

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)

    def _element_spec(self) -> Any:
        first = self._size if self._drop else None
        return map_specs(lambda s: TensorSpec(prepend(first, s.shape), s.dtype),
                         self._input.element_spec, "Dataset.batch")

    def _iterate(self) -> Iterator[Any]:
        plan = self._input._slices()
        if plan is None:
            return _stack_batches(self._input._elements(), self._size, self._drop)
        return gather_batches(plan, self._size, self._drop)


def _groups(elements: Iterator[Any], size: int, drop: bool) -> Iterator[list[Any]]:
    group: list[Any] = []
    for element in elements:
        group.append(element)
        if len(group) == size:
            yield group
            group = []
    if group and not drop:
        yield group


def _stack_batches(elements: Iterator[Any], batch_size: int, drop_remainder: bool) -> Iterator[Any]:
    for group in _groups(elements, batch_size, drop_remainder):
        yield _stack(group)


def _columns(elements: list[Any], where: str) -> list[tuple[Any, ...]]:
    """The leaves of same-structured elements, grouped by position."""
    columns = [flatten(e) for e in elements]
    width = len(columns[0])
    if any(len(c) != width for c in columns):
        raise ValueError(f"{where}: elements have different structures, e.g. {describe(elements[0])}")
    if any(is_dataset(x) for x in columns[0]):
        raise TypeError(f"{where}: elements that are datasets (from `window`) cannot be batched; "
                        "flat_map them into tensors first")
    return list(zip(*columns))


def _stack(elements: list[Any]) -> Any:
    try:
        return packer(elements[0])([np.stack(leaves) for leaves in _columns(elements, "Dataset.batch")])
    except ValueError as e:
        if "structures" in str(e):
            raise
        shapes = sorted({describe(x) for x in elements}, key=str)[:3]
        raise ValueError(f"Dataset.batch: cannot stack elements of different shapes into one batch: {shapes}; "
                         "padded_batch pads them to one shape") from e


def _default_padding(dtype: np.dtype) -> Any:
    return b"" if dtype.kind in "OS" else "" if dtype.kind == "U" else 0


class PaddedBatchDataset(Dataset):
    def __init__(self, source: Dataset, batch_size: int, padded_shapes: Any, padding_values: Any,
                 drop_remainder: bool) -> None:
        self._input = source
        self._size = _batch_size("Dataset.padded_batch", batch_size)
        self._shapes, self._values, self._drop = padded_shapes, padding_values, bool(drop_remainder)

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)

    def _element_spec(self) -> Any:
        spec = self._input.element_spec
        specs = flatten(spec)
        shapes = self._leaf_shapes(len(specs))
        first = self._size if self._drop else None
        out = []
        for s, padded in zip(specs, shapes):
            if not isinstance(s, TensorSpec):
                raise TypeError("Dataset.padded_batch: elements that are datasets cannot be batched")
            out.append(TensorSpec(prepend(first, s.shape if padded is None else padded), s.dtype))
        return packer(spec)(out)

    def _leaf_shapes(self, width: int) -> list[Any]:
        """One padded shape per leaf (None: pad every axis to the batch's longest); -1 and None mean 'longest'."""
        if self._shapes is None:
            return [None] * width
        shapes = _shape_leaves(self._shapes)
        if len(shapes) != width:
            raise ValueError(f"Dataset.padded_batch: padded_shapes describes {len(shapes)} components, the "
                             f"elements have {width}")
        return [None if s is None else [None if d is None or d == -1 else int(d) for d in s] for s in shapes]

    def _leaf_values(self, width: int, dtypes: list[np.dtype]) -> list[Any]:
        if self._values is None:
            return [_default_padding(d) for d in dtypes]
        values = flatten(self._values)
        if len(values) == 1 and width > 1:  # one scalar for every component (TensorFlow allows it)
            values = values * width
        if len(values) != width:
            raise ValueError(f"Dataset.padded_batch: padding_values describes {len(values)} components, the "
                             f"elements have {width}; give one scalar per component (None: the default)")
        return [_default_padding(d) if v is None else v for v, d in zip(values, dtypes)]

    def _iterate(self) -> Iterator[Any]:
        shapes = values = None
        for group in _groups(self._input._elements(), self._size, self._drop):
            columns = _columns(group, "Dataset.padded_batch")
            if shapes is None:
                shapes = self._leaf_shapes(len(columns))
                values = self._leaf_values(len(columns), [np.asarray(c[0]).dtype for c in columns])
            yield packer(group[0])([_pad_stack(c, s, v) for c, s, v in zip(columns, shapes, values)])


def _shape_leaves(shapes: Any) -> list[Any]:
    """Leaves of a padded_shapes structure: a shape is a list/tuple of ints, -1 and None, or None itself."""
    if isinstance(shapes, (int, np.integer)):  # a length, for a component of rank one
        return [[int(shapes)]]
    if shapes is None or (isinstance(shapes, (list, tuple)) and
                          all(d is None or isinstance(d, (int, np.integer)) for d in shapes)):
        return [shapes]
    if not isinstance(shapes, (list, tuple, dict)):  # a Tensor or array of sizes
        return [np.asarray(shapes).tolist()]
    items = shapes.values() if isinstance(shapes, dict) else shapes
    return [leaf for item in items for leaf in _shape_leaves(item)]


def _pad_stack(leaves: tuple[Any, ...], padded: list[int | None] | None, value: Any) -> np.ndarray:
    arrays = [np.asarray(x) for x in leaves]
    rank = arrays[0].ndim
    if any(a.ndim != rank for a in arrays):
        raise ValueError(f"Dataset.padded_batch: elements of different ranks cannot be padded together: "
                         f"{sorted({a.shape for a in arrays})[:3]}")
    longest = np.max([a.shape for a in arrays], axis=0).tolist() if rank else []
    if padded is None:
        target = longest
    else:
        if len(padded) != rank:
            raise ValueError(f"Dataset.padded_batch: padded shape {padded} has rank {len(padded)}, the component "
                             f"has rank {rank}")
        target = [m if p is None else p for p, m in zip(padded, longest)]
        if any(m > t for m, t in zip(longest, target)):
            raise ValueError(f"Dataset.padded_batch: an element of shape {tuple(longest)} is larger than the "
                             f"padded shape {padded}")
    fill = np.asarray(value, dtype=arrays[0].dtype)
    if fill.ndim:
        raise ValueError(f"Dataset.padded_batch: a padding value must be a scalar, got shape {fill.shape}")
    out = np.full((len(arrays), *target), fill, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[(i, *(slice(0, n) for n in a.shape))] = a
    return out


class UnbatchDataset(Dataset):
    def __init__(self, source: Dataset) -> None:
        self._input = source

    def _element_spec(self) -> Any:
        def drop_first(s: TensorSpec) -> TensorSpec:
            known = dims(s.shape)
            if known == ():
                raise ValueError("Dataset.unbatch: a component is a scalar, which has no first axis to split")
            return TensorSpec(None if known is None else known[1:], s.dtype)
        return map_specs(drop_first, self._input.element_spec, "Dataset.unbatch")

    def _iterate(self) -> Iterator[Any]:
        for element in self._input._elements():
            leaves = [np.asarray(x) for x in flatten(element)]
            _check_rows(leaves, element, "Dataset.unbatch")
            pack, boxed = packer(element), boxed_positions(leaves)
            for i in range(len(leaves[0])):
                row = [a[i] for a in leaves]
                for k in boxed:
                    row[k] = box(row[k])
                yield pack(row)


def _check_rows(leaves: list[np.ndarray], element: Any, where: str) -> None:
    if any(a.ndim == 0 for a in leaves):
        raise ValueError(f"{where}: every component needs a first axis to split; got {describe(element)}")
    if len({len(a) for a in leaves}) > 1:
        raise ValueError(f"{where}: the components' first axes differ: {describe(element)}")


class RebatchDataset(Dataset):
    """unbatch().batch(n) without visiting rows one by one: rows are cut and joined as array slices."""

    def __init__(self, source: Dataset, batch_size: Any, drop_remainder: bool) -> None:
        self._input = source
        sizes = np.atleast_1d(np.asarray(batch_size.data if hasattr(batch_size, "data") else batch_size))
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not len(sizes):
            raise TypeError(f"Dataset.rebatch: batch_size must be an integer or a list of integers, got {batch_size}")
        if (sizes < 1).any():
            raise ValueError(f"Dataset.rebatch: every batch size must be at least 1, got {sizes.tolist()}")
        self._sizes, self._drop = [int(s) for s in sizes], bool(drop_remainder)

    def _element_spec(self) -> Any:
        first = self._sizes[0] if self._drop and len(set(self._sizes)) == 1 else None

        def rebatched(s: TensorSpec) -> TensorSpec:
            known = dims(s.shape)
            return TensorSpec(None if known is None else (first, *known[1:]), s.dtype)

        return map_specs(rebatched, self._input.element_spec, "Dataset.rebatch")

    def _iterate(self) -> Iterator[Any]:
        pending: list[list[np.ndarray]] = []
        have, turn, pack = 0, 0, None
        for element in self._input._elements():
            leaves = [np.asarray(x) for x in flatten(element)]
            _check_rows(leaves, element, "Dataset.rebatch")
            pack = pack or packer(element)
            pending.append(leaves)
            have += len(leaves[0])
            while have >= self._sizes[turn % len(self._sizes)]:
                size = self._sizes[turn % len(self._sizes)]
                batch, pending = _cut_rows(pending, size)
                have -= size
                turn += 1
                yield pack(batch)
        if have and not self._drop and pack is not None:
            yield pack([np.concatenate([p[k] for p in pending]) for k in range(len(pending[0]))])


def _cut_rows(pending: list[list[np.ndarray]], size: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """The first `size` rows of the pending pieces (joined), and the pieces left."""
    taken, rest, need = [], [], size
    for piece in pending:
        n = len(piece[0])
        if need >= n:
            taken.append(piece)
            need -= n
        elif need > 0:
            taken.append([a[:need] for a in piece])
            rest.append([a[need:] for a in piece])
            need = 0
        else:
            rest.append(piece)
    width = len(taken[0])
    batch = [taken[0][k] if len(taken) == 1 else np.concatenate([t[k] for t in taken]) for k in range(width)]
    return batch, rest
