"""Trainer: compile, fit, evaluate, predict and the *_on_batch methods of Model (Keras 3 semantics).

One path per batch, as Keras's trainer: fit and train_on_batch call `train_step`, evaluate and test_on_batch
`test_step`, predict and predict_on_batch `predict_step`; a model that overrides a step runs in the same loop as
any other. The default train_step: clear the gradients, forward with training=True, `compute_loss` (the
compiled loss plus `model.losses`), `optimizer.scale_loss(loss).backward()`, `optimizer.apply_gradients` on
the trainable weights that received a gradient, then `compute_metrics`. A non-finite loss skips the update and
is recorded in `self._nonfinite`; fit stops after that batch and says where (as it does when a custom step returns
a non-finite 'loss').

Logs cost nothing unless read: `compute_metrics` returns a `StepLogs`, a mapping that reads the metric results
the first time it is looked at. fit turns a step's logs into a dict of floats only for the batch callbacks that
exist (and once per epoch), so a step of fit(verbose=0) builds no logs, while a custom step may return any dict.
Everything that can be resolved once (losses, metrics, output names, trainable weights) is resolved at the first
batch, so a step costs little more than its arithmetic. After that first batch, fit may run the default step of a
plain Sequential stack as its ops on arrays (`shendu.models.lean_step`: the same values bit for bit, without the
graph and the layer calls); the code below stays the reference and runs whenever anything unusual is configured.

steps_per_execution=N groups the steps as Keras does for its batch callbacks: on_*_batch_begin runs at the first
step of each group of N, on_*_batch_end at its last (or at the epoch's last step). Each step is still one call of
the step method: shendu runs eagerly, so there is no compiled N-step function to gain from.

Keras masks are the losses' and metrics' business (`Loss.__call__`, `MeanMetricWrapper.update_state` read the
mask of y_pred), so a custom training loop masks exactly as fit does.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from shendu import backend, grad_mode
from shendu.models import data_adapter as da
from shendu.models import lean_step
from shendu.models.compile_utils import (
    CompiledLoss,
    CompiledMetrics,
    CompileLoss,
    CompileMetrics,
    LossTracker,
    StepLogs,
    batch_size_of,
    per_output,
)
from shendu.tensor import Tensor
from shendu.utils import tree


class Trainer:
    """The training half of Model; mixed in before Layer."""

    def _init_trainer(self) -> None:
        self.compiled = False
        self.optimizer: Any = None
        self.loss: Any = None
        self.stop_training = False
        self.history: Any = None
        self.steps_per_execution = 1
        self._loss_tracker = LossTracker("loss")
        self._compile_loss: CompileLoss | None = None
        self._compile_metrics: CompileMetrics | None = None
        self._compile_args: dict[str, Any] = {}
        self._output_names: list[str] | None = None
        self._n_outputs = 1
        self._resolved = False
        self._tvars: list[Any] | None = None
        self._lean: Any = None  # the lean step's plan (shendu.models.lean_step): None until decided, False for none
        self._nonfinite: float | None = None
        self._distribution: Any = None  # a strategy's link (shendu.distribute) when compiled in its scope

    # --- compile -----------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True) -> None:
        """Set the optimizer, the loss (per output: a list or a dict by output name) and the metrics.

        Names ('adam', 'sparse_categorical_crossentropy', 'accuracy') or objects; an unknown name fails here with
        the close matches. 'accuracy' becomes binary, categorical or sparse categorical accuracy from the first
        batch's labels and predictions. steps_per_execution groups the steps for the batch callbacks (see the
        module's docstring); run_eagerly, jit_compile and auto_scale_loss are accepted and ignored (shendu always
        runs eagerly; the optimizer's loss_scale_factor scales the loss).
        """
        from shendu import optimizers

        if not _is_positive_int(steps_per_execution):
            raise ValueError(f"Model '{self.name}': steps_per_execution must be a positive integer; "
                             f"got {steps_per_execution!r}")
        self.optimizer = optimizers.get(optimizer)
        if self.optimizer is None:
            raise ValueError(f"Model '{self.name}': compile() needs an optimizer")
        self.loss = loss
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights,
                              "weighted_metrics": weighted_metrics}
        self._compile_loss = CompileLoss(loss, loss_weights) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics) if metrics or weighted_metrics else None
        self._loss_tracker = LossTracker("loss")
        self._resolved = False
        self._tvars = self._lean = None
        self.steps_per_execution = steps_per_execution
        self.compiled = True
        distribute = sys.modules.get("shendu.distribute")  # never imported here: only a strategy in use has it
        strategy = None if distribute is None else distribute.get_strategy()
        self._distribution = None if strategy is None else strategy._attach(self)

    @property
    def distribute_strategy(self) -> Any:
        """The strategy this model was compiled under (None: one process)."""
        return None if self._distribution is None else self._distribution.strategy

    def _distributed(self, adapter: Any) -> Any:
        """The adapter, or with a strategy the one that gives this replica its part of each global batch."""
        return adapter if self._distribution is None else self._distribution.distribute_adapter(adapter)

    def get_compile_config(self) -> dict[str, Any] | None:
        """The compile() arguments as JSON-ready values (for saving)."""
        if not self.compiled:
            return None
        from shendu import losses, metrics, optimizers

        args = self._compile_args
        return {"optimizer": optimizers.serialize(self.optimizer), "loss": _serialize(args["loss"], losses),
                "metrics": _serialize(args["metrics"], metrics),
                "loss_weights": args["loss_weights"],
                "weighted_metrics": _serialize(args["weighted_metrics"], metrics)}

    def compile_from_config(self, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> None:
        """compile() again from `get_compile_config()`'s output."""
        from shendu import losses, metrics, optimizers

        self.compile(optimizer=optimizers.deserialize(config["optimizer"], custom_objects=custom_objects),
                     loss=_deserialize(config.get("loss"), losses, custom_objects),
                     metrics=_deserialize(config.get("metrics"), metrics, custom_objects),
                     loss_weights=config.get("loss_weights"),
                     weighted_metrics=_deserialize(config.get("weighted_metrics"), metrics, custom_objects))

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"Model '{self.name}': you must call compile() before {method}()")

    # --- metrics -----------------------------------------------------------------------------------
    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, the compiled metrics, the per-output loss trackers, then the Metric objects held as
        attributes of the model and of its layers (Keras 3's order)."""
        out: list[Any] = [self._loss_tracker] if self.compiled else []
        if self._compile_metrics is not None:
            out.extend(self._compile_metrics.metrics)
        if self._compile_loss is not None:
            out.extend(self._compile_loss.trackers)
        tracked = self.__dict__.get("_tracked_in_loop")  # fixed while fit/evaluate runs, not searched each step
        if tracked is None:
            tracked = self._tracked_metrics()
        out.extend(m for m in tracked if all(m is not o for o in out))
        return out

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    @property
    def compiled_loss(self) -> CompiledLoss:
        """tf.keras 2's `compiled_loss(y, y_pred, sample_weight=None, regularization_losses=None)`: the compiled loss
        plus the given regularization terms, fed to the 'loss' tracker (as `train_step` overrides use it)."""
        return CompiledLoss(self)

    @property
    def compiled_metrics(self) -> CompiledMetrics:
        """tf.keras 2's `compiled_metrics`: `update_state(y, y_pred, sample_weight=None)` on the compiled metrics."""
        return CompiledMetrics(self)

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self) -> dict[str, Any]:
        """The current value of every metric in `metrics`, by name (a metric's dict result merged in), as floats."""
        logs: dict[str, Any] = {}
        for m in self.metrics:
            value = m.result()
            if isinstance(value, Mapping):
                logs.update(value)
            else:
                logs[m.name] = value
        return _pythonify(logs)

    def _flatten_metrics_in_order(self, logs: dict[str, float]) -> Any:
        names = self.metrics_names
        results = [logs[n] for n in names if n in logs] + [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    # --- structure of outputs, targets and weights -------------------------------------------------
    def _resolve(self, x: Any, y: Any, y_pred: Any) -> None:
        """At the first batch: output names, then the losses and metrics per output from sample data."""
        names = self._known_output_names()
        if names is None:
            if isinstance(y_pred, dict):
                names = list(y_pred)
            elif isinstance(y_pred, (list, tuple)):
                names = [f"output_{i + 1}" for i in range(len(y_pred))]
            else:
                names = ["output_1"]
        self._output_names = names
        self._n_outputs = len(names)
        if self._compile_loss is not None:
            self._compile_loss.build(names, self.name)
        self._resolved = True
        if y is not None:
            self._build_metrics(y, y_pred)

    def _build_metrics(self, y: Any, y_pred: Any) -> None:
        if self._compile_metrics is not None:
            self._compile_metrics.build(self._output_names, self._flat_targets(y), self._flat_preds(y_pred), self.name)

    def _flat_preds(self, y_pred: Any) -> list[Tensor]:
        if isinstance(y_pred, Tensor):
            return [y_pred]
        if isinstance(y_pred, dict):
            return [y_pred[n] for n in self._output_names]
        return list(y_pred)

    def _flat_targets(self, y: Any) -> list[Any]:
        n = self._n_outputs
        if y is None:
            return [None] * n
        if n == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1:
                return [y[0]]
            if isinstance(y, dict):
                return [y.get(self._output_names[0], next(iter(y.values())))]
            return [y]
        if isinstance(y, (list, tuple, dict)):
            return per_output(y, self._output_names, "y", self.name)
        raise ValueError(
            f"Model '{self.name}' has {n} outputs {self._output_names}: give y as a list of {n} arrays or a dict "
            f"by output name; got a single {type(y).__name__}"
        )

    def _flat_weights(self, sw: Any) -> list[Any]:
        if sw is None or (self._n_outputs == 1 and not isinstance(sw, (list, tuple, dict))):
            return [sw] * self._n_outputs
        return per_output(sw, self._output_names, "sample_weight", self.name)

    # --- the steps -------------------------------------------------------------------------------
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> Tensor:
        """The compiled loss over all outputs plus the model's regularization and add_loss terms."""
        total = self._compiled_loss_plus(x, y, y_pred, sample_weight, self.losses)
        if total is None:
            raise ValueError(
                f"Model '{self.name}': no loss to compute. Provide a `loss` argument in compile() (and labels y), "
                "or add losses in call() with add_loss()"
            )
        return total

    def _compiled_loss_plus(self, x: Any, y: Any, y_pred: Any, sample_weight: Any, extras: Any) -> Tensor | None:
        """The compiled loss over all outputs (when there is one and labels), plus each of `extras`; None if neither."""
        if not self._resolved:
            self._resolve(x, y, y_pred)
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(self._flat_targets(y), self._flat_preds(y_pred),
                                       self._flat_weights(sample_weight))
        for extra in extras:
            total = extra if total is None else total + extra
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> StepLogs:
        """Update the compiled metrics with this batch; returns the logs (a `StepLogs`, read when looked at)."""
        cm = self._compile_metrics
        if cm is not None and y is not None:
            if not self._resolved:
                self._resolve(x, y, y_pred)
            if not cm.built:
                self._build_metrics(y, y_pred)
            cm.update_state(self._flat_targets(y), self._flat_preds(y_pred), self._flat_weights(sample_weight))
        return StepLogs(self)

    def zero_grad(self) -> None:
        """Clear the gradients of all weights (`var.grad = None`)."""
        for v in self.weights:
            v.grad = None

    def _trainable_variables(self) -> list[Any]:
        """The weights to update, cached per fit; frozen weights stop requiring a gradient (none is computed)."""
        tvars = self.trainable_weights
        ids = {id(v) for v in tvars}
        for v in self.weights:
            if v.data.dtype.kind == "f":
                v.requires_grad = id(v) in ids
        self._tvars = tvars
        return tvars

    def train_step(self, data: Any) -> Mapping[str, Any]:
        """One update on a batch (x, y[, sample_weight]); returns its logs. Override to customize."""
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        lean = self._lean
        if lean and sample_weight is None and lean.run(x, y):
            return StepLogs(self)
        tvars = self._tvars
        if tvars is None and self.built:
            tvars = self._trainable_variables()
        if tvars is not None:
            for v in tvars:
                v.grad = None
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        value = float(loss.data)
        self._loss_tracker.update_state(value, batch_size_of(y_pred))
        if tvars is None:
            tvars = self._trainable_variables()
        if not math.isfinite(value):
            self._nonfinite = value
        elif loss.requires_grad:
            self.optimizer.scale_loss(loss).backward()
            grads = [(v.grad.data, v) for v in tvars if v.grad is not None]
            if grads:
                self.optimizer.apply_gradients(grads)
        logs = self.compute_metrics(x, y, y_pred, sample_weight)
        if lean is None:
            self._lean = lean_step.plan(self, x) or False
        return logs

    def test_step(self, data: Any) -> Mapping[str, Any]:
        """The loss and metrics of a batch, without an update; returns its logs. Override to customize."""
        x, y, sample_weight = da.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.data), batch_size_of(y_pred))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The model's output for a batch (x alone, or the x of (x, y[, w])). Override to customize."""
        x, _, _ = da.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _run_steps(self, iterator: da.EpochIterator, step_fn: Callable[[Any], Any], callbacks: Any, mode: str,
                   stoppable: bool) -> tuple[int, Any]:
        """step_fn on each batch, with the `mode` ('train', 'test') batch callbacks once per steps_per_execution
        steps (only those that exist); stoppable: end early on `stop_training` or a non-finite loss.
        Returns the last step and its logs."""
        n = self.steps_per_execution
        begin, end = f"on_{mode}_batch_begin", f"on_{mode}_batch_end"
        want_begin, want_end = callbacks.wants(begin), callbacks.wants(end)
        begin, end = getattr(callbacks, begin), getattr(callbacks, end)
        step, logs = -1, None
        self._tracked_in_loop = self._tracked_metrics()
        try:
            for step, (x, y, w) in iterator:
                if want_begin and step % n == 0:
                    begin(step)
                logs = step_fn(_pack(x, y, w))
                if step == 0:  # a first call may have made metrics (layers built now, add_metric)
                    self._tracked_in_loop = self._tracked_metrics()
                if stoppable and type(logs) is dict:  # a custom step's logs: its non-finite loss stops fit too
                    self._record_nonfinite(logs.get("loss"))
                if want_end and (step + 1) % n == 0:
                    end(step, _pythonify(logs))
                if stoppable and (self._nonfinite is not None or self.stop_training):
                    break
        finally:
            self._tracked_in_loop = None
        if want_end and (step + 1) % n:  # the last group, cut short by the end of the data or a stop
            end(step, _pythonify(logs))
        return step, logs

    def _record_nonfinite(self, loss: Any) -> None:
        """Keep a non-finite scalar loss in `_nonfinite`, where fit looks for it after each step."""
        if loss is not None and np.size(loss) == 1:
            value = float(np.asarray(loss.data if isinstance(loss, Tensor) else loss).reshape(()))
            if not math.isfinite(value):
                self._nonfinite = value

    def _final_logs(self, logs: Any) -> dict[str, Any]:
        """The logs of an epoch or an evaluation: its last step's (all metrics, or what a custom step returned)."""
        if self._distribution is not None:  # the metric states summed over the replicas: global values
            logs = self._distribution.sync_metrics(logs)
        return self.get_metrics_result() if logs is None else _pythonify(logs)

    # --- fit ---------------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool | str = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int | list[int] = 1) -> Any:
        """Train for `epochs` epochs; returns a History whose `.history` maps 'loss', metrics and 'val_*' to
        their per-epoch values (training values are running means over each epoch, as Keras reports them)."""
        from shendu.callbacks import CallbackList, History

        self._assert_compiled("fit")
        _check_batch_size("fit", "batch_size", batch_size)
        _check_batch_size("fit", "validation_batch_size", validation_batch_size)
        _check_count("fit", "epochs", epochs, allow_none=False)
        _check_count("fit", "initial_epoch", initial_epoch, allow_none=False, allow_zero=True)
        _check_count("fit", "steps_per_epoch", steps_per_epoch)
        _check_count("fit", "validation_steps", validation_steps)
        _check_validation_split(validation_split)
        _check_validation_freq(validation_freq)
        verbose = _verbosity(verbose)
        n_inputs = len(self._graph.inputs) if self._graph is not None else None
        if validation_split and validation_data is None:
            if not da.is_array_like(x):
                raise ValueError("validation_split is only supported for arrays (NumPy or Tensors), not for "
                                 f"{type(x).__name__}; pass validation_data instead")
            arrays = (da.standardize(x, n_inputs), da.standardize(y), da.standardize(sample_weight))
            (x, y, sample_weight), validation_data = da.train_validation_split(arrays, validation_split)
        adapter = self._distributed(_nonempty("fit", da.make_adapter(x, y, sample_weight, batch_size, shuffle,
                                                                      n_inputs)))
        iterator = da.EpochIterator(adapter, steps_per_epoch, class_weight)
        val_iterator = None
        if validation_data is not None:
            val_iterator = self._validation_iterator(validation_data, validation_batch_size or batch_size,
                                                     validation_steps, n_inputs)
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=epochs,
            steps=iterator.num_steps)
        self.stop_training = False
        self._tvars = self._lean = None
        self._nonfinite = None
        self._initial_epoch, self._train_iterator = None, iterator  # BackupAndRestore sets the one, restores the other
        callbacks.on_train_begin()
        if self._distribution is not None:  # after BackupAndRestore: rank 0's weights everywhere
            self._distribution.begin_training(iterator)
        initial_epoch = initial_epoch if self._initial_epoch is None else self._initial_epoch
        epoch_logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs, failure = self._train_epoch(epoch, epochs, iterator, callbacks)
            epoch_logs = {} if logs is None else logs
            ran = logs is not None and failure is None
            if val_iterator is not None and ran and _should_eval(epoch, validation_freq):
                val_logs = self._evaluate_loop(val_iterator, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if failure is not None:
                print(_nonfinite_message(failure, epochs), flush=True)
            if self.stop_training or iterator.exhausted:
                break
        callbacks.on_train_end(epoch_logs)
        return next((cb for cb in callbacks if isinstance(cb, History)), self.history)

    def _train_epoch(self, epoch: int, epochs: int, iterator: da.EpochIterator,
                     callbacks: Any) -> tuple[dict | None, tuple | None]:
        """One epoch of steps; returns its logs (None for an epoch without batches) and (epoch, step, loss) if a
        loss was not finite."""
        step, logs = self._run_steps(iterator, self.train_step, callbacks, "train", stoppable=True)
        if step < 0:
            warnings.warn(f"Epoch {epoch + 1}/{epochs} had no batches of data (the input ran out); no loss or "
                          "metrics are logged for it", stacklevel=3)
            return None, None
        if self._nonfinite is None:
            return self._final_logs(logs), None
        self.stop_training = True
        return self._final_logs(logs), (epoch, step, self._nonfinite)

    def _validation_iterator(self, data: Any, batch_size: int | None, steps: int | None,
                             n_inputs: int | None) -> da.EpochIterator:
        if isinstance(data, (tuple, list)) and 2 <= len(data) <= 3 and da.is_array_like(data[0]):
            vx, vy, vw = da.unpack_x_y_sample_weight(data)
            adapter = da.make_adapter(vx, vy, vw, batch_size, False, n_inputs)
        else:
            adapter = da.make_adapter(data, None, None, None, False, n_inputs)
        return da.EpochIterator(self._distributed(adapter), steps)

    # --- evaluate ----------------------------------------------------------------------------------
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: Any = None,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss (and metrics) on this data: the loss alone without metrics, else [loss, *metrics]
        in `metrics_names` order, or a dict with return_dict=True."""
        from shendu.callbacks import CallbackList

        self._assert_compiled("evaluate")
        if kwargs:
            raise TypeError(f"evaluate: unexpected keyword argument(s) {sorted(kwargs)}")
        _check_batch_size("evaluate", "batch_size", batch_size)
        _check_count("evaluate", "steps", steps)
        n_inputs = len(self._graph.inputs) if self._graph is not None else None
        adapter = self._distributed(_nonempty("evaluate", da.make_adapter(x, y, sample_weight, batch_size, False,
                                                                           n_inputs)))
        iterator = da.EpochIterator(adapter, steps)
        verbose = _verbosity(verbose)
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=iterator.num_steps)
        logs = self._evaluate_loop(iterator, callbacks)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def _evaluate_loop(self, iterator: da.EpochIterator, callbacks: Any) -> dict[str, float]:
        self.reset_metrics()
        callbacks.on_test_begin()
        with grad_mode.no_grad():
            _, logs = self._run_steps(iterator, self.test_step, callbacks, "test", stoppable=False)
        logs = self._final_logs(logs)
        callbacks.on_test_end(logs)
        return logs

    # --- predict -----------------------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", steps: int | None = None,
                callbacks: Any = None) -> Any:
        """The outputs for x as NumPy arrays, computed in batches without recording gradients."""
        from shendu.callbacks import CallbackList

        _check_batch_size("predict", "batch_size", batch_size)
        _check_count("predict", "steps", steps)
        n_inputs = len(self._graph.inputs) if self._graph is not None else None
        adapter = self._distributed(da.make_adapter(x, None, None, batch_size, False, n_inputs))
        iterator = da.EpochIterator(adapter, steps)
        verbose = _verbosity(verbose)
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=iterator.num_steps)
        n = self.steps_per_execution
        want_begin, want_end = callbacks.wants("on_predict_batch_begin"), callbacks.wants("on_predict_batch_end")
        step, out, chunks, first = -1, None, [], 0
        callbacks.on_predict_begin()
        with grad_mode.no_grad():
            for step, (xb, _, _) in iterator:
                if step % n == 0:
                    first = len(chunks)
                    if want_begin:
                        callbacks.on_predict_batch_begin(step)
                out = self.predict_step(_pack(xb, None, None))
                chunks.append([np.asarray(backend.to_host(getattr(t, "data", t))) for t in tree.flatten(out)])
                if want_end and (step + 1) % n == 0:
                    callbacks.on_predict_batch_end(step, {"outputs": _joined(out, chunks[first:])})
        if want_end and (step + 1) % n:
            callbacks.on_predict_batch_end(step, {"outputs": _joined(out, chunks[first:])})
        callbacks.on_predict_end()
        if not chunks:
            raise ValueError(f"Model '{self.name}': predict() got no batches of data (is x empty?)")
        if self._distribution is not None:
            return tree.pack_sequence_as(out, self._distribution.gather_predictions(adapter, chunks))
        return tree.pack_sequence_as(out, [np.concatenate(parts) for parts in zip(*chunks)])

    # --- single batches ----------------------------------------------------------------------------
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False, reset_metrics: bool = True) -> Any:
        """One update on one batch; returns its loss (and metrics) as evaluate does.

        reset_metrics=True (tf.keras's default) reports this batch alone; False accumulates across calls.
        """
        self._assert_compiled("train_on_batch")
        xb, yb, wb = self._single_batch(x, y, sample_weight, class_weight)
        if reset_metrics:
            self.reset_metrics()
        self._tvars, self._lean = None, False  # the lean step is fit's: one batch would not pay for its plan
        logs = _pythonify(self.train_step(_pack(xb, yb, wb)))
        self._nonfinite = None
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False,
                      reset_metrics: bool = True) -> Any:
        """The loss (and metrics) on one batch, without updating the weights."""
        self._assert_compiled("test_on_batch")
        xb, yb, wb = self._single_batch(x, y, sample_weight, None)
        if reset_metrics:
            self.reset_metrics()
        with grad_mode.no_grad():
            logs = _pythonify(self.test_step(_pack(xb, yb, wb)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch as NumPy arrays."""
        xb, _, _ = self._single_batch(x, None, None, None)
        with grad_mode.no_grad():
            out = self.predict_step(_pack(xb, None, None))
        return tree.map_structure(np.asarray, out)

    def _single_batch(self, x: Any, y: Any, sw: Any, class_weight: dict | None) -> da.Batch:
        n_inputs = len(self._graph.inputs) if self._graph is not None else None
        x, y, sw = da.standardize(x, n_inputs), da.standardize(y), da.standardize(sw)
        adapter = da.ArrayDataAdapter(x, y, sw, batch_size=da.num_samples(tree.flatten(x)))
        return next(iter(da.EpochIterator(adapter, None, class_weight)))[1]


def _joined(spec: Any, chunks: list[list[np.ndarray]]) -> Any:
    """The outputs of a group of batches (each a list of arrays, one per leaf of spec) joined along the batch axis
    (one batch's passed on as they are), for on_predict_batch_end."""
    return tree.pack_sequence_as(spec, [parts[0] if len(parts) == 1 else np.concatenate(parts)
                                        for parts in zip(*chunks)])


def _pack(x: Any, y: Any, w: Any) -> Any:
    """What a dataset would yield, as Keras packs it: x alone when there is no y, else (x, y[, w])."""
    if y is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    return (x, y) if w is None else (x, y, w)


def _pythonify(logs: Any) -> dict[str, Any]:
    """A step's logs as a dict with scalars (Tensors, NumPy values) as Python floats, as Keras reports them."""
    if not isinstance(logs, Mapping):
        raise TypeError(f"train_step/test_step must return a dict of logs; got {type(logs).__name__}")
    out = {}
    for k, v in logs.items():
        if isinstance(v, Mapping):  # a metric's dict result (Keras 3 merges it into the logs)
            out.update(_pythonify(v))
            continue
        if isinstance(v, (Tensor, np.ndarray, np.generic)) and np.size(v) == 1:
            v = float(np.asarray(v).reshape(()))
        elif isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        out[k] = v
    return out


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _check_batch_size(method: str, name: str, value: Any) -> None:
    """A batch size is a positive integer, or None (32 for arrays)."""
    if value is not None and not _is_positive_int(value):
        raise ValueError(f"{method}: {name} must be a positive integer (or None for 32); got {value!r}")


def _check_count(method: str, name: str, value: Any, allow_none: bool = True, allow_zero: bool = False) -> None:
    """A number of epochs or steps: a positive integer (0 too where allow_zero), or None where allow_none."""
    if value is None and allow_none:
        return
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not integer or value < (0 if allow_zero else 1):
        what = "a non-negative integer" if allow_zero else "a positive integer"
        raise ValueError(f"{method}: {name} must be {what}{' (or None)' if allow_none else ''}; got {value!r}")


def _check_validation_split(value: Any) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and 0 <= value < 1
    if not ok:
        raise ValueError(f"fit: validation_split must be a float in [0, 1); got {value!r}")


def _check_validation_freq(value: Any) -> None:
    if isinstance(value, (list, tuple)):
        if all(_is_positive_int(v) for v in value):
            return
    elif _is_positive_int(value):
        return
    raise ValueError(f"fit: validation_freq must be a positive integer or a list of epoch numbers; got {value!r}")


def _nonempty(method: str, adapter: Any) -> Any:
    """The adapter, unless it holds arrays of no samples (there would be no loss to compute)."""
    if isinstance(adapter, da.ArrayDataAdapter) and adapter.num_samples == 0:
        raise ValueError(f"{method}: the data has 0 samples; x (and y) must hold at least one")
    return adapter


def _verbosity(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {verbose!r}")
    return int(verbose)


def _should_eval(epoch: int, freq: int | list[int]) -> bool:
    if isinstance(freq, (int, np.integer)):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _nonfinite_message(failure: tuple[int, int, float], epochs: int) -> str:
    epoch, step, value = failure
    return (
        f"Epoch {epoch + 1}/{epochs}, batch {step + 1}: the loss is {value} (not finite); training stopped before "
        "this batch's update, so the weights are those of the previous batch. Lower the learning rate, check the "
        "data for NaN/inf values, or clip the gradients (clipnorm=1.0 on the optimizer)."
    )


def _serialize(value: Any, module: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_serialize(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _serialize(v, module) for k, v in value.items()}
    return module.serialize(value)


def _deserialize(value: Any, module: Any, custom_objects: dict[str, Any] | None) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        if isinstance(value, str) and custom_objects and value in custom_objects:
            return custom_objects[value]
        return value
    if isinstance(value, list):
        return [_deserialize(v, module, custom_objects) for v in value]
    if isinstance(value, dict) and "class_name" in value:
        return module.deserialize(value, custom_objects=custom_objects)
    return {k: _deserialize(v, module, custom_objects) for k, v in value.items()}
