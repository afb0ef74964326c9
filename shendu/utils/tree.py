"""Nested structures of lists, tuples and dicts (Keras's `keras.tree`): their leaves in order, rebuilt, mapped.

Lists, tuples (namedtuples included) and dicts are structure; everything else, None included, is a leaf. Dict
leaves come in insertion order. (tf.data's element structures, where a list is one leaf, are `shendu.data.structure`.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_END = object()


def is_nested(x: Any) -> bool:
    """Whether x is structure (a list, tuple or dict) rather than a leaf."""
    return isinstance(x, (list, tuple, dict))


def flatten(x: Any) -> list[Any]:
    """The leaves of x in order, depth first: flatten([a, (b, {"k": c})]) == [a, b, c]; a leaf gives [x]."""
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in flatten(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in flatten(v)]
    return [x]


def map_structure(f: Callable[[Any], Any], x: Any) -> Any:
    """x with every leaf replaced by f(leaf), the structure (types, dict keys) kept."""
    if isinstance(x, (list, tuple)):
        items = [map_structure(f, v) for v in x]
        return type(x)(*items) if isinstance(x, tuple) and hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: map_structure(f, v) for k, v in x.items()}
    return f(x)


def is_shape_tuple(x: Any) -> bool:
    """Whether x is one shape (a list or tuple of ints and None) rather than a structure of shapes."""
    return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def map_shape_structure(f: Callable[[Any], Any], x: Any) -> Any:
    """`map_structure` with each shape (see `is_shape_tuple`) as one leaf: f(shape) for every shape in x."""
    if is_shape_tuple(x):
        return f(x)
    if isinstance(x, (list, tuple)):
        items = [map_shape_structure(f, v) for v in x]
        return type(x)(*items) if isinstance(x, tuple) and hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: map_shape_structure(f, v) for k, v in x.items()}
    return f(x)


def pack_sequence_as(structure: Any, flat_sequence: Sequence[Any]) -> Any:
    """`structure` with its leaves replaced, in order, by those of `flat_sequence` (the inverse of `flatten`)."""
    leaves = iter(flat_sequence)
    try:
        packed = map_structure(lambda _: next(leaves), structure)
    except StopIteration:
        packed = _END
    if packed is _END or next(leaves, _END) is not _END:
        raise ValueError(f"pack_sequence_as: the structure has {len(flatten(structure))} leaves but "
                         f"{len(flat_sequence)} were given")
    return packed
