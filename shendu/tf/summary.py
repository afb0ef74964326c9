"""tf.summary: TensorBoard event files, written by the `tensorboard` package's own event writer (an optional extra,
imported when a writer is made) in the form TensorFlow 2 writes them: each value a tensor with its plugin's metadata
(scalars float32, histograms float64 [buckets, 3], images [width, height, png...], text strings)."""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from shendu.utils.image_grid import encode_png

DEFAULT_BUCKET_COUNT = 30
_INSTALL = "pip install 'shendu[tensorboard]'"


def require_tensorboard(what: str) -> Any:
    """The `tensorboard` package, or an ImportError of one line saying what to install."""
    try:
        import tensorboard
    except ImportError:
        raise ImportError(f"{what} needs the tensorboard package: {_INSTALL}") from None
    return tensorboard


class _SummaryState(threading.local):
    """The default writer, the default step and the recording condition of this thread (as TensorFlow's)."""

    def __init__(self) -> None:
        self.writer: SummaryWriter | None = None
        self.step: Any = None
        self.is_recording: Any = None


_state = _SummaryState()


class _WriterContext:
    """What `writer.as_default(step)` returns: makes the writer (and the step, if given) the default until exit,
    then flushes it. A class rather than a generator so that `set_as_default` can enter it for good."""

    def __init__(self, writer: SummaryWriter, step: Any = None) -> None:
        self._writer, self._step = writer, step
        self._old_writer: SummaryWriter | None = None
        self._old_step: Any = None

    def __enter__(self) -> SummaryWriter:
        self._old_writer, _state.writer = _state.writer, self._writer
        if self._step is not None:
            self._old_step, _state.step = _state.step, self._step
        return self._writer

    def __exit__(self, *exc: Any) -> bool:
        _state.writer.flush()
        _state.writer = self._old_writer
        if self._step is not None:
            _state.step = self._old_step
        return False


class SummaryWriter:
    """tf.summary.SummaryWriter: where summaries go while it is the default writer."""

    def set_as_default(self, step: Any = None) -> None:
        """Make this the default writer of the thread (and `step` the default step, if given) from now on."""
        self.as_default(step).__enter__()

    def as_default(self, step: Any = None) -> Any:
        """`with writer.as_default(step):` summaries inside go to this writer; it is flushed on exit."""
        return _WriterContext(self, step)

    def init(self) -> None:
        """Nothing to do: the event file is made when the writer is."""

    def flush(self) -> None:
        """Write what is queued to the event file."""

    def close(self) -> None:
        """Flush and close the event file."""


class _FileWriter(SummaryWriter):
    """Writes events to one new file `events.out.tfevents.<time>.<host>.<pid>.<n><suffix>` in `logdir`."""

    def __init__(self, logdir: str, max_queue: int, flush_millis: int, filename_suffix: str) -> None:
        require_tensorboard("tf.summary.create_file_writer")
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.logdir = logdir
        self._events = EventFileWriter(logdir, max_queue_size=max_queue, flush_secs=flush_millis / 1000,
                                       filename_suffix=filename_suffix)
        self._closed = False

    def add_event(self, **fields: Any) -> None:
        """Append one `Event` proto (wall_time now, plus the given fields: step, summary, graph_def)."""
        from tensorboard.compat.proto.event_pb2 import Event

        if self._closed:
            raise RuntimeError(f"tf.summary: the writer of {self.logdir!r} is closed; create a new one")
        self._events.add_event(Event(wall_time=time.time(), **fields))

    def flush(self) -> None:
        if not self._closed:
            self._events.flush()

    def close(self) -> None:
        if not self._closed:
            self._events.close()
            self._closed = True


class _NoopWriter(SummaryWriter):
    """What create_noop_writer returns: `as_default` changes nothing, so summaries keep going where they went."""

    def set_as_default(self, step: Any = None) -> None:
        return None

    @contextmanager
    def as_default(self, step: Any = None) -> Iterator[None]:
        yield


