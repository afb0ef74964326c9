"""The lean training step: the default `train_step` of a plain Sequential stack of fused Conv2D + MaxPooling2D,
Flatten, Dense and Dropout layers with a sparse categorical cross-entropy (and sparse accuracy), run as the layers'
ops on arrays, without the graph, the tensors or the layer calls.

A step of the MNIST MLP spent about a third of its time in that bookkeeping (layer `__call__`, `Function.apply`,
the graph walk of `backward`, the compiled loss and metrics plumbing), which a compiled step (JAX's `jit`) does not
pay. Here the arithmetic is the ops' own: the same `Function` classes' `forward` and `backward`, in the order the
graph runs them, the same loss op, the same optimizer call; so weights, optimizer state, gradients (`var.grad`) and
metrics come out bit for bit as the general step's (tests/models/test_lean_step.py trains both and compares).

The general step stays the reference and runs whenever anything unusual is configured: a plan is made after the
first step of a fit (which the general step runs, resolving the loss, the metrics and the layers) and only for a
`Sequential` with the stock `call`, `train_step`, `compute_loss` and `compute_metrics`; Dense layers with a ReLU or
no activation (softmax on the last), no regularizers and one dtype; Conv2D + MaxPooling2D pairs that the model
fuses (`models.fusion`: a `Conv2DMaxPool`, or a `ConvPoolChain` of two pairs), plain Conv2D without regularizers;
a single SparseCategoricalCrossentropy with weight 1 and a reduction to a scalar; no metrics but sparse
(categorical) accuracy; no loss scale, no distribution strategy and the weights in host memory. A batch that is
not plain (sample weights, a Tensor, another shape or dtype, float labels) runs the general step.
`set_enabled(False)` turns the lean step off (the general step runs every batch).

With numba and NumPy's OpenBLAS, a float32 stack of Flatten and Dense layers (a Dropout after a hidden Dense
included) runs its forward, loss and backward as compiled calls (`ops.kernels_dense.dense_step`): one for the batch
while its products are small (COMPILED_MAX_WORK), which also applies plain Adam (`Optimizer.fused_update`), else
one per row chunk on shendu's threads, each chunk a block of BLOCK_ROWS rows at a time (the full-batch MLP 11%
faster). After a head of fused conv + pool stages and a Flatten (a CNN), the Dense layers are one such call too,
which also returns the gradient of its input for the head's ops; the first Dense layer's weight gradient and update
(`kernels_dense.weight_step`) then run on a worker thread, idle while the calling thread sets up the head's
backward (the tutorial CNN's step about 3% faster). At batch 64 the ops were about fifty calls from Python. The
products are NumPy's sgemm calls, bit for bit; the loss, its gradient and the bias sums accumulate in float64, so
the step agrees with the ops to rounding (tests/models/test_lean_step.py compares the two). `set_compiled(False)`
keeps the ops' path.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shendu import activations, grad_mode
from shendu import random as sd_random
from shendu.layers.convolutional import Conv2D
from shendu.layers.core import Dense, Dropout
from shendu.layers.pooling import MaxPooling2D
from shendu.layers.reshaping import Flatten
from shendu.losses.classes import SparseCategoricalCrossentropy
from shendu.losses.inputs import sparse_labels
from shendu.metrics.accuracy import SparseCategoricalAccuracy
from shendu.models import fusion
from shendu.ops import kernels, nn
from shendu.ops.blas import sgemm
from shendu.ops.conv_pool import Conv2DMaxPool, ConvPoolChain
from shendu.ops.function import GradFlag
from shendu.ops.kernels_dense import dense_step, weight_step
from shendu.ops.losses import SparseSoftmaxCrossEntropy, loss_weights
from shendu.ops.softmax import softmax
from shendu.parallel import MIN_PRODUCT_WORK, Balance, batch_chunks, run_chunks, submit, sum_parts, threads_now
from shendu.tensor import _accumulate, make_tensor

_enabled = True
_compiled = True

FLATTEN, DENSE, DROPOUT, CONV = 0, 1, 2, 3

COMPILED_MAX_WORK = 32 << 20
"""Multiply-adds of a layer's product up to which the step is one compiled call (BLAS's own threads in its products);
above it, one call per row chunk on shendu's threads. MNIST MLP 784-128-64-10, 2 cores, s/epoch one call against
chunks: batch 256 0.30 / 0.32, 384 0.29 / 0.25."""

BLOCK_ROWS = 1024
"""Rows of a chunk that run forward and backward together in the per-chunk calls, their weight gradients added up,
so that a block's activations are still in cache for its backward. The full-batch MNIST MLP (batches of 60,000),
2 cores: 0.142 s an epoch in whole chunks of 30,000 rows, 0.134 in blocks of 4,096, 0.126 in blocks of 1,536 and
0.125 in blocks of 1,024."""

_EMPTY = np.empty(0, np.float32)
_NO_SLOTS = (_EMPTY, _EMPTY)
_NO_MASK = np.empty((0, 0), np.float32)
_NO_COEFFS = (np.float32(0),) * 6
"""Empty stand-ins for the compiled call's optional arrays: no bias, no Adam slots, no dropout mask or input
gradient, no Adam scalars."""


def enabled() -> bool:
    """Whether fit uses the lean step where it applies."""
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Turn the lean step on or off; returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(flag)
    return previous


def set_compiled(flag: bool) -> bool:
    """Let the lean step run a plain float32 stack as one compiled call (with numba), or not; returns the previous
    setting."""
    global _compiled
    previous, _compiled = _compiled, bool(flag)
    return previous


_NO_GRAD, _GRAD = GradFlag(False), GradFlag(True)


class LeanStep:
    """One model's plan: the stages (kind, layer) in order, the loss and the accuracy metrics to update."""

    def __init__(self, model: Any, stages: list[tuple[int, Any]], loss: Any, metrics: list[Any],
                 in_shape: tuple[int, ...], dtype: np.dtype, softmax_out: bool) -> None:
        self.model, self.stages, self.loss, self.metrics = model, stages, loss, metrics
        self.in_shape, self.dtype, self.softmax_out = in_shape, dtype, softmax_out
        self.dense = [layer for kind, layer in stages if kind == DENSE]
        self.relus = np.array([layer._linear is nn.LinearReLU for layer in self.dense])
        self.classes = self.dense[-1].units
        self.variables = [v for layer in self.dense for v in (layer.kernel, layer.bias) if v is not None]
        self.head_variables = [v for kind, group in stages if kind == CONV for c in group[::2]
                               for v in (c.kernel, c.bias) if v is not None]
        cut = _head_length(stages)
        self.head, self.conv_head = stages[:cut], any(kind == CONV for kind, _ in stages[:cut])
        self.drops = _dropouts_after(stages[cut:]) if not self.conv_head or stages[cut - 1][0] == FLATTEN else None
        self.no_dropout = self.drops is not None and not any(self.drops)
        self.no_drops = (_NO_MASK,) * len(self.dense)
        self.factors: dict[int, float] = {}  # the loss's 1 / divisor per batch size
        # each conv chain's shares of its chunks in the compiled step, where the worker thread also makes the first
        # Dense weight gradient (without numba the threads' times vary too much with their turns at the GIL)
        self.balances = {id(group): Balance() for kind, group in stages if kind == CONV and len(group) == 4}
        self.fuses = (dtype == np.float32 and self.drops is not None
                      and len({id(layer) for layer in self.dense}) == len(self.dense))

    def run(self, x: Any, y: Any) -> bool:
        """One training step on a plain batch (as the general step would run it); False when the batch is not plain
        and nothing was done."""
        if (type(x) is not np.ndarray or x.dtype != self.dtype or x.shape[1:] != self.in_shape or x.shape[0] == 0
                or type(y) is not np.ndarray or y.dtype.kind not in "iu" or not grad_mode.state.enabled):
            return False
        model = self.model
        n = x.shape[0]
        chunks = self._compiled_chunks(n) if self.fuses and _compiled else None
        if chunks and (len(chunks) == 1 or not self.conv_head):
            self._run_compiled(x, y, chunks)
            return True
        a, ops, flows = self._forward_ops(self.stages, x)
        lab, _ = sparse_labels(self.loss.name, y, a.shape, None)
        loss_op = SparseSoftmaxCrossEntropy(labels=lab, reduction=self.loss.reduction)
        loss = loss_op.forward(a)
        value = float(loss)
        model._loss_tracker.update_state(value, n)
        if not math.isfinite(value):
            model._nonfinite = value
        elif flows:
            tvars = model._tvars
            for v in tvars:
                v.grad = None
            self._backward(loss_op, ops, loss)
            grads = [(v.grad.data, v) for v in tvars if v.grad is not None]
            if grads:
                model.optimizer.apply_gradients(grads)
        if self.metrics:
            pred = (softmax(a) if self.softmax_out else a).argmax(axis=-1)
            hits = float(np.count_nonzero(y.reshape(pred.shape) == pred))
            for m in self.metrics:
                m.total += hits
                m.count += float(n)
        return True

    def _forward_ops(self, stages: list[tuple[int, Any]], x: np.ndarray,
                     balanced: bool = False) -> tuple[np.ndarray, list[Any], bool]:
        """The stages' ops run forward on x: (the output, the ops that backward must visit with their inputs set,
        whether a gradient flows to that output); `balanced`: a conv chain's chunks follow its `Balance`."""
        n = x.shape[0]
        ops, flows, a = [], False, x
        for kind, layer in stages:
            if kind == DENSE:
                kernel, bias = layer.kernel, layer.bias
                op = layer._linear()
                a = op.forward(a, kernel.data) if bias is None else op.forward(a, kernel.data, bias.data)
                inputs = (_GRAD if flows else _NO_GRAD, kernel) if bias is None else (
                    _GRAD if flows else _NO_GRAD, kernel, bias)
                flows = flows or kernel.requires_grad or (bias is not None and bias.requires_grad)
            elif kind == FLATTEN:
                op, inputs = _Flatten(a.shape), (_GRAD if flows else _NO_GRAD,)
                a = a.reshape(n, -1)
            elif kind == CONV:
                op, weights = _conv_op(layer, a.shape, flows, self.balances.get(id(layer)) if balanced else None)
                a = op.forward(a, *(w.data for w in weights))
                inputs = (_GRAD if flows else _NO_GRAD, *weights)
                flows = flows or any(w.requires_grad for w in weights)
            else:
                op, inputs = nn.Dropout(layer.rate, _rng(layer), None), (_GRAD if flows else _NO_GRAD,)
                a = op.forward(a)
            if flows:
                op.inputs = inputs
                ops.append(op)
        return a, ops, flows

    def _compiled_chunks(self, n: int) -> list[slice] | None:
        """The row chunks this batch of n runs in as compiled calls, or None for the ops: numba and sgemm there and
        every weight trainable and C-contiguous. One call (BLAS's own threads in its products) while no product is
        over COMPILED_MAX_WORK multiply-adds, else a call per chunk on shendu's threads (`parallel.batch_chunks`)."""
        if not (kernels.enabled() and sgemm() is not None):
            return None
        biggest = 0
        for layer in self.dense:
            w, b = layer.kernel, layer.bias
            if (not w.requires_grad or not w.data.flags.c_contiguous
                    or (b is not None and not (b.requires_grad and b.data.flags.c_contiguous))):
                return None
            biggest = max(biggest, w.data.size)
        if n * biggest <= COMPILED_MAX_WORK:
            threads_now()  # the load policy's look, which sets BLAS's thread count (the ops' batch_chunks would)
            return [slice(0, n)]
        return batch_chunks(n, biggest, MIN_PRODUCT_WORK)

    def _run_compiled(self, x: np.ndarray, y: np.ndarray, chunks: list[slice]) -> None:
        """The step as `run` takes it, with the Dense layers' forward, loss and backward as compiled calls: one, which
        also applies plain Adam (`Optimizer.fused_update`), or one per row chunk, their weight gradients summed. A
        head of fused conv + pool stages and the Flatten runs before as their ops, and backward through them from
        the call's input gradient after (one call only)."""
        model, n, dense = self.model, x.shape[0], self.dense
        head: list[Any] = []  # the head's ops that backward visits (none when no head weight trains)
        if self.conv_head:
            x, head, _ = self._forward_ops(self.head, x, balanced=True)
        dx = np.empty(x.shape, np.float32) if head else _NO_MASK
        lab = y if y.shape == (n,) and y.dtype == np.int64 else sparse_labels(self.loss.name, y, (n, self.classes),
                                                                               None)[0].astype(np.int64, copy=False)
        factor = self.factors.get(n)
        if factor is None:
            _, div = loss_weights(lab, None, self.loss.reduction)
            factor = self.factors[n] = 1.0 / div if div else 0.0
        x2 = np.ascontiguousarray(x.reshape(n, -1))
        drops = self.no_drops if self.no_dropout else tuple(  # drawn as the ops' Dropout draws them, in this order
            [_NO_MASK if drop is None else nn.dropout_mask(_rng(drop), (n, layer.units), drop.rate, np.float32)
             for drop, layer in zip(self.drops, dense)])
        optimizer = model.optimizer
        fused = optimizer.fused_update(self.variables) if len(chunks) == 1 else None
        # with a head to run backward, the first Dense layer's weight gradient (and Adam's update) is left to a
        # worker thread, which makes it while this one sets the head's backward up
        first_grad = np.empty((n, dense[0].units), np.float32) if head and len(chunks) == 1 else _NO_MASK
        adam = None
        if fused:  # (a head's variables get their update, at the same step, from apply_gradients below)
            slots = dict(zip(map(id, self.variables), fused[0]))
            adam = (tuple([slots[id(layer.kernel)] for layer in dense]),
                    tuple([_NO_SLOTS if layer.bias is None else slots[id(layer.bias)] for layer in dense]), fused[1])
        if len(chunks) == 1:
            total, hits, dws, dbs = self._call(x2, lab, drops, factor, adam, dx, first_grad)
        else:
            parts = run_chunks(lambda sl: self._call(x2[sl], lab[sl], tuple([d[sl] for d in drops]), factor, None),
                               chunks)
            total = sum(p[0] for p in parts)
            hits = sum(p[1] for p in parts) if all(p[1] >= 0 for p in parts) else -1
            dws, dbs = ([sum_parts([p[i][k] for p in parts]) for k in range(len(dense))] for i in (2, 3))
        if hits < 0:  # a label out of range: the loss's own check names it
            sparse_labels(self.loss.name, lab, (n, self.classes), None)
        value = float(np.float32(total * factor))
        model._loss_tracker.update_state(value, n)
        if not math.isfinite(value):
            model._nonfinite = value
        else:
            pending = None
            if first_grad.size:
                slots_0, coeffs = (adam[0][0], adam[2]) if adam else (_NO_SLOTS, _NO_COEFFS)
                pending = submit(weight_step, sgemm(), x2, first_grad, dws[0], dense[0].kernel.data, adam is not None,
                                 slots_0, coeffs)
            try:
                for layer, dw, db in zip(dense, dws, dbs):
                    layer.kernel.grad = make_tensor(dw, None)
                    if layer.bias is not None:
                        layer.bias.grad = make_tensor(db, None)
                rest = [] if fused else self.variables  # what apply_gradients updates
                if self.conv_head:
                    for v in self.head_variables:
                        v.grad = None
                    if head:
                        self._backward_from(head, dx)
                    rest = rest + [v for v in self.head_variables if v.grad is not None]
            finally:
                if pending is not None:
                    pending.result()
            if rest:
                optimizer.apply_gradients([(v.grad.data, v) for v in rest])
            elif fused:
                optimizer.advance()
        for m in self.metrics:
            m.total += float(hits)
            m.count += float(n)

    def _call(self, x: np.ndarray, lab: np.ndarray, drops: tuple[np.ndarray, ...], factor: float, adam: Any,
              dx: np.ndarray = _NO_MASK, first_grad: np.ndarray = _NO_MASK) -> tuple[float, int, Any, Any]:
        """`dense_step` on these rows: (losses summed, hits, weight gradients, bias gradients); `drops`: each
        layer's dropout mask for these rows (or an empty one); `adam`: (the kernels' slots, the biases' slots, the
        scalars) to apply Adam inside, or None; x's gradient written into `dx` unless it is empty; the first layer's
        weight gradient and update left to `weight_step` unless `first_grad` is empty. Without these three, the rows
        run a block of BLOCK_ROWS at a time, each block's gradients added to the ones before."""
        ws = tuple([layer.kernel.data for layer in self.dense])
        bs = tuple([_EMPTY if layer.bias is None else layer.bias.data for layer in self.dense])
        dws = tuple([np.empty_like(w) for w in ws])
        dbs = tuple([np.empty_like(b) for b in bs])
        none = (_NO_SLOTS,) * len(ws)
        adam_w, adam_b, coeffs = adam or (none, none, _NO_COEFFS)
        n = x.shape[0]
        block = n if adam or dx.size or first_grad.size else BLOCK_ROWS  # Adam and dx want the rows in one call
        total, hits = 0.0, 0
        for start in range(0, n, block):
            rows = slice(start, start + block)
            part, part_hits = dense_step(sgemm(), x[rows], lab[rows], ws, bs, self.relus,
                                         tuple([d[rows] for d in drops]), factor, dws, dbs, dx, adam is not None,
                                         adam_w, adam_b, coeffs, first_grad, start > 0)
            if part_hits < 0:
                return part, part_hits, dws, dbs
            total, hits = total + part, hits + part_hits
        return total, hits, dws, dbs

    @staticmethod
    def _backward(loss_op: Any, ops: list[Any], loss: np.ndarray) -> None:
        """The loss's gradient back through the recorded ops, into each weight's `.grad` (as `Tensor.backward`)."""
        (g,) = loss_op.backward(np.ones(loss.shape, dtype=loss.dtype))
        LeanStep._backward_from(ops, g)

    @staticmethod
    def _backward_from(ops: list[Any], g: np.ndarray) -> None:
        """g, the gradient of the last op's output, back through the recorded ops into each weight's `.grad`."""
        stored: set[int] = set()
        for op in reversed(ops):
            grads = op.backward(g)
            g = None
            for t, gi in zip(op.inputs, grads):
                if gi is None or not t.requires_grad:
                    continue
                if t is _GRAD:
                    g = gi
                else:
                    _accumulate(t, gi, stored)
            if g is None:
                return


