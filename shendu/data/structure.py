"""Nested element structures (tuples, namedtuples, dicts of arrays), as tf.data sees them.

Tuples and dicts are structure; everything else, lists included, is a leaf converted to one array (tf.data's rule).
Inside a pipeline the leaves are NumPy arrays (or Datasets, for `window`); users see them as shendu Tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor, make_tensor

STRING_KINDS = "OSU"


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
    """Apply fn to every leaf, keeping the structure (namedtuples and dict keys included)."""
    if isinstance(value, tuple):
        items = [map_structure(fn, v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return fn(value)


def same_structure(a: Any, b: Any) -> bool:
    """Whether two elements have the same nesting (types and dict keys), ignoring the leaves."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_structure(a[k], b[k]) for k in a)
    return not is_nested(a) and not is_nested(b)


def _wrap(leaf: Any) -> Any:
    if isinstance(leaf, np.ndarray):
        return make_tensor(leaf, None)
    if isinstance(leaf, np.generic):
        return make_tensor(np.asarray(leaf), None)
    return leaf


def to_tensors(value: Any) -> Any:
    """An internal element as users see it: every array leaf a shendu Tensor sharing its memory (Datasets stay)."""
    kind = type(value)
    if kind is np.ndarray:
        return make_tensor(value, None)
    if kind is tuple:
        return tuple([to_tensors(v) for v in value])
    if isinstance(value, np.generic):
        return make_tensor(np.asarray(value), None)
    return map_structure(_wrap, value)


def to_raw(value: Any, where: str) -> Any:
    """A user's value (Tensors, arrays, Python numbers or strings) as an internal element of NumPy leaves;
    Python floats become floatx (float32), as tf.constant makes them; a top-level list becomes a tuple (tf.data's
    rule for function results)."""
    kind = type(value)
    if kind is Tensor:
        return value.data
    if kind is tuple and all(type(v) is Tensor for v in value):
        return tuple([v.data for v in value])
    if kind is list:
        value = tuple(value)

    def leaf(x: Any) -> Any:
        if isinstance(x, Tensor):
            return x.data
        if isinstance(x, np.ndarray) or is_dataset(x):
            return x
        if x is None:
            raise ValueError(f"{where}: got None where a tensor was expected")
        try:
            arr = backend.as_array(x)
        except ValueError as e:
            raise ValueError(f"{where}: {type(x).__name__} value could not become one array ({e})") from e
        if arr.dtype == object and not is_string_array(arr):
            raise ValueError(f"{where}: a value is ragged or mixed (NumPy dtype object): {x!r:.80}")
        return arr

    return map_structure(leaf, value)


def is_dataset(value: Any) -> bool:
    from shendu.data.dataset import Dataset
    return isinstance(value, Dataset)


def is_string_array(arr: np.ndarray) -> bool:
    """Whether arr holds text: a str/bytes dtype, or dtype object with only str and bytes items."""
    if arr.dtype.kind in "SU":
        return True
    return arr.dtype == object and all(isinstance(v, (str, bytes)) for v in arr.flat)


def as_bytes_array(value: Any, where: str) -> np.ndarray:
    """Text as TensorFlow's strings look from NumPy: an object array of bytes (str items encoded as UTF-8)."""
    arr = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for i, v in enumerate(arr.flat):
        if isinstance(v, (str, np.str_)):
            v = v.encode("utf-8")
        elif not isinstance(v, (bytes, np.bytes_)):
            raise TypeError(f"{where}: expected strings, got {type(v).__name__} {v!r:.40}")
        out.flat[i] = bytes(v)
    return out


def box(value: Any) -> np.ndarray:
    """A Python object (a string read from an object array) as a 0-d object array, so that leaves stay arrays."""
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def boxed_positions(arrays: list[Any]) -> list[int]:
    """The positions of 1-D object arrays, whose items are Python objects rather than arrays (see `box`)."""
    return [k for k, a in enumerate(arrays) if a.ndim == 1 and a.dtype.kind == "O"]


def to_numpy(leaf: Any) -> Any:
    """A leaf as `as_numpy_iterator` gives it: an array, or a NumPy scalar (bytes for a string) when 0-d."""
    if is_dataset(leaf):
        raise TypeError("Dataset.as_numpy_iterator: elements that are datasets (from `window`) have no NumPy value; "
                        "iterate them, or flat_map them into tensors first")
    arr = leaf if isinstance(leaf, np.ndarray) else np.asarray(leaf)
    return arr[()] if arr.ndim == 0 else arr


def describe(value: Any) -> str:
    """A short text of an element's structure with leaf shapes and dtypes, for error messages."""
    def leaf(x: Any) -> str:
        if is_dataset(x):
            return "Dataset"
        arr = np.asarray(x)
        return f"{arr.dtype}{list(arr.shape)}"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    return leaf(value)
