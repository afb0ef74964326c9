"""Dataset.cache: the first complete pass is kept and replayed; with a filename it is also written to a safetensors
file that later runs read instead of running the pipeline (no pickle: numbers as tensors, text as UTF-8 bytes).

A pass that stops early keeps nothing (tf.data's rule). Kept elements that share shapes and dtypes become one array
per component, so later passes batch them with one gather, as slices of in-memory arrays.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import Dataset
from shendu.data.plan import Slices
from shendu.data.shuffle import IndexChunk, as_index_array
from shendu.data.structure import STRING_KINDS, flatten, packer
from shendu.saving import safetensors_format

FORMAT = "shendu.data.cache/1"


class CacheDataset(Dataset):
    def __init__(self, source: Dataset, filename: Any) -> None:
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"Dataset.cache: filename must be a path or '' (in memory), got {filename!r}")
        self._input = source
        self._path = os.fspath(filename) + ".safetensors" if os.fspath(filename) else None
        self._plan: Slices | None = None
        self._kept: list[Any] | None = None

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _ready(self) -> bool:
        if self._plan is None and self._kept is None and self._path is not None and os.path.exists(self._path):
            self._keep(*read_cache_file(self._path))
        return self._plan is not None or self._kept is not None

    def _slices(self) -> Slices | None:
        if self._ready():
            return self._plan
        return self._input_rechunked(self._record_chunks)

    def _iterate(self) -> Iterator[Any]:
        if self._ready():
            return iter(self._kept or ())
        return self._record_elements()

    def _record_chunks(self, plan: Slices) -> Iterator[IndexChunk]:
        if self._plan is not None:
            yield from self._plan.chunks()
            return
        chunks = []
        for chunk in plan.chunks():
            chunks.append(chunk)
            yield chunk
        if self._plan is None:
            self._finish(Slices(plan.arrays, plan.pack, lambda: iter(chunks)), None)

    def _record_elements(self) -> Iterator[Any]:
        kept = []
        for element in self._input._elements():
            kept.append(element)
            yield element
        if self._plan is None and self._kept is None:
            stacked = _stack_if_uniform(kept)
            plan = None if stacked is None else Slices(stacked, packer(kept[0]), lambda: iter((range(len(kept)),)))
            self._finish(plan, kept)

    def _finish(self, plan: Slices | None, kept: list[Any] | None) -> None:
        """Keep a completed pass (a plan, or the list of elements), writing it to the cache file if there is one."""
        if self._path is not None:
            write_cache_file(self._path, plan, kept)
        self._keep(plan, kept)

    def _keep(self, plan: Slices | None, kept: list[Any] | None) -> None:
        self._plan, self._kept = plan, None if plan is not None else kept or []


def _stack_if_uniform(elements: list[Any]) -> list[np.ndarray] | None:
    """One array per component when every element has the same structure, shapes and dtypes, else None."""
    if not elements:
        return None
    columns = list(zip(*(flatten(e) for e in elements)))
    if any(len(flatten(e)) != len(columns) for e in elements):
        return None
    out = []
    for values in columns:
        arrays = [np.asarray(v) for v in values]
        if not all(isinstance(v, (np.ndarray, np.generic)) for v in values) or \
                len({(a.shape, a.dtype) for a in arrays}) != 1:
            return None
        out.append(np.stack(arrays))
    return out


# --- the file ---------------------------------------------------------------------------------------------------
def _encode_structure(template: Any) -> Any:
    if isinstance(template, tuple):
        return {"tuple": [_encode_structure(v) for v in template]}
    if isinstance(template, dict):
        if not all(isinstance(k, str) for k in template):
            raise TypeError(f"Dataset.cache: a file cache needs string dict keys, got {list(template)}")
        return {"dict": [[k, _encode_structure(v)] for k, v in template.items()]}
    return None


def _decode_structure(code: Any) -> Any:
    if code is None:
        return 0
    if "tuple" in code:
        return tuple(_decode_structure(v) for v in code["tuple"])
    return {k: _decode_structure(v) for k, v in code["dict"]}


def write_cache_file(path: str, plan: Slices | None, kept: list[Any] | None) -> None:
    """Each component as its values back to back with each element's shape; text as UTF-8 bytes and lengths."""
    if plan is not None:
        chunks = list(plan.chunks())
        index = np.concatenate([as_index_array(c) for c in chunks]) if chunks else np.empty(0, np.int64)
        columns: list[Any] = [np.asarray(a[index]) for a in plan.arrays]
        template, count = plan.pack(columns), len(index)
    else:
        kept = kept or []
        template, count = (kept[0] if kept else None), len(kept)
        columns = [list(values) for values in zip(*(flatten(e) for e in kept))]
    tensors: dict[str, np.ndarray] = {}
    dtypes = []
    for i, column in enumerate(columns):
        dtype, shapes, items = _column_items(column, count)
        tensors[f"{i}.shapes"] = shapes
        if dtype.kind in STRING_KINDS:
            texts = [s if isinstance(s, bytes) else str(s).encode("utf-8") for s in items]
            tensors[f"{i}.lengths"] = np.array([len(t) for t in texts], dtype=np.int64)
            tensors[str(i)] = np.frombuffer(b"".join(texts), dtype=np.uint8).copy()
        else:
            tensors[str(i)] = items
        dtypes.append(dtype.str if dtype.kind != "O" else "bytes")
    metadata = {"format": FORMAT, "count": str(count), "dtypes": json.dumps(dtypes),
                "structure": json.dumps(None if template is None else _encode_structure(template))}
    try:
        safetensors_format.save_file(tensors, path, metadata)
    except ValueError as e:
        raise TypeError(f"Dataset.cache: cannot write {path}: {e}; cache in memory (cache()) instead") from e


