"""Background prefetching: a thread runs the upstream pipeline into a bounded queue while the consumer computes.

NumPy and BLAS release the GIL in their kernels, so gathering the next batch overlaps with the training step.
Stopping early (break, close, garbage collection) stops and joins the thread; an upstream exception is re-raised
in the consumer with its original traceback.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from shendu.data.dataset import AUTOTUNE, Dataset, check_count

_END = object()
_AUTOTUNE_PREFETCH = 4
_POLL_SECONDS = 0.05
_JOIN_SECONDS = 5.0


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _produce(make_iterator: Callable[[], Iterator[Any]], out: queue.Queue, stop: threading.Event) -> None:
    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    upstream = None
    try:
        upstream = make_iterator()
        for element in upstream:
            if not put(element):
                return
        put(_END)
    except BaseException as error:  # handed to the consumer, which re-raises it
        put(_Failure(error))
    finally:
        close = getattr(upstream, "close", None)
        if close is not None:
            close()


def prefetch(make_iterator: Callable[[], Iterator[Any]], buffer_size: int) -> Iterator[Any]:
    """Iterate make_iterator() on a daemon thread, at most buffer_size elements ahead of the consumer."""
    items: queue.Queue = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()
    worker = threading.Thread(target=_produce, args=(make_iterator, items, stop), name="shendu-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while True:  # free a producer blocked on a full queue
            try:
                items.get_nowait()
            except queue.Empty:
                break
        worker.join(_JOIN_SECONDS)


class PrefetchDataset(Dataset):
    def __init__(self, source: Dataset, buffer_size: int) -> None:
        size = check_count("Dataset.prefetch", buffer_size)
        if size < 1 and size != AUTOTUNE:
            raise ValueError(f"Dataset.prefetch: buffer_size must be at least 1 or AUTOTUNE, got {buffer_size}")
        self._input, self._size = source, _AUTOTUNE_PREFETCH if size == AUTOTUNE else size

    def _cardinality(self) -> int:
        return self._input._cardinality()

    def _element_spec(self) -> Any:
        return self._input.element_spec

    def _iterate(self) -> Iterator[Any]:
        return prefetch(self._input._elements, self._size)
