"""Nested element structures (tuples, namedtuples, dicts of arrays), as tf.data sees them.

Tuples and dicts are structure; everything else, lists included, is a leaf converted to one array (tf.data's rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def is_nested(value: Any) -> bool:
    return isinstance(value, (tuple, dict))


def flatten(value: Any) -> list[Any]:
    """The leaves of a structure in a fixed order (dict keys in insertion order)."""
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in flatten(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in flatten(item)]
    return [value]


def packer(template: Any) -> Callable[[list[Any]], Any]:
    """A function that rebuilds `template`'s structure from a flat list of leaves (as from `flatten`)."""
    if not is_nested(template):
        return lambda leaves: leaves[0]
    if isinstance(template, tuple) and all(not is_nested(item) for item in template):
        make = type(template)._make if hasattr(template, "_fields") else tuple
        return make
    counts = [len(flatten(item)) for item in (template.values() if isinstance(template, dict) else template)]
    parts = [packer(item) for item in (template.values() if isinstance(template, dict) else template)]

    def pack(leaves: list[Any]) -> Any:
        items, start = [], 0
        for count, part in zip(counts, parts):
            items.append(part(leaves[start:start + count]))
            start += count
        if isinstance(template, dict):
            return dict(zip(template.keys(), items))
        return type(template)(*items) if hasattr(template, "_fields") else tuple(items)

    return pack


def map_structure(fn: Callable[[Any], Any], value: Any) -> Any:
    """Apply fn to every leaf, keeping the structure."""
    return packer(value)([fn(leaf) for leaf in flatten(value)])


def same_structure(a: Any, b: Any) -> bool:
    """Whether two elements have the same nesting (types and dict keys), ignoring the leaves."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_structure(a[k], b[k]) for k in a)
    return not is_nested(a) and not is_nested(b)


def to_arrays(value: Any) -> Any:
    """Every leaf as a NumPy array (lists too, as tf.data converts them to one tensor)."""
    return map_structure(np.asarray, value)


def describe(value: Any) -> str:
    """A short text of an element's structure with leaf shapes and dtypes, for error messages."""
    def leaf(x: Any) -> str:
        arr = np.asarray(x)
        return f"{arr.dtype}{list(arr.shape)}"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    return leaf(value)