def _column_items(column: Any, count: int) -> tuple[np.dtype, np.ndarray, np.ndarray]:
    """A component's dtype, each element's shape (count, rank) and all its items back to back."""
    if isinstance(column, np.ndarray):
        shapes = np.tile(np.array(column.shape[1:], dtype=np.int64), (count, 1))
        return column.dtype, shapes, column.ravel()
    arrays = [np.asarray(v) for v in column]
    if any(not isinstance(v, (np.ndarray, np.generic)) for v in column) or len({a.dtype for a in arrays}) > 1 \
            or len({a.ndim for a in arrays}) > 1:
        raise TypeError("Dataset.cache: a file cache needs each component to keep one dtype and rank (and no "
                        "datasets); cache in memory (cache()) instead")
    shapes = np.array([a.shape for a in arrays], dtype=np.int64).reshape(count, arrays[0].ndim)
    return arrays[0].dtype, shapes, np.concatenate([a.ravel() for a in arrays])


def read_cache_file(path: str) -> tuple[Slices | None, list[Any] | None]:
    """The plan (components of one shape each) or the element list written by write_cache_file."""
    with open(path, "rb") as f:
        data = f.read()
    metadata = safetensors_format.load_metadata(data, path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"Dataset.cache: {path} is not a shendu dataset cache; delete it or pass another filename")
    tensors = safetensors_format.load(data, path)
    count, dtypes = int(metadata["count"]), json.loads(metadata["dtypes"])
    structure = json.loads(metadata["structure"])
    if structure is None and count == 0:
        return None, []
    pack = packer(_decode_structure(structure))
    columns = [_read_column(tensors, str(i), dtype, count) for i, dtype in enumerate(dtypes)]
    if all(isinstance(c, np.ndarray) for c in columns):
        return Slices(columns, pack, lambda: iter((range(count),))), None
    rows = [c if isinstance(c, list) else list(c) for c in columns]
    return None, [pack([col[k] for col in rows]) for k in range(count)]


def _read_column(tensors: dict[str, np.ndarray], name: str, dtype: str, count: int) -> np.ndarray | list:
    """One component: a stacked array when every element has the same shape, else a list of arrays."""
    shapes = tensors[f"{name}.shapes"]
    sizes = shapes.prod(axis=1)
    values = tensors[name]
    if dtype != "bytes" and np.dtype(dtype).kind not in STRING_KINDS:
        values = values.astype(np.dtype(dtype), copy=False)
    else:
        ends = np.cumsum(tensors[f"{name}.lengths"])
        raw = values.tobytes()
        texts = [raw[e - n:e] for e, n in zip(ends.tolist(), tensors[f"{name}.lengths"].tolist())]
        values = np.empty(len(texts), dtype=object)
        values[:] = texts
        if dtype != "bytes":
            values = np.array([t.decode("utf-8") for t in texts] if np.dtype(dtype).kind == "U" else texts,
                              dtype=np.dtype(dtype).kind)
    if count and (shapes == shapes[0]).all():
        return values.reshape(count, *shapes[0].tolist())
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return [values[bounds[k]:bounds[k + 1]].reshape(shapes[k].tolist()) for k in range(count)]
