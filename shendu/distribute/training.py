"""What fit/evaluate/predict do differently for a model compiled in a strategy's scope (the trainer's hooks).

- `attach`: the model and its optimizer take the strategy; a built model gets rank 0's weights.
- `reduce_gradients` (called by `Optimizer.apply`): one allreduce per bucket of <= BUCKET_BYTES over all
  gradients, weighted by each replica's share of the global batch, g = sum_r n_r g_r / sum_r n_r (the gradient of
  the global batch's mean loss), with the non-trainable float weights (BatchNormalization's moving statistics)
  averaged the same way in the same messages. Outside fit (a custom loop under `strategy.run`) the gradients are
  summed, as tf.distribute does.
- `begin_training`: build the model if needed, then rank 0's weights and optimizer state everywhere.
- `sync_metrics`: the loss tracker's and the metrics' states summed over the replicas before logs are read, so
  History, callbacks and the progress bar's epoch line show the global values.
- `gather_predictions`: the replicas' outputs put back in the order of the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend, grad_mode
from shendu.distribute.data import DistributedAdapter
from shendu.distribute.strategy import Strategy
from shendu.models.compile_utils import StepLogs
from shendu.utils import tree

BUCKET_BYTES = 16 << 20


class ModelDistribution:
    """A model's link to its strategy; `model._distribution`, `model.optimizer._distribution`."""

    def __init__(self, strategy: Strategy, model: Any) -> None:
        self.strategy = strategy
        self.comm = strategy._comm
        self.model = model
        self.local_count: int | None = None
        self.global_count: int | None = None

    @property
    def is_chief(self) -> bool:
        return self.comm.rank == 0

    @property
    def num_replicas(self) -> int:
        return self.comm.size

    def _set_counts(self, local: int | None, total: int | None) -> None:
        self.local_count, self.global_count = local, total
        self.comm.share = None if local is None else local / total  # for the backward of AllReduceSum

    def distribute_adapter(self, adapter: Any) -> Any:
        return adapter if self.comm.size == 1 else DistributedAdapter(adapter, self.comm, self._set_counts)

    # --- weights ------------------------------------------------------------------------------------------------
    def broadcast_weights(self) -> None:
        """Every replica takes rank 0's weights and optimizer state (in as few messages as there are dtypes)."""
        if self.comm.size == 1:
            return
        arrays = [w.data for w in self.model.weights]
        _broadcast_arrays(self.comm, arrays, "broadcasting the weights")
        opt = self.model.optimizer
        if opt is not None and getattr(opt, "built", False):
            state = opt.get_state()
            _broadcast_arrays(self.comm, list(state.values()), "broadcasting the optimizer state")
            opt.set_state(state)

    def begin_training(self, iterator: Any) -> None:
        """Before the first step: build the model as its first batch would, then rank 0's weights everywhere."""
        self._set_counts(None, None)
        if not self.model.built:
            x = getattr(getattr(iterator, "adapter", None), "x", None)
            if x is None:
                raise ValueError(f"fit: model '{self.model.name}' must be built before data-parallel training on "
                                 "a Dataset or generator (give the first layer an input_shape, or call the model on "
                                 "a batch), so that every replica starts from rank 0's weights")
            floatx = backend.floatx()
            with grad_mode.no_grad():
                self.model(tree.map_structure(lambda a: a[:1].astype(floatx) if a.dtype == np.float64 else a[:1], x),
                           training=False)
        self.broadcast_weights()

    # --- gradients ------------------------------------------------------------------------------------------------
    def reduce_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The replicas' gradients combined (see the module docstring), with the moving statistics averaged."""
        if self.comm.size == 1:
            return grads
        local = self.local_count
        scale = 1.0 if local is None else float(local)
        extras = [w for w in self.model.non_trainable_weights if w.data.dtype.kind == "f"]
        arrays = [np.asarray(g) for g in grads] + [w.data for w in extras]
        dtype = np.result_type(*arrays) if arrays else np.float32
        out: list[np.ndarray] = []
        for bucket in _buckets(arrays, BUCKET_BYTES):
            flat = np.empty(sum(a.size for a in bucket) + 1, dtype)
            pos = 0
            for a in bucket:
                np.multiply(a.reshape(-1), scale, out=flat[pos:pos + a.size])
                pos += a.size
            flat[-1] = scale
            self.comm.allreduce_(flat, "the gradient allreduce")
            # weighted mean in fit; outside fit gradients are summed and the statistics averaged
            divisor = flat[-1] if local is not None else None
            pos = 0
            for a in bucket:
                out.append(flat[pos:pos + a.size].reshape(a.shape))
                pos += a.size
            if divisor is not None:
                for i in range(len(out) - len(bucket), len(out)):
                    out[i] /= divisor
        n_grads = len(grads)
        for w, value in zip(extras, out[n_grads:]):
            w.data[...] = value if local is not None else value / self.comm.size
        return [o.astype(np.asarray(g).dtype, copy=False) for o, g in zip(out[:n_grads], grads)]

    # --- logs -----------------------------------------------------------------------------------------------------
    def sync_metrics(self, logs: Any) -> Any:
        """Sum the metric states over the replicas (a custom step's plain dict of numbers: their mean)."""
        if self.comm.size == 1:
            return logs
        states: list[tuple[Any, str]] = []
        for m in self.model.metrics:
            _collect_states(m, states)
        values = [np.asarray(getattr(owner, name)) for owner, name in states]
        buf = np.concatenate([v.reshape(-1).astype(np.float64) for v in values]) if values else np.empty(0)
        self.comm.allreduce_(buf, "summing the metrics")
        pos = 0
        for (owner, name), v in zip(states, values):
            total = buf[pos:pos + v.size].reshape(v.shape).astype(v.dtype)
            pos += v.size
            if isinstance(getattr(owner, name), (float, int)):
                setattr(owner, name, float(total))
            else:
                np.copyto(getattr(owner, name), total)
        if isinstance(logs, StepLogs):  # it may have been read before the sum: read the metrics again
            return None
        if type(logs) is dict:
            keys = sorted(k for k, v in logs.items() if isinstance(v, (int, float, np.number)) and np.size(v) == 1)
            values = self.comm.allreduce_(np.array([float(logs[k]) for k in keys], np.float64), "averaging logs")
            logs = {**logs, **{k: v / self.comm.size for k, v in zip(keys, values)}}
        return logs

    # --- predict --------------------------------------------------------------------------------------------------
    def gather_predictions(self, adapter: Any, chunks: list[list[np.ndarray]]) -> list[np.ndarray]:
        """Each output joined over the replicas in the order of the data (chunks: per batch, one array per output)."""
        if self.comm.size == 1 or not isinstance(adapter, DistributedAdapter):
            return [np.concatenate(parts) for parts in zip(*chunks)]
        sizes, p = adapter.global_sizes, self.comm.size
        out = []
        for parts in zip(*chunks):
            gathered = self.comm.allgatherv(np.concatenate(parts), "gathering the predictions")
            pieces, offsets = [], [0] * p
            for n in sizes:
                for r in range(p):
                    lo, hi = _bounds(n, p, r)
                    pieces.append(gathered[r][offsets[r]:offsets[r] + hi - lo])
                    offsets[r] += hi - lo
            out.append(np.concatenate(pieces))
        return out


