"""TensorBoard: Keras's callback writing event files for TensorBoard through tf.summary (shendu.tf.summary), laid out
as Keras 3 lays them out: `<log_dir>/train` and `<log_dir>/validation`, scalars `epoch_<name>` (and `batch_<name>`
with update_freq), `epoch_learning_rate`, weight histograms `<weight path>/histogram`, the model's graph."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from typing import Any

import numpy as np

from shendu.callbacks.callback import Callback
from shendu.tf import summary


class TensorBoard(Callback):
    """Log losses, metrics, the learning rate, weight histograms/images and the model graph for TensorBoard.

    Run `tensorboard --logdir <log_dir>` to see them. `profile_batch` needs TensorFlow's profiler, which shendu does
    not have: a non-zero value raises, as Keras 3 does on its NumPy and PyTorch backends. Epoch-level summaries are
    always written (Keras 3 drops those of an epoch whose last batch falls between two `update_freq` batches).
    """

    def __init__(self, log_dir: str | os.PathLike[str] = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int | str | tuple[int, int] = 0, embeddings_freq: int = 0,
                 embeddings_metadata: str | dict[str, str] | None = None) -> None:
        super().__init__()
        summary.require_tensorboard("keras.callbacks.TensorBoard")
        if update_freq not in ("batch", "epoch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'batch', 'epoch' or a positive integer; got "
                             f"{update_freq!r}")
        if profile_batch not in (0, "0", None, (0, 0), [0, 0]):
            raise ValueError("TensorBoard: profiling needs TensorFlow's profiler, which shendu (NumPy) does not have; "
                             f"got profile_batch={profile_batch!r} (must be 0)")
        for arg, value in (("histogram_freq", histogram_freq), ("embeddings_freq", embeddings_freq)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"TensorBoard: {arg} must be a non-negative integer; got {value!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._writers: dict[str, Any] = {}
        self._prev_summary_state: list[tuple[Any, Any]] = []

    def set_model(self, model: Any) -> None:
        """Keep the model, start new writers (event files are made when first written) and write its graph."""
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        if self.write_graph:
            self._write_model_graph()
        if self.embeddings_freq:
            from shendu.callbacks.tensorboard_projector import write_projector_config

            write_projector_config(self.model, self.log_dir, self.embeddings_metadata)

    @property
    def _train_writer(self) -> Any:
        if "train" not in self._writers:
            self._writers["train"] = summary.create_file_writer(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self) -> Any:
        if "val" not in self._writers:
            self._writers["val"] = summary.create_file_writer(self._val_dir)
        return self._writers["val"]

    def _write_model_graph(self) -> None:
        """Keras's "keras" summary (the model's JSON, drawn as the conceptual graph) and a GraphDef of its layers."""
        if type(self.model).__name__ not in ("Functional", "Sequential"):
            return
        try:
            config = json.loads(self.model.to_json())
        except Exception as exc:  # a model that cannot be serialized still trains, as in Keras
            warnings.warn(f"TensorBoard: the model failed to serialize as JSON; no graph written. {exc}",
                          stacklevel=2)
            return
        from tensorboard.compat.proto.summary_pb2 import SummaryMetadata

        metadata = SummaryMetadata()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        with self._train_writer.as_default():
            summary.write("keras", np.array(json.dumps(config).encode(), dtype=object), step=0, metadata=metadata)
            summary.graph(model_graph_def(config))

    def _push_writer(self, writer: Any, step: int) -> None:
        """Make `writer` the default for batch-level summaries, recording every `update_freq` steps."""
        if self.update_freq == "epoch":
            return
        contexts = (writer.as_default(step), summary.record_if(lambda: step % self.update_freq == 0))
        self._prev_summary_state.append(contexts)
        contexts[0].__enter__()
        contexts[1].__enter__()

    def _pop_writer(self) -> None:
        if self.update_freq == "epoch" or not self._prev_summary_state:
            return
        contexts = self._prev_summary_state.pop()
        contexts[1].__exit__(*sys.exc_info())
        contexts[0].__exit__(*sys.exc_info())

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._push_writer(self._train_writer, self._global_train_batch)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._pop_writer()
        self._close_writers()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._push_writer(self._val_writer, self._global_test_batch)

    def on_test_end(self, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            with self._val_writer.as_default(), summary.record_if(True):
                for name, value in (logs or {}).items():
                    summary.scalar(f"evaluation_{name}_vs_iterations", value, step=optimizer.iterations)
        self._pop_writer()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._train_writer, self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            summary.scalar("batch_steps_per_second", 1.0 / elapsed, step=self._global_train_batch)
        if isinstance(logs, dict):
            for name, value in logs.items():
                summary.scalar(f"batch_{name}", value, step=self._global_train_batch)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._val_writer, self._global_test_batch)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.write_steps_per_second:
            self._previous_epoch_iterations = _iterations(self.model)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Write the epoch's scalars; weight histograms every `histogram_freq` epochs, embeddings likewise."""
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            from shendu.callbacks.tensorboard_projector import write_embeddings

            write_embeddings(self.model, self.log_dir)

    def _log_epoch_metrics(self, epoch: int, logs: dict | None) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train_logs.update(_learning_rates(getattr(self.model, "optimizer", None)))
        if self.write_steps_per_second:
            steps = _iterations(self.model) - self._previous_epoch_iterations
            train_logs["steps_per_second"] = steps / max(time.time() - self._epoch_start_time, 1e-9)
        for writer, values in ((self._train_writer, train_logs), (self._val_writer, val_logs)):
            if values:
                with writer.as_default(), summary.record_if(True):
                    for name, value in values.items():
                        summary.scalar(f"epoch_{name}", value, step=epoch)

    def _log_weights(self, epoch: int) -> None:
        """A histogram of every weight, tagged `<weight path>/histogram`; with write_images, also as an image."""
        with self._train_writer.as_default(), summary.record_if(True):
            for path, weight in weight_paths(self.model):
                tag = path.replace(":", "_")
                summary.histogram(f"{tag}/histogram", weight, step=epoch)
                if self.write_images:
                    pixels = weight_image(weight.numpy())
                    if pixels is not None:
                        summary.image(f"{tag}/image", pixels, step=epoch)
            self._train_writer.flush()


