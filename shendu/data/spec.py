"""Element specs: what `Dataset.element_spec` describes (a tf.TensorSpec per leaf: shape with None for unknown
sizes, and dtype; a DatasetSpec for the windows of `window`), and what `from_generator(output_signature=...)` reads
(any object with `.shape` and `.dtype`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.data.structure import is_dataset, map_structure
from shendu.tensor_spec import TensorSpec


def dims(shape: Any) -> tuple[int | None, ...] | None:
    """A shape (TensorShape, tuple or list; -1 or None: an unknown size) as a tuple; None if the rank is unknown."""
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return tuple(None if d is None or d == -1 else int(d) for d in shape)


def prepend(first: int | None, shape: Any) -> tuple[int | None, ...] | None:
    """The shape with a leading batch axis of size `first` (unknown rank stays unknown)."""
    known = dims(shape)
    return None if known is None else (first, *known)


class DatasetSpec:
    """The type of an element that is itself a dataset (the windows of `Dataset.window`)."""

    def __init__(self, element_spec: Any) -> None:
        self.element_spec = element_spec

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetSpec) and self.element_spec == other.element_spec

    def __hash__(self) -> int:
        return hash(repr(self.element_spec))

    def __repr__(self) -> str:
        return f"DatasetSpec({self.element_spec!r})"


def shape_fits(shape: Any, expected: tuple | None) -> bool:
    """Whether a concrete or partial shape fits an expected one (None: any rank, or any size on an axis)."""
    if expected is None or shape is None:
        return True
    shape = tuple(shape)
    return len(shape) == len(expected) and all(e is None or s is None or s == e for s, e in zip(shape, expected))


def spec_of(element: Any) -> Any:
    """The spec of a concrete internal element (NumPy leaves, or datasets)."""
    def leaf(x: Any) -> Any:
        if is_dataset(x):
            return DatasetSpec(x.element_spec)
        arr = np.asarray(x)
        return TensorSpec(arr.shape, arr.dtype)
    return map_structure(leaf, element)


def map_specs(fn: Any, spec: Any, where: str) -> Any:
    """Apply fn to every TensorSpec of a spec structure (refusing dataset elements, which have no shape)."""
    def leaf(s: Any) -> Any:
        if not isinstance(s, TensorSpec):
            raise TypeError(f"{where}: elements that are datasets (from `window`) cannot be batched; "
                            "flat_map them into tensors first")
        return fn(s)
    return map_structure(leaf, spec)


def merge_specs(a: Any, b: Any) -> Any:
    """The most specific spec both a and b fit (sizes that differ become None), or None if they cannot merge."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return None
        parts = [merge_specs(x, y) for x, y in zip(a, b)]
        return None if any(p is None for p in parts) else type(a)(*parts) if hasattr(a, "_fields") else tuple(parts)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return None
        parts = {k: merge_specs(a[k], b[k]) for k in a}
        return None if any(p is None for p in parts.values()) else parts
    if isinstance(a, TensorSpec) and isinstance(b, TensorSpec) and a.dtype == b.dtype:
        da, db = dims(a.shape), dims(b.shape)
        if da is None or db is None or len(da) != len(db):
            return TensorSpec(None, a.dtype)
        return TensorSpec([x if x == y else None for x, y in zip(da, db)], a.dtype)
    if isinstance(a, DatasetSpec) and isinstance(b, DatasetSpec):
        inner = merge_specs(a.element_spec, b.element_spec)
        return None if inner is None else DatasetSpec(inner)
    return None