def create_file_writer(logdir: Any, max_queue: int | None = None, flush_millis: int | None = None,
                       filename_suffix: str | None = None, name: str | None = None) -> SummaryWriter:
    """A writer of a new event file in `logdir` (made if missing); queues up to `max_queue` (10) events and flushes
    at least every `flush_millis` (120000) ms; the file name ends in `filename_suffix` ('.v2')."""
    if logdir is None:
        raise ValueError("tf.summary.create_file_writer: logdir cannot be None")
    return _FileWriter(str(logdir), 10 if max_queue is None else int(max_queue),
                       120_000 if flush_millis is None else int(flush_millis),
                       ".v2" if filename_suffix is None else str(filename_suffix))


def create_noop_writer() -> SummaryWriter:
    """A writer that writes nothing, for code that expects a context manager."""
    return _NoopWriter()


@contextmanager
def record_if(condition: bool | Callable[[], bool]) -> Iterator[None]:
    """Inside, summaries are written only while `condition` (a bool, or a callable asked at each summary) holds."""
    old, _state.is_recording = _state.is_recording, condition
    try:
        yield
    finally:
        _state.is_recording = old


def should_record_summaries() -> bool:
    """True when a default writer is set and the `record_if` condition (True when none) holds."""
    if _state.writer is None:
        return False
    condition = _state.is_recording
    condition = condition() if callable(condition) else condition
    return True if condition is None else bool(_numpy(condition))


def get_step() -> Any:
    """The default step set by `set_step` or `as_default(step)`, or None."""
    return _state.step


def set_step(step: Any) -> None:
    """Set the default step of the thread's summaries (None to unset); a tf.Variable is read at each summary."""
    _state.step = step


experimental = types.SimpleNamespace(get_step=get_step, set_step=set_step)


def flush(writer: SummaryWriter | None = None, name: str | None = None) -> None:
    """Flush `writer`, or the default writer when none is given."""
    writer = _state.writer if writer is None else writer
    if writer is not None:
        writer.flush()


def _numpy(x: Any) -> np.ndarray:
    """The value of a Tensor, Variable, metric result or array-like as a NumPy array."""
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _resolve_step(step: Any, what: str) -> int:
    step = get_step() if step is None else step
    if step is None:
        raise ValueError(f"tf.summary.{what}: no step set; pass `step=` or call tf.summary.experimental.set_step()")
    value = _numpy(step)
    if value.size != 1:
        raise ValueError(f"tf.summary.{what}: the step must be a scalar; got shape {value.shape}")
    return int(value.reshape(()))


def write(tag: str, tensor: Any, step: Any = None, metadata: Any = None, name: str | None = None) -> bool:
    """Write `tensor` (an array, or a callable making one) under `tag` with a SummaryMetadata proto to the default
    writer; returns False when nothing is written (no writer, or `record_if` says no)."""
    if not should_record_summaries():
        return False
    step_value = _resolve_step(step, "write")
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.util.tensor_util import make_tensor_proto

    value = tensor() if callable(tensor) else tensor
    proto = value if hasattr(value, "SerializeToString") else make_tensor_proto(_numpy(value))
    if isinstance(metadata, bytes):
        from tensorboard.compat.proto.summary_pb2 import SummaryMetadata

        metadata = SummaryMetadata.FromString(metadata)
    summary = Summary()
    summary.value.add(tag=tag, tensor=proto, metadata=metadata)
    _state.writer.add_event(step=step_value, summary=summary)
    return True