def model_graph_def(config: dict) -> Any:
    """A GraphDef of a Keras model config: one node per layer (op = its class), inputs = the layers feeding it."""
    from tensorboard.plugins.graph import keras_util

    graph = keras_util.keras_model_to_graph_def(config)
    for node in graph.node:
        node.op = node.attr["keras_class"].s.decode()
    return graph


def weight_paths(model: Any) -> list[tuple[str, Any]]:
    """(Keras 3 variable path, weight) for the weights of model.layers: the names of the enclosing Sequential or
    subclassed models and of the layer, then the weight's own name (e.g. 'sequential/lstm/lstm_cell/kernel')."""
    prefix = "" if type(model).__name__ == "Functional" else f"{model.name}/"
    pairs = []
    for layer in model.layers:
        scope = "" if type(layer).__name__ == "Functional" else f"{layer.name}/"
        for weight in layer.weights:
            name = weight.name
            pairs.append((prefix + (name if name.startswith(scope) else scope + name), weight))
    return pairs


def weight_image(weight: np.ndarray) -> np.ndarray | None:
    """Keras's picture of a weight, a [k, h, w, 1] batch: a bias as one column, a kernel matrix as one image (wider
    than tall), a 3-D (squeezed conv) kernel as one image per output channel; None for other shapes."""
    w = np.squeeze(weight)
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        w = w.T if w.shape[0] > w.shape[1] else w
        w = w.reshape(1, *w.shape, 1)
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))[..., None]
    return w if w.ndim == 4 and w.shape[-1] in (1, 3, 4) else None


def _iterations(model: Any) -> int:
    optimizer = getattr(model, "optimizer", None)
    return int(np.asarray(optimizer.iterations.numpy())) if optimizer is not None else 0


def _learning_rates(optimizer: Any) -> dict[str, float]:
    """{'learning_rate': value} of the optimizer (its current value under a schedule), as Keras logs it."""
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if hasattr(optimizer, "optimizers"):
        return {f"learning_rate_{opt.name}": float(np.asarray(opt.learning_rate)) for opt in optimizer.optimizers}
    if optimizer is not None and hasattr(optimizer, "learning_rate"):
        return {"learning_rate": float(np.asarray(optimizer.learning_rate))}
    return {}


__all__ = ["TensorBoard"]
