"""tf.GradientTape over shendu's reverse-mode autograd.

shendu records an op whenever an input requires a gradient (trainable Variables do), tape or not, and numbers each
recorded node. A tape remembers the numbers it was recording between (`with` blocks, minus `stop_recording`), and its
`gradient` walks only those nodes: a tensor made outside them is a constant to the tape, as in TensorFlow. `watch(x)`
makes x require a gradient while the tape records (and while it computes a gradient), then gives x back as it was.
Gradients are returned, never stored in `.grad`, and do not depend on what `.grad` holds.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.ops import function
from shendu.ops.function import Function, _next_seq
from shendu.tensor import Tensor, backprop, make_tensor, seed_gradient
from shendu.utils.tree import flatten, pack_sequence_as
from shendu.variable import Variable

_ONE_USE = "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
_NO_SECOND_ORDER = (
    "GradientTape.gradient: higher-order gradients are not supported: the gradient an inner tape returned is not "
    "differentiable, because shendu's backward passes run on arrays rather than recorded ops. Take second "
    "derivatives by finite differences of first derivatives, or use PyTorch or JAX for them."
)


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on: None, or zeros of the source's shape."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Records operations for automatic differentiation, as `tf.GradientTape(persistent=False,
    watch_accessed_variables=True)`.

    Trainable variables used inside are watched automatically (unless `watch_accessed_variables=False`), and so is
    any tensor that requires a gradient of its own (`sd.tensor(..., requires_grad=True)`); other tensors with `watch`.
    A non-persistent tape gives one `gradient` (or `jacobian`) and then frees the graph it walked; a persistent one
    keeps it for more. Higher-order gradients (a tape differentiating another tape's gradient) raise RuntimeError:
    shendu's backward passes are not themselves recorded.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._spans: list[list[int | None]] = []  # [first node number, end] of each recording stretch
        self._watched: dict[int, Tensor] = {}
        self._accessed: dict[int, Variable] = {}  # trainable variables read by the ops recorded here, in that order
        self._held: list[Tensor] = []  # watched tensors made to require a gradient while recording
        self._recording = False
        self._used = False

    # --- recording -----------------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        self._push()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active tape.")
        self._spans.append([_next_seq(), None])
        self._recording = True
        _recording_tapes().append(self)
        global _n_recording
        with _lock:
            _live_tapes.add(self)
            _n_recording += 1
            function.record_hook = _note_accessed
        for t in self._watched.values():
            if _hold(t):
                self._held.append(t)

    def _pop(self) -> None:
        self._spans[-1][1] = _next_seq()
        self._recording = False
        tapes = _recording_tapes()
        if self in tapes:
            tapes.remove(self)
        global _n_recording
        with _lock:
            _n_recording -= 1
            if not _n_recording:
                function.record_hook = None
        for t in self._held:
            _unhold(t)
        self._held = []

    def watch(self, tensor: Any) -> None:
        """Record the operations on tensor (a Tensor, a Variable, or a nested structure of them) from now on."""
        for t in flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(f"GradientTape.watch: passed in object of type {type(t)}, not tf.Tensor")
            if t.dtype.kind not in "fc":
                warnings.warn(f"GradientTape.watch: the dtype of the watched tensor must be floating (e.g. "
                              f"tf.float32), got {t.dtype}; its gradient will be None", stacklevel=2)
                continue
            if id(t) not in self._watched:
                self._watched[id(t)] = t
                if self._recording and _hold(t):
                    self._held.append(t)

    def watched_variables(self) -> tuple[Variable, ...]:
        """The variables this tape watches: those passed to `watch`, then the trainable variables read by the ops it
        recorded (unless `watch_accessed_variables=False`), as TensorFlow's."""
        found = {k: t for k, t in self._watched.items() if isinstance(t, Variable)}
        if self._watch_accessed_variables:
            for k, v in self._accessed.items():
                found.setdefault(k, v)
        return tuple(found.values())

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Operations inside this block are not recorded on this tape (other tapes still record them)."""
        if not self._recording:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forget everything recorded and watched so far, and go on recording (as a new tape in the same block)."""
        if not self._recording:
            raise ValueError("Tape is not recording.")
        self._pop()
        self._spans, self._watched, self._accessed, self._used = [], {}, {}, False
        self._push()

    # --- gradients -----------------------------------------------------------------------------------
    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE) -> Any:
        """d(target)/d(source) for each source, in the structure of `sources` (a list, dict, `trainable_variables`).

        A list of targets adds their gradients, a non-scalar target is summed (or weighted by `output_gradients`,
        one per target). An unconnected source gets None, or zeros with `UnconnectedGradients.ZERO`.
        """
        unconnected = _unconnected(unconnected_gradients)
        self._begin_use()
        flat_sources = _check_sources(sources, "gradient")
        targets = flatten(target)
        given = [None] * len(targets) if output_gradients is None else flatten(output_gradients)
        if len(given) != len(targets):
            raise ValueError(f"GradientTape.gradient: got {len(given)} output_gradients for {len(targets)} targets")
        seeds = [(t, seed_gradient(t, g, "GradientTape.gradient")) for t, g in zip(targets, given)
                 if isinstance(t, Tensor) and t.dtype.kind in "fc"]
        (grads,) = self._backprop(lambda retain, kept: [backprop(seeds, kept, retain, self._records)], flat_sources)
        targets = [t for t, _ in seeds]
        marked = self._marks_results()
        return pack_sequence_as(sources, [self._result(g, s, unconnected, targets, marked)
                                          for g, s in zip(grads, flat_sources)])

    def jacobian(self, target: Tensor, sources: Any,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                 parallel_iterations: int | None = None, experimental_use_pfor: bool = True) -> Any:
        """d(target[i...])/d(source[j...]) for each source, shaped target.shape + source.shape (one backward pass per
        element of target, so for small targets)."""
        unconnected = _unconnected(unconnected_gradients)
        self._begin_use()
        flat_sources = _check_sources(sources, "jacobian")
        _check_target(target, "jacobian")

        def seed(i: int) -> np.ndarray:
            return np.eye(1, target.data.size, i, dtype=target.dtype).reshape(target.data.shape)

        rows = self._rows(target, target.data.size, seed, flat_sources)
        out = []
        for r, s in zip(rows, flat_sources):
            shape = target.data.shape + s.data.shape
            out.append(self._result(None if r is None else r.reshape(shape), s, unconnected, [target],
                                    self._marks_results(), shape))
        return pack_sequence_as(sources, out)

    def batch_jacobian(self, target: Tensor, source: Tensor,
                       unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                       parallel_iterations: int | None = None, experimental_use_pfor: bool = True) -> Tensor | None:
        """The jacobian of each target[i] with respect to source[i], stacked: shape (b, y..., x...) for a target
        (b, y...) and a source (b, x...); target[i] must depend on source[i] alone."""
        unconnected = _unconnected(unconnected_gradients)
        self._begin_use()
        (source,) = _check_sources(source, "batch_jacobian")
        _check_target(target, "batch_jacobian")
        ts, ss = target.data.shape, source.data.shape
        if len(ts) < 2 or len(ss) < 2 or ts[0] != ss[0]:
            raise ValueError(f"GradientTape.batch_jacobian: need a target and a source of rank 2 or more whose first "
                             f"dimensions match; got target shape {ts} and source shape {ss}")
        b, m = ts[0], int(np.prod(ts[1:]))

        def seed(j: int) -> np.ndarray:
            ones_at_j = np.zeros((b, m), dtype=target.dtype)
            ones_at_j[:, j] = 1
            return ones_at_j.reshape(ts)

        (rows,) = self._rows(target, m, seed, [source], stacked_axis=1)
        shape = ts + ss[1:]
        return self._result(None if rows is None else rows.reshape(shape), source, unconnected, [target],
                            self._marks_results(), shape)

    def _rows(self, target: Tensor, count: int, seed: Callable[[int], np.ndarray], sources: list[Tensor],
              stacked_axis: int = 0) -> list[np.ndarray | None]:
        """One backward pass from each `seed(i)` at target, i < count; for each source, the gradients stacked (zeros
        where unconnected), or None when no pass reached it."""
        if target.dtype.kind not in "fc":
            return [None] * len(sources)

        def passes(retain: bool, kept: list[Tensor]) -> list[list[Any]]:
            return [backprop([(target, seed(i))], kept, retain or i + 1 < count, self._records) for i in range(count)]

        per_seed = self._backprop(passes, sources)
        out: list[np.ndarray | None] = []
        for j, s in enumerate(sources):
            grads = [g[j] for g in per_seed]
            if all(g is None for g in grads):
                out.append(None)
                continue
            out.append(np.stack([np.zeros(s.data.shape, s.dtype) if g is None else g for g in grads],
                                axis=stacked_axis))
        return out

    def _backprop(self, passes: Any, sources: list[Tensor]) -> list[list[Any]]:
        """Run `passes(retain_graph, kept_sources)` with the sources this tape differentiates requiring a gradient;
        each pass's arrays are spread back over all sources (None for the others)."""
        kept_at = [i for i, s in enumerate(sources) if self._is_source(s)]
        kept = [sources[i] for i in kept_at]
        retain = self._persistent or self._shares_graph()
        held = [s for s in kept if id(s) in self._watched and _hold(s)]
        try:
            results = []
            for arrays in passes(retain, kept):
                spread: list[Any] = [None] * len(sources)
                for i, g in zip(kept_at, arrays):
                    spread[i] = g
                results.append(spread)
            return results
        finally:
            for s in held:
                _unhold(s)

    def _marks_results(self) -> bool:
        """Whether a tape records the gradients being returned: then each is the output of a node whose backward
        raises, so that a tape asked for a second derivative says it cannot give one instead of giving zero."""
        return grad_mode.state.enabled and any(t is not self or self._persistent for t in _recording_tapes())

    @staticmethod
    def _result(g: np.ndarray | None, source: Tensor, unconnected: UnconnectedGradients, targets: list[Tensor],
                marked: bool, shape: Sequence[int] | None = None) -> Tensor | None:
        """A gradient as returned: a constant Tensor (a `_SecondOrder` node's output when `marked`); for an
        unconnected source None or zeros (of `shape`, else the source's)."""
        if g is None:
            if unconnected is UnconnectedGradients.NONE:
                return None
            return make_tensor(np.zeros(source.data.shape if shape is None else shape, dtype=source.dtype), None)
        return _SecondOrder.apply(*targets, source, value=g) if marked else make_tensor(g, None)

    def _begin_use(self) -> None:
        """Refuse a second use of a non-persistent tape; a first one ends its recording, as in TensorFlow."""
        if self._used:
            raise RuntimeError(_ONE_USE)
        if not self._persistent:
            self._used = True
            if self._recording:
                self._pop()
            with _lock:
                _live_tapes.discard(self)

    def _records(self, fn: Function) -> bool:
        """Whether node fn was made while this tape was recording."""
        seq = fn.seq
        for start, end in self._spans:  # noqa: SIM110 (called for every node: a loop, not a generator)
            if start < seq and (end is None or seq < end):
                return True
        return False

    def _is_source(self, s: Tensor) -> bool:
        """Whether this tape differentiates s: a float tensor it watched, a trainable variable (when watching accessed
        variables) or a tensor made by an op it recorded from those."""
        if s.dtype.kind not in "fc":
            return False
        if id(s) in self._watched:
            return True
        if s._ctx is None:
            return self._auto_watched(s)
        return self._recorded_from_watched(s._ctx)

    def _auto_watched(self, t: Tensor) -> bool:
        return self._watch_accessed_variables and t.requires_grad and id(t) not in _holds

    def _recorded_from_watched(self, root: Function) -> bool:
        """Whether this tape recorded root: made while recording, from a watched tensor or a node it recorded."""
        nodes, stack = set(), [root]
        while stack:
            fn = stack.pop()
            if fn not in nodes and fn.inputs is not None and self._records(fn):
                nodes.add(fn)
                stack.extend(t._ctx for t in fn.inputs if t._ctx is not None)
        recorded: set[Function] = set()
        for fn in sorted(nodes, key=lambda f: f.seq):
            if any(id(t) in self._watched or t._ctx in recorded or (t._ctx is None and self._auto_watched(t))
                   for t in fn.inputs):
                recorded.add(fn)
        return root in recorded

    def _shares_graph(self) -> bool:
        """Whether another tape that may still take gradients recorded during this one (then the graph is kept)."""
        inf = float("inf")
        with _lock:
            others = list(_live_tapes)
        for other in others:
            if other is not self:
                for a0, a1 in self._spans:
                    for b0, b1 in other._spans:
                        if a0 < (inf if b1 is None else b1) and b0 < (inf if a1 is None else a1):
                            return True
        return False


