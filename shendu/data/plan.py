"""Index plans: while elements are still rows of in-memory arrays, a pipeline moves index chunks, not elements.

A plan holds the flat component arrays, how to rebuild an element from its leaves, and a fresh stream of index
chunks per pass (a `range` while rows stay in order, so batches slice as views; an index array once shuffled).
take, skip, shard, repeat and shuffle rewrite the chunk stream; `batch` cuts it into batch-sized chunks and
gathers each batch with one fancy index per array, so no element is ever copied on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shendu.data.shuffle import IndexChunk, as_index_array
from shendu.data.structure import box, boxed_positions


@dataclass(frozen=True)
class Slices:
    """An index plan: the flat component arrays, how to rebuild an element, and a fresh index stream per pass."""

    arrays: list[Any]
    pack: Callable[[list[Any]], Any]
    chunks: Callable[[], Iterator[IndexChunk]]

    def with_chunks(self, chunks: Callable[[], Iterator[IndexChunk]]) -> Slices:
        return Slices(self.arrays, self.pack, chunks)


def gather_elements(plan: Slices) -> Iterator[Any]:
    """The plan's elements one by one (rows of each array, packed into the element structure)."""
    arrays, pack = plan.arrays, plan.pack
    boxed = boxed_positions(arrays)
    for chunk in plan.chunks():
        for i in chunk if isinstance(chunk, range) else chunk.tolist():
            leaves = [a[i] for a in arrays]
            for k in boxed:
                leaves[k] = box(leaves[k])
            yield pack(leaves)


def gather_batches(plan: Slices, batch_size: int, drop_remainder: bool) -> Iterator[Any]:
    """The plan's batches: one slice (a view) or one fancy index per array and batch."""
    arrays, pack = plan.arrays, plan.pack
    for index in cut_batches(plan.chunks(), batch_size, drop_remainder):
        rows = slice(index.start, index.stop, index.step) if isinstance(index, range) else index
        yield pack([a[rows] for a in arrays])


def cut_batches(chunks: Iterator[IndexChunk], batch_size: int, drop_remainder: bool) -> Iterator[IndexChunk]:
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


def take_chunks(chunks: Iterator[IndexChunk], count: int) -> Iterator[IndexChunk]:
    for chunk in chunks:
        if count <= 0:
            return
        yield chunk[:count]
        count -= len(chunk)


def skip_chunks(chunks: Iterator[IndexChunk], count: int) -> Iterator[IndexChunk]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:]
        count = 0


def shard_chunks(chunks: Iterator[IndexChunk], num_shards: int, index: int) -> Iterator[IndexChunk]:
    """Every num_shards-th index of the stream, starting at position `index` (ranges stay ranges, with a step)."""
    position = 0
    for chunk in chunks:
        first = (index - position) % num_shards
        position += len(chunk)
        picked = chunk[first::num_shards]
        if len(picked):
            yield picked


def repeat(make: Callable[[], Iterator[Any]], count: int, chunks: bool = False) -> Iterator[Any]:
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