class _Flatten:
    """Flatten's reshape (`ops.Reshape`) and its backward on arrays."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def backward(self, g: np.ndarray) -> tuple[np.ndarray]:
        return (g.reshape(self.shape),)


def plan(model: Any, x: Any) -> LeanStep | None:
    """The lean step for this compiled, resolved model and a first batch x, or None when the general step must run
    (see the module's docstring for the conditions)."""
    from shendu.models.sequential import Sequential
    from shendu.models.trainer import Trainer

    cls = type(model)
    if not (_enabled and isinstance(model, Sequential) and cls.call is Sequential.call
            and cls.__call__ is Sequential.__call__ and cls.train_step is Trainer.train_step
            and cls.compute_loss is Trainer.compute_loss and cls.compute_metrics is Trainer.compute_metrics
            and model._distribution is None and model._tvars is not None and type(x) is np.ndarray
            and all(type(v.data) is np.ndarray for v in model._tvars)):
        return None
    optimizer = model.optimizer
    if getattr(optimizer, "loss_scale_factor", None) is not None or type(optimizer).scale_loss is not \
            _base_scale_loss():
        return None
    loss = _loss_of(model)
    metrics = _metrics_of(model)
    if loss is None or metrics is None or model.losses:
        return None
    stages, dtype = _stages(model._plan)
    if not stages or dtype != x.dtype:
        return None
    last = stages[-1][1]
    if stages[-1][0] != DENSE or not (last.activation is activations.softmax or (
            last._linear is nn.Linear and last._activate is None and loss.from_logits)):
        return None
    return LeanStep(model, stages, loss, metrics, x.shape[1:], dtype, last.activation is activations.softmax)


def _base_scale_loss() -> Any:
    from shendu.optimizers.optimizer import Optimizer

    return Optimizer.scale_loss


def _loss_of(model: Any) -> Any:
    """The one stock sparse cross-entropy of weight 1 that the model was compiled with, else None."""
    cl = model._compile_loss
    if cl is None or not cl.built or len(cl.terms) != 1 or model._n_outputs != 1:
        return None
    _, fn, w, tracker = cl.terms[0]
    if (type(fn) is not SparseCategoricalCrossentropy or w != 1.0 or tracker is not None or fn.ignore_class is not None
            or fn.dtype is not None or fn.reduction == "none"):
        return None
    return fn


def _metrics_of(model: Any) -> list[Any] | None:
    """The compiled metrics if all are stock sparse categorical accuracies (none weighted), else None."""
    cm = model._compile_metrics
    if cm is None:
        return []
    if not cm.built or cm.weighted or any(type(m) is not SparseCategoricalAccuracy for _, m in cm.unweighted):
        return None
    return [m for _, m in cm.unweighted]


def _stages(plan: list[tuple[Any, bool, tuple[Any, ...] | None]]) -> tuple[list[tuple[int, Any]], Any]:
    """(kind, layer) for each layer of a Sequential's plan (a fused conv group as one stage, its layers in a tuple),
    and the weights' one dtype; ([], None) if a layer is not covered."""
    stages, dtypes, skip = [], set(), 0
    for layer, _, following in plan:
        if skip:
            skip -= 1
            continue
        cls = type(layer)
        if cls is Dense and layer.built and _plain_dense(layer):
            stages.append((DENSE, layer))
            dtypes.add(layer.kernel.data.dtype)
        elif cls is Flatten and layer.data_format != "channels_first":
            stages.append((FLATTEN, layer))
        elif cls is Dropout and 0 < layer.rate < 1 and layer.noise_shape is None:
            stages.append((DROPOUT, layer))
        elif following is not None and all(_plain_conv_pool(c, p) for c, p in zip(*[iter((layer, *following))] * 2)):
            group = (layer, *following)
            stages.append((CONV, group))
            dtypes.update(c.kernel.data.dtype for c in group[::2])
            skip = len(following)
        else:
            return [], None
    dense = [layer for kind, layer in stages if kind == DENSE]
    if len(dtypes) != 1 or not dense or any(layer.activation is activations.softmax for layer in dense[:-1]):
        return [], None
    dtype = dtypes.pop()
    layers = [x for kind, layer in stages for x in (layer if kind == CONV else (layer,))]
    if any(layer.dtype != dtype for layer in layers):
        return [], None
    return stages, dtype


def _plain_conv_pool(conv: Any, pool: Any) -> bool:
    """A fused pair whose call is the op alone: Conv2D itself (not a subclass, e.g. quantized) and MaxPooling2D, built,
    without regularizers, kernel and bias of one dtype."""
    return (type(conv) is Conv2D and type(pool) is MaxPooling2D and conv.built and pool.built
            and not conv._regularizers and conv.activity_regularizer is None
            and (conv.bias is None or conv.bias.data.dtype == conv.kernel.data.dtype))


def _conv_op(group: tuple[Any, ...], shape: tuple[int, ...], input_grad: bool,
             balance: Balance | None = None) -> tuple[Any, list[Any]]:
    """The fused op of a conv group (as `fusion.call_fused` makes it) for inputs of `shape`, and its weights in the
    op's input order; a chain of two pairs shares its chunks between the threads by `balance`."""
    conv = group[0]
    first, out = fusion.pair_arguments(conv, group[1], shape, input_grad)
    weights = [conv.kernel, *([conv.bias] if conv.bias is not None else [])]
    if len(group) == 2:
        return Conv2DMaxPool(**first), weights
    second_conv = group[2]
    second, _ = fusion.pair_arguments(second_conv, group[3], out, True)
    weights += [second_conv.kernel, *([second_conv.bias] if second_conv.bias is not None else [])]
    return ConvPoolChain(first, second, (conv.bias is not None, second_conv.bias is not None), balance), weights


def _head_length(stages: list[tuple[int, Any]]) -> int:
    """How many stages come before the Dense layers: the fused conv + pool stages and the Flatten after them (or a
    Flatten alone)."""
    k = 0
    while k < len(stages) and stages[k][0] == CONV:
        k += 1
    return k + 1 if k < len(stages) and stages[k][0] == FLATTEN else k


def _dropouts_after(stages: list[tuple[int, Any]]) -> list[Any] | None:
    """For each Dense layer, the Dropout layer right after it (or None); None when the stack is not Flatten and
    Dense layers with Dropouts between them (the compiled call's cover)."""
    after: list[Any] = []
    for k, (kind, layer) in enumerate(stages):
        if kind == DENSE:
            after.append(None)
        elif kind == DROPOUT:
            if not after or after[-1] is not None or stages[k - 1][0] != DENSE or k == len(stages) - 1:
                return None
            after[-1] = layer
        elif kind != FLATTEN or after:
            return None
    return after


def _rng(layer: Any) -> np.random.Generator:
    """The generator a Dropout layer draws its masks from: its own when seeded, else shendu's global one."""
    return layer._rng if layer._rng is not None else sd_random.generator()


def _plain_dense(layer: Dense) -> bool:
    """A Dense whose call is its op alone: ReLU (fused) or no activation, or softmax; no regularizer or penalty."""
    plain_activation = layer._activate is None or layer.activation is activations.softmax
    return (plain_activation and layer.activity_regularizer is None and not layer._regularizers
            and layer.kernel.data.dtype == (layer.bias.data.dtype if layer.bias is not None else layer.kernel.dtype))