class _SecondOrder(Function):
    """A gradient returned by a tape while another tape records: its gradient would be a second derivative, which
    would need the backward pass recorded as ops; shendu's runs on arrays, so asking for it raises."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def forward(self, *xs: Any) -> Any:
        return self.value

    def backward(self, g: Any) -> tuple[Any, ...]:
        raise RuntimeError(_NO_SECOND_ORDER)


_local = threading.local()
_live_tapes: weakref.WeakSet[GradientTape] = weakref.WeakSet()  # tapes that may still take a gradient
_holds: dict[int, list[Any]] = {}  # id(tensor) -> [tensor, number of tapes holding it]; it requires grad meanwhile
_lock = threading.Lock()  # guards _holds and _live_tapes, which tapes in all threads share


_n_recording = 0  # tapes recording in all threads: Function.apply calls the hook only while there are some


def _note_accessed(inputs: tuple[Tensor, ...]) -> None:
    """`function.record_hook`: the trainable variables among a recorded op's inputs are accessed by the tapes that
    record in this thread."""
    tapes = _recording_tapes()
    if not tapes:
        return
    for t in inputs:
        if t._ctx is None and isinstance(t, Variable) and t.trainable and t.requires_grad:
            for tape in tapes:
                tape._accessed.setdefault(id(t), t)


def _recording_tapes() -> list[GradientTape]:
    """The tapes recording in this thread, innermost last."""
    return _local.__dict__.setdefault("tapes", [])


def _hold(t: Tensor) -> bool:
    """Make t require a gradient until `_unhold`; False (nothing to release) when it requires one of its own."""
    with _lock:
        entry = _holds.get(id(t))
        if entry is not None:
            entry[1] += 1
            return True
        if t.requires_grad:
            return False
        t.requires_grad = True
        _holds[id(t)] = [t, 1]
        return True


def _unhold(t: Tensor) -> None:
    with _lock:
        entry = _holds[id(t)]
        entry[1] -= 1
        if entry[1] == 0:
            del _holds[id(t)]
            t.requires_grad = False


def _unconnected(value: UnconnectedGradients | str) -> UnconnectedGradients:
    try:
        return UnconnectedGradients(value.value if isinstance(value, UnconnectedGradients) else value)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}; expected "
                         "tf.UnconnectedGradients.NONE or .ZERO ('none' or 'zero')") from None


def _check_target(target: Any, method: str) -> None:
    if not isinstance(target, Tensor):
        raise TypeError(f"GradientTape.{method}: the target must be a Tensor; got an object of type "
                        f"{type(target).__name__}")


def _check_sources(sources: Any, method: str) -> list[Tensor]:
    flat = flatten(sources)
    for s in flat:
        if not isinstance(s, Tensor):
            raise ValueError(f"GradientTape.{method}: sources must be Tensors or Variables; got an object of type "
                             f"{type(s).__name__}")
    return flat


__all__: list[str] = ["GradientTape", "UnconnectedGradients"]
