"""BackupAndRestore: back up the whole training state during fit, so that a killed run started again resumes exactly.

The backup is one safetensors file, written atomically: the model's weights, the optimizer's state, and as metadata
the epoch reached, the position in the data and every random state that training draws from (shendu's global
generator, the op streams of `tf.random`, the layers' seeded generators, the generators of a Dataset pipeline).
A resumed run therefore shuffles, drops out and updates exactly as the uninterrupted run would have, and ends with
the same weights, bit for bit.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import numpy as np

from shendu import backend, grad_mode, random
from shendu.callbacks._save_freq import BatchCount
from shendu.callbacks.callback import Callback, is_chief
from shendu.layers.base import Layer
from shendu.models import data_adapter as da
from shendu.saving import ModelFileError, safetensors_format
from shendu.utils import tree

FORMAT = "shendu.backup/1"
FILENAME = "latest.backup.safetensors"


class BackupAndRestore(Callback):
    """Keras's callback: back up the training state into `backup_dir` at the end of each epoch (or every
    `save_freq` batches, and at each epoch's end); a fit with this callback whose backup exists resumes from it.

    With `delete_checkpoint=True` the backup is removed when fit ends normally (an exception keeps it). The model,
    compile and fit arguments of the resumed run must be those of the interrupted one. Resuming inside an epoch
    replays the start of its pass over the data (its shuffled order) and skips the batches already trained on; the
    loss and metrics logged for that epoch then cover the batches after the resume.
    """

    def __init__(self, backup_dir: str | os.PathLike[str], save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore: backup_dir must be a non-empty path; got {backup_dir!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer))
                                     or save_freq <= 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive integer; got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._path = os.path.join(self.backup_dir, FILENAME)
        self._epoch = 0
        self._batches = BatchCount(save_freq)

    # --- the hooks ---------------------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._batches.reset()
        if os.path.exists(self._path):
            self._restore()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq != "epoch" and self._batches.due(batch):
            self._save(self._epoch, at_epoch_end=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._save(epoch + 1, at_epoch_end=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        if not self.delete_checkpoint or not is_chief(self.model):
            return
        if os.path.exists(self._path):
            os.remove(self._path)
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only when empty: never delete what shendu did not write

    # --- writing -------------------------------------------------------------------------------------------------
    def _save(self, epoch: int, at_epoch_end: bool) -> None:
        model = self.model
        if not is_chief(model):  # data-parallel training: every rank reads the backup, rank 0 writes it
            return
        weights = model.get_weights()
        tensors = {f"model/{i:05d}": w for i, w in enumerate(weights)}
        if model.optimizer is not None:
            tensors.update({f"optimizer/{k}": v for k, v in model.optimizer.get_state().items()})
        iterator = getattr(model, "_train_iterator", None)
        position = None if iterator is None else iterator.get_state()
        if position is not None and at_epoch_end:
            position["step"] = 0
        state = {"epoch": epoch, "weights": len(weights), "data": position, "random": _random_state(model)}
        metadata = {"format": FORMAT, "state": json.dumps(state, default=_json_default)}
        os.makedirs(self.backup_dir, exist_ok=True)
        safetensors_format.save_file(tensors, self._path, metadata=metadata)

    # --- reading -------------------------------------------------------------------------------------------------
    def _restore(self) -> None:
        tensors, state = self._read()
        model = self.model
        if not model.built:
            _build(model, getattr(model, "_train_iterator", None))
        try:
            model.set_weights([tensors[f"model/{i:05d}"] for i in range(state["weights"])])
            opt_state = {k[len("optimizer/"):]: v for k, v in tensors.items() if k.startswith("optimizer/")}
            if model.optimizer is not None and opt_state:
                model.optimizer.set_state(opt_state)
            _set_random_state(model, state["random"])
            iterator = getattr(model, "_train_iterator", None)
            if iterator is not None and state["data"] is not None:
                iterator.set_state(state["data"])
                self._batches.reset(int(state["data"]["step"]) - 1)  # count the batches from where it resumes
            model._initial_epoch = int(state["epoch"])
        except (KeyError, ValueError, TypeError) as err:
            raise ValueError(
                f"BackupAndRestore: the backup {self._path} does not fit model '{model.name}' and its data ({err}). "
                "It was written by another model or another fit; remove it (or use another backup_dir) to start "
                "afresh"
            ) from None

    def _read(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        with open(self._path, "rb") as f:
            data = f.read()
        tensors = safetensors_format.load(data, self._path)
        metadata = safetensors_format.load_metadata(data, self._path)
        if metadata.get("format") != FORMAT:
            raise ModelFileError(f"BackupAndRestore: {self._path} is not a shendu backup (format "
                                 f"{metadata.get('format')!r}, expected {FORMAT!r})")
        try:
            state = json.loads(metadata["state"])
            if not {"epoch", "weights", "data", "random"} <= set(state):
                raise ValueError(f"entries {sorted(state)}")
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"BackupAndRestore: {self._path} is corrupted: bad training state ({err})") from None
        return tensors, state


def _layer_generators(model: Any) -> dict[str, np.random.Generator]:
    return da.find_generators(model, lambda obj: isinstance(obj, Layer), "model")


def _random_state(model: Any) -> dict[str, Any]:
    """Every random state training draws from: shendu's global generator, the seeded op streams, the layers'."""
    ops = [[op, seed, gen.bit_generator.state] for (op, seed), gen in random._op_rngs.items()]
    layers = {name: gen.bit_generator.state for name, gen in _layer_generators(model).items()}
    return {"global": random.generator().bit_generator.state, "ops": ops, "layers": layers}


def _set_random_state(model: Any, state: dict[str, Any]) -> None:
    random.generator().bit_generator.state = state["global"]
    for op, seed, gen_state in state["ops"]:
        random.op_generator(op, seed).bit_generator.state = gen_state
    da.set_generator_states(_layer_generators(model), state["layers"], f"the layers of model '{model.name}'")


def _build(model: Any, iterator: Any) -> None:
    """Build a model that has no weights yet from a sample of its training data (arrays only), as its first batch
    would; else ask for a built model, as Keras does."""
    x = getattr(getattr(iterator, "adapter", None), "x", None)
    if x is None:
        raise ValueError(
            f"BackupAndRestore: model '{model.name}' must be built before fit() resumes from a backup; build it "
            "(give the first layer an input_shape, or call the model on a batch) before calling fit()"
        )
    floatx = backend.floatx()
    with grad_mode.no_grad():
        model(tree.map_structure(lambda a: a[:1].astype(floatx) if a.dtype == np.float64 else a[:1], x),
              training=False)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"BackupAndRestore: cannot write a {type(obj).__name__} into the backup's state")