_STATE_NAMES = ("total", "count", "counts")  # the sums a metric keeps as plain numbers or arrays


def _collect_states(metric: Any, out: list[tuple[Any, str]]) -> None:
    """(owner, attribute) of each additive state of a metric: its state variables' arrays, its plain total/count
    sums, then those of the metrics it holds."""
    for v in getattr(metric, "_variables", []):
        if v.data.dtype.kind in "fiu":
            out.append((v, "data"))
    for name in _STATE_NAMES:
        value = getattr(metric, name, None)
        if isinstance(value, (float, int, np.ndarray)) and not isinstance(value, bool):
            out.append((metric, name))
    for inner in getattr(metric, "_metrics", []):
        _collect_states(inner, out)


def _bounds(n: int, p: int, r: int) -> tuple[int, int]:
    base, extra = divmod(n, p)
    start = r * base + min(r, extra)
    return start, start + base + (r < extra)


def _buckets(arrays: list[np.ndarray], limit: int) -> list[list[np.ndarray]]:
    """Consecutive arrays grouped into buckets of at most `limit` bytes (an array larger than that alone)."""
    out: list[list[np.ndarray]] = [[]]
    size = 0
    for a in arrays:
        if out[-1] and size + a.nbytes > limit:
            out.append([])
            size = 0
        out[-1].append(a)
        size += a.nbytes
    return [b for b in out if b]


def _broadcast_arrays(comm: Any, arrays: list[np.ndarray], what: str) -> None:
    """Rank 0's values written into each array, one message per dtype."""
    by_dtype: dict[np.dtype, list[np.ndarray]] = {}
    for a in arrays:
        by_dtype.setdefault(a.dtype, []).append(a)
    for dtype, group in by_dtype.items():
        flat = np.concatenate([a.reshape(-1) for a in group]) if group else np.empty(0, dtype)
        comm.broadcast_(flat, what)
        pos = 0
        for a in group:
            a[...] = flat[pos:pos + a.size].reshape(a.shape)
            pos += a.size


def attach(strategy: Strategy, model: Any) -> ModelDistribution:
    """Link a model being compiled in a strategy's scope: its optimizer reduces gradients; rank 0's weights."""
    dist = ModelDistribution(strategy, model)
    model.optimizer._distribution = dist
    if model.built:
        dist.broadcast_weights()
    return dist