def scalar(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a scalar (cast to float32) for TensorBoard's Scalars dashboard."""
    if not should_record_summaries():
        return False
    from tensorboard.plugins.scalar import metadata

    value = _numpy(data)
    if value.size != 1 or value.dtype.kind not in "biuf":
        raise ValueError(f"tf.summary.scalar: {name!r} expects one real number; got {value.dtype} {value.shape}")
    return write(name, lambda: value.reshape(()).astype(np.float32), step,
                 metadata.create_summary_metadata(display_name=None, description=description))


def histogram_buckets(data: Any, buckets: int | None = None) -> np.ndarray:
    """The [buckets, 3] float64 rows (left edge, right edge, count) of TensorFlow's histogram: `buckets` equal widths
    from min to max, a value v in bucket floor((v - min) / width) (the max in the last); one value: all in the last."""
    count = DEFAULT_BUCKET_COUNT if buckets is None else max(0, int(buckets))
    x = _numpy(data).astype(np.float64).ravel()
    if x.size == 0 or count == 0:
        return np.zeros((count, 3))
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        counts = np.zeros(count)
        counts[-1] = x.size
        return np.stack([np.full(count, hi), np.full(count, hi), counts], axis=1)
    index = np.minimum(np.floor((x - lo) / ((hi - lo) / count)).astype(np.int64), count - 1)
    edges = np.linspace(lo, hi, count + 1)
    edges[-1] = hi
    return np.stack([edges[:-1], edges[1:], np.bincount(index, minlength=count).astype(np.float64)], axis=1)


def histogram(name: str, data: Any, step: Any = None, buckets: int | None = None,
              description: str | None = None) -> bool:
    """Write the histogram of all elements of `data` (TensorBoard's Histograms and Distributions dashboards)."""
    if not should_record_summaries():
        return False
    from tensorboard.plugins.histogram import metadata

    return write(name, lambda: histogram_buckets(data, buckets), step,
                 metadata.create_summary_metadata(display_name=None, description=description))


def _uint8_images(data: Any) -> np.ndarray:
    """tf.image.convert_image_dtype(data, uint8, saturate=True): floats in [0, 1] scaled by 255.5 and clipped."""
    x = _numpy(data)
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind != "f":
        raise ValueError(f"tf.summary.image: expected uint8 or float images (floats in [0, 1]); got {x.dtype}")
    return np.clip(np.nan_to_num(x.astype(np.float64)) * 255.5, 0, 255).astype(np.uint8)


def image(name: str, data: Any, step: Any = None, max_outputs: int = 3, description: str | None = None) -> bool:
    """Write up to `max_outputs` images of a [k, h, w, c] batch (c = 1 grey, 3 RGB, 4 RGBA; uint8 or floats in
    [0, 1]) as PNGs for TensorBoard's Images dashboard."""
    if not should_record_summaries():
        return False
    from tensorboard.plugins.image import metadata

    shape = np.shape(_numpy(data))
    if len(shape) != 4 or shape[-1] not in (1, 3, 4):
        raise ValueError(f"tf.summary.image: {name!r} expects images of shape [k, h, w, c] with c in (1, 3, 4); "
                         f"got {shape}")

    def encoded() -> np.ndarray:
        pixels = _uint8_images(data)[: max(0, int(max_outputs))]
        pngs = [encode_png(p[..., 0] if p.shape[-1] == 1 else p) for p in pixels]
        return np.array([str(shape[2]).encode(), str(shape[1]).encode(), *pngs], dtype=object)

    return write(name, encoded, step, metadata.create_summary_metadata(display_name=None, description=description))


def text(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a string (or an array of strings, shown as a table) for TensorBoard's Text dashboard (Markdown)."""
    if not should_record_summaries():
        return False
    from tensorboard.plugins.text import metadata

    def strings() -> np.ndarray:
        value = _numpy(data)
        if value.dtype.kind not in "USO":
            raise ValueError(f"tf.summary.text: {name!r} expects strings; got {value.dtype}")
        flat = [s.encode() if isinstance(s, str) else bytes(s) for s in value.ravel()]
        return np.array(flat, dtype=object).reshape(value.shape)

    return write(name, strings, step, metadata.create_summary_metadata(display_name=None, description=description))


def graph(graph_data: Any) -> bool:
    """Write a GraphDef proto (tensorboard.compat.proto.graph_pb2.GraphDef) for TensorBoard's Graphs dashboard."""
    if not should_record_summaries():
        return False
    if not hasattr(graph_data, "node") or not hasattr(graph_data, "SerializeToString"):
        raise ValueError(f"tf.summary.graph: expected a GraphDef proto; got {type(graph_data).__name__}")
    _state.writer.add_event(step=0, graph_def=graph_data.SerializeToString())
    return True


__all__ = ["SummaryWriter", "create_file_writer", "create_noop_writer", "experimental", "flush", "graph",
           "histogram", "image", "record_if", "scalar", "should_record_summaries", "text", "write"]
