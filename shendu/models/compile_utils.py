"""What `compile` resolves once: the loss per output with its weight, the metrics per output, the trackers, and
the logs a step reports from them.

Keras's log names: 'loss' (total, regularization included), '<output>_loss' per output of a multi-output
model, a metric's own name for one output and '<output>_<metric>' for several, 'weighted_<metric>' for a
weighted metric whose name is taken. Loss and metric names are checked when compile() is called.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from shendu.tensor import Tensor
from shendu.utils import tree


class LossTracker:
    """Running mean of a loss over the batches seen, each weighted by its number of samples (Keras's 'loss')."""

    def __init__(self, name: str = "loss") -> None:
        self.name = name
        self.total = 0.0
        self.count = 0.0

    def update_state(self, value: Any, sample_weight: Any = None) -> None:
        w = 1.0 if sample_weight is None else float(sample_weight)
        self.total += float(value) * w
        self.count += w

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def __repr__(self) -> str:
        return f"<LossTracker name={self.name} result={self.result():.4f}>"


class StepLogs(MutableMapping):
    """The logs a step returns (Keras's `compute_metrics(...)`): `model.get_metrics_result()`, read from the metrics
    the first time they are looked at and fixed from then on.

    A step's logs are often never read (fit(verbose=0) with no batch callback), and some results cost more than
    their update (AUC integrates a curve), so they are not computed until asked for: read them (or copy them with
    dict(logs)) before the next step to see this step's values.
    """

    __slots__ = ("_model", "_values")

    def __init__(self, model: Any) -> None:
        self._model = model
        self._values: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if self._values is None:
            self._values = self._model.get_metrics_result()
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._read()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return repr(self._read())


def check_names(value: Any, module: Any) -> None:
    """Look up every name in a compile() argument (a name, or a list/dict of them) now, so that a misspelt loss or
    metric fails at compile() with the close matches rather than at the first step."""
    for ident in tree.flatten(value):
        if isinstance(ident, str):
            module.get(ident)


def per_output(value: Any, names: list[str], what: str, model_name: str, entry_may_be_list: bool = False) -> list[Any]:
    """One entry per output from a single value, a list in output order, or a dict by output name.

    With entry_may_be_list (metrics), a flat list is one output's list for a single-output model, and a flat
    list whose length is not the number of outputs applies to every output.
    """
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"Model '{model_name}': {what} has keys {unknown} that are not output names {names}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if entry_may_be_list:
            nested = any(v is None or isinstance(v, (list, tuple, dict)) for v in value)
            if n == 1 and not (nested and len(value) == 1):
                return [value]
            if n > 1 and not nested and len(value) != n:
                return [value] * n
        if len(value) != n:
            raise ValueError(
                f"Model '{model_name}': {what} has {len(value)} entries but the model has {n} output(s) {names}"
            )
        return list(value)
    return [value] * n


class CompileLoss:
    """The compiled loss: sum over outputs of loss_weight * loss(y_true, y_pred, sample_weight)."""

    def __init__(self, loss: Any, loss_weights: Any = None) -> None:
        from shendu import losses

        check_names(loss, losses)
        self.loss = loss
        self.loss_weights = loss_weights
        self.built = False
        self.trackers: list[LossTracker] = []
        self.terms: list[tuple[int, Any, float, LossTracker | None]] = []

    def build(self, output_names: list[str], model_name: str) -> None:
        from shendu import losses

        fns = per_output(self.loss, output_names, "loss", model_name)
        weights = per_output(self.loss_weights, output_names, "loss_weights", model_name)
        multi = len(output_names) > 1
        self.terms = []
        self.trackers = []
        for i, (name, ident, w) in enumerate(zip(output_names, fns, weights)):
            if ident is None:
                continue
            fn = losses.get(ident)
            tracker = LossTracker(f"{name}_loss") if multi else None
            if tracker is not None:
                self.trackers.append(tracker)
            self.terms.append((i, fn, 1.0 if w is None else float(w), tracker))
        self.built = True

    def __call__(self, y_true: list[Any], y_pred: list[Tensor], sample_weight: list[Any]) -> Tensor | None:
        total = None
        for i, fn, w, tracker in self.terms:
            if y_true[i] is None:
                continue
            value = fn(y_true[i], y_pred[i], sample_weight=sample_weight[i])
            if tracker is not None:
                tracker.update_state(float(value.data), y_pred[i].shape[0] if y_pred[i].ndim else 1)
            if w != 1.0:
                value = value * w
            total = value if total is None else total + value
        return total


class CompileMetrics:
    """The compiled metrics, resolved at the first batch from samples of y_true and y_pred (for 'accuracy')."""

    def __init__(self, metrics: Any, weighted_metrics: Any = None) -> None:
        from shendu import metrics as metrics_module

        check_names([metrics, weighted_metrics], metrics_module)
        self.metrics_arg = metrics
        self.weighted_arg = weighted_metrics
        self.built = False
        self.metrics: list[Any] = []
        self.unweighted: list[tuple[int, Any]] = []
        self.weighted: list[tuple[int, Any]] = []

    def build(self, output_names: list[str], y_true: list[Any], y_pred: list[Any], model_name: str) -> None:
        from shendu import metrics as metrics_module

        multi = len(output_names) > 1
        used: set[int] = set()
        names: set[str] = set()

        def resolve(ident: Any, i: int) -> Any:
            if isinstance(ident, str):
                m = metrics_module.get(ident, y_true=y_true[i], y_pred=y_pred[i])
                _rename(m, ident)
            else:
                m = metrics_module.get(ident, y_true=y_true[i], y_pred=y_pred[i])
                if id(m) in used:
                    m = type(m).from_config(m.get_config())
            used.add(id(m))
            if multi:
                _rename(m, f"{output_names[i]}_{m.name}")
            return m

        self.metrics, self.unweighted, self.weighted = [], [], []
        for arg, bucket, weighted in ((self.metrics_arg, self.unweighted, False),
                                      (self.weighted_arg, self.weighted, True)):
            if not arg:
                continue
            for i, entry in enumerate(per_output(arg, output_names, "metrics", model_name, entry_may_be_list=True)):
                if entry is None:
                    continue
                for ident in entry if isinstance(entry, (list, tuple)) else [entry]:
                    m = resolve(ident, i)
                    if weighted and m.name in names:
                        _rename(m, f"weighted_{m.name}")
                    names.add(m.name)
                    bucket.append((i, m))
                    self.metrics.append(m)
        self.built = True

    def update_state(self, y_true: list[Any], y_pred: list[Any], sample_weight: list[Any]) -> None:
        for i, m in self.unweighted:
            if y_true[i] is not None:
                m.update_state(y_true[i], y_pred[i])
        for i, m in self.weighted:
            if y_true[i] is not None:
                m.update_state(y_true[i], y_pred[i], sample_weight=sample_weight[i])


def _rename(metric: Any, name: str) -> None:
    try:
        metric.name = name
    except AttributeError:
        metric._name = name


def batch_size_of(y_pred: Any) -> int:
    """The number of samples in a batch of predictions (a tensor, or the first leaf of a structure of them)."""
    t = y_pred if isinstance(y_pred, Tensor) else tree.flatten(y_pred)[0]
    shape = t.data.shape if isinstance(t, Tensor) else np.shape(t)
    return shape[0] if shape else 1


class CompiledLoss:
    """`model.compiled_loss` as tf.keras 2 has it: called in a `train_step` override, it returns the compiled loss
    (plus `regularization_losses`, e.g. `model.losses`) and feeds the 'loss' tracker, so that fit logs the loss."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 regularization_losses: Any = None) -> Tensor:
        model = self.model
        total = model._compiled_loss_plus(None, y_true, y_pred, sample_weight, regularization_losses or ())
        if total is None:
            raise ValueError(f"Model '{model.name}': compiled_loss has no loss to compute; pass loss= to compile() "
                             "(and give labels y)")
        model._loss_tracker.update_state(float(total.data), batch_size_of(y_pred))
        return total

    @property
    def metrics(self) -> list[Any]:
        """The 'loss' tracker, then one per output of a multi-output model."""
        tracker = self.model._compile_loss
        return [self.model._loss_tracker, *(tracker.trackers if tracker is not None else [])]


class CompiledMetrics:
    """`model.compiled_metrics` as tf.keras 2 has it: `update_state(y, y_pred, sample_weight=None)` on the metrics
    given to compile() (nothing without them), `metrics`, `result()` and `reset_state()`."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self.model.compute_metrics(None, y_true, y_pred, sample_weight)

    @property
    def metrics(self) -> list[Any]:
        cm = self.model._compile_metrics
        return list(cm.metrics) if cm is not None else []

    def result(self) -> dict[str, Any]:
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()
