"""tf.data's shuffle buffer: hold `buffer_size` elements, emit a uniformly chosen one, put the next input in its slot.

A buffer at least as large as the input gives a uniform random permutation. `shuffle_indices` runs the same
algorithm on streams of index chunks, so that shuffled NumPy slices are gathered a whole batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

IndexChunk = range | np.ndarray
_RANDOM_BLOCK = 1024


def as_index_array(chunk: IndexChunk) -> np.ndarray:
    """An index chunk as an int64 array (a range through arange, which is far faster than converting it)."""
    if isinstance(chunk, range):
        return np.arange(chunk.start, chunk.stop, chunk.step, dtype=np.int64)
    return chunk


def shuffle_elements(elements: Iterable[Any], buffer_size: int, rng: np.random.Generator) -> Iterator[Any]:
    """Shuffle any stream of elements through a buffer of `buffer_size` (per-element; the general path)."""
    stream = iter(elements)
    buffer: list[Any] = []
    for element in stream:
        buffer.append(element)
        if len(buffer) >= buffer_size:
            break
    picks: Iterator[int] = iter(())
    for element in stream:
        k = next(picks, None)
        if k is None:
            picks = iter(rng.integers(0, buffer_size, _RANDOM_BLOCK).tolist())
            k = next(picks)
        yield buffer[k]
        buffer[k] = element
    for k in rng.permutation(len(buffer)).tolist():
        yield buffer[k]


def shuffle_indices(chunks: Iterable[IndexChunk], buffer_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The shuffle buffer over a stream of index chunks, emitting index arrays (a full buffer: one permutation)."""
    stream = iter(chunks)
    filled: list[IndexChunk] = []
    count = 0
    rest: IndexChunk | None = None
    for chunk in stream:
        need = buffer_size - count
        if len(chunk) > need:
            filled.append(chunk[:need])
            rest = chunk[need:]
            count = buffer_size
            break
        filled.append(chunk)
        count += len(chunk)
        if count == buffer_size:
            break
    first = np.concatenate([as_index_array(c) for c in filled]) if filled else np.empty(0, np.int64)
    if count < buffer_size:
        yield rng.permutation(first)
        return
    buffer = first.tolist()

    def steady(chunk: IndexChunk) -> np.ndarray:
        incoming = list(chunk) if isinstance(chunk, range) else chunk.tolist()
        out: list[int] = []
        emit = out.append
        for k, new in zip(rng.integers(0, buffer_size, len(incoming)).tolist(), incoming):
            emit(buffer[k])
            buffer[k] = new
        return np.array(out, dtype=np.int64)

    if rest is not None and len(rest):
        yield steady(rest)
    for chunk in stream:
        if len(chunk):
            yield steady(chunk)
    yield rng.permutation(np.array(buffer, dtype=np.int64))
