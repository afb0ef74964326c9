"""tf.train: Checkpoint, CheckpointManager and latest_checkpoint in shendu's own safe file format.

A checkpoint is one safetensors file, `<prefix>.safetensors`, written atomically and never pickled: each value is
keyed by its object path, as TensorFlow's object-based checkpoints match them: `model/layer-0/kernel` (a model's
layers by index, then the weight's name), `step` (a Variable), `optimizer/iterations`, `optimizer/learning_rate`
and `optimizer/slots/model/layer-0/kernel/momentum` (a slot for the variable at that path), `save_counter`.
So a freshly built twin of a model, in another process, restores it whatever its layers are called.

A folder of checkpoints holds a `checkpoint` file in TensorFlow's text format, read by `latest_checkpoint`:
    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1712345678.5
    last_preserved_timestamp: 1712345600.0
(paths relative to the folder, one line per entry).

A layer or model not built yet when restored takes its values as soon as its `build` creates its weights, before
it computes anything (TensorFlow's deferred restoration); an optimizer creates the slots it restores at once.
"""

from __future__ import annotations

import json
import os
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shendu.layers.base import Layer
from shendu.models import Model
from shendu.optimizers import Optimizer
from shendu.random_generator import Generator
from shendu.saving import safetensors_format
from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.tensor import Tensor
from shendu.tf.module import Module
from shendu.variable import Variable

FORMAT = "shendu.checkpoint/1"
SUFFIX = ".safetensors"
STATE_FILE = "checkpoint"
SAVE_COUNTER = "save_counter"


# --- the object graph -----------------------------------------------------------------------------------------
@dataclass
class _Graph:
    """What a Checkpoint reaches: each variable and optimizer at its first path, and the layers not built yet."""

    variables: dict[str, Variable] = field(default_factory=dict)
    optimizers: dict[str, Optimizer] = field(default_factory=dict)
    unbuilt: dict[str, Layer] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _check_trackable(value: Any, name: str) -> None:
    """Refuse, as TensorFlow does, what holds no checkpointable state (a Tensor, a number, a Dataset, ...)."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_trackable(item, f"{name}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "/" in key:
                raise ValueError(f"tf.train.Checkpoint: '{name}' has the key {key!r}: keys must be strings without '/'")
            _check_trackable(item, f"{name}[{key!r}]")
    elif not isinstance(value, (Variable, Layer, Optimizer, Checkpoint, Module, Generator)):
        raise ValueError(f"tf.train.Checkpoint: '{name}' ({type(value).__name__}) holds no checkpointable state; "
                         f"expected a Variable, a Layer or Model, a tf.Module, an optimizer, a tf.random.Generator, a "
                         f"Checkpoint, or a list or dict of them")


def _holds_state(value: Any) -> bool:
    """Whether a tf.Module's attribute is checkpointable state (or a list or dict holding some)."""
    if isinstance(value, (list, tuple)):
        return any(_holds_state(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_state(v) for v in value.values())
    return isinstance(value, (Variable, Layer, Optimizer, Checkpoint, Module, Generator))


def _walk(obj: Any, path: str, graph: _Graph) -> None:
    """Depth first, in the order the objects were given; an object reached twice keeps its first path."""
    if isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _walk(item, _join(path, str(i)), graph)
        return
    if isinstance(obj, dict):
        for key, item in obj.items():
            _walk(item, _join(path, key), graph)
        return
    if id(obj) in graph.seen:
        return
    graph.seen.add(id(obj))
    if isinstance(obj, Variable):
        graph.variables[path or "(root)"] = obj
    elif isinstance(obj, Optimizer):
        graph.optimizers[path] = obj
    elif isinstance(obj, Checkpoint):
        obj._walk_into(path, graph)
    elif isinstance(obj, Generator):  # its state variable: a restored generator goes on where it was saved
        graph.variables[_join(path, "state")] = obj.state
    elif isinstance(obj, Module):  # its attributes that hold state, by name (others, e.g. numbers, are not state)
        for key in sorted(vars(obj)):
            value = vars(obj)[key]
            if _holds_state(value):
                _walk(value, _join(path, key), graph)
    elif isinstance(obj, Layer):
        if obj.built:
            _walk_layer(obj, path, graph)
        else:  # its weights come with build(); a model's layers are known before
            graph.unbuilt[path] = obj
            if isinstance(obj, Model):
                for i, sub in enumerate(obj.layers):
                    _walk(sub, _join(path, f"layer-{i}"), graph)
    else:
        _check_trackable(obj, path)


def _walk_layer(layer: Layer, path: str, graph: _Graph) -> None:
    """A model's layers as `layer-<index>`, then its own weights (and a layer's) by name: 'kernel', 'kernel:1', ..."""
    placed: set[int] = set()
    if isinstance(layer, Model):
        for i, sub in enumerate(layer.layers):
            _walk(sub, _join(path, f"layer-{i}"), graph)
            placed.update(id(w) for w in sub.weights)
    taken: set[str] = set()
    for var in layer.weights:
        if id(var) in placed or id(var) in graph.seen:
            continue
        graph.seen.add(id(var))
        base = var.name.rsplit("/", 1)[-1]
        name, n = base, 1
        while name in taken:
            name, n = f"{base}:{n}", n + 1
        taken.add(name)
        graph.variables[_join(path, name)] = var


def _slots(opt: Optimizer, state: dict[str, np.ndarray], var: Variable) -> dict[str, str]:
    """Slot name -> its key in `state` (opt.get_state()), for the slots the optimizer holds for `var`."""
    key = opt.state_key(var)
    if key is None:
        return {}
    return {name[len(key) + 1:]: name for name in state
            if name.startswith(f"{key}/") and "/" not in name[len(key) + 1:]}


def _optimizer_values(opt: Optimizer, path: str, variables: dict[str, Variable]) -> dict[str, np.ndarray]:
    """The optimizer's state keyed by path: its step count, its rate, and each slot under its variable's path."""
    state = opt.get_state()
    out = {_join(path, k): state[k] for k in ("iterations", "learning_rate") if k in state}
    for var_path, var in variables.items():
        for slot, name in _slots(opt, state, var).items():
            out[_join(path, f"slots/{var_path}/{slot}")] = state[name]
    return out


def _values(graph: _Graph) -> dict[str, np.ndarray]:
    """Everything the graph's objects hold, as copies keyed by path."""
    out = {key: np.array(var.data) for key, var in graph.variables.items()}
    for path, opt in graph.optimizers.items():
        out.update(_optimizer_values(opt, path, graph.variables))
    return out


# --- restoring --------------------------------------------------------------------------------------------------
def _checkpoint_file(save_path: str | os.PathLike[str], caller: str) -> str:
    """The file of a checkpoint path as `save`/`write` return it (the file itself is accepted too)."""
    path = os.fspath(save_path)
    if os.path.isfile(path + SUFFIX):
        return path + SUFFIX
    if path.endswith(SUFFIX) and os.path.isfile(path):
        return path
    if os.path.isdir(path):
        raise FileNotFoundError(f"{caller}: {path} is a folder, not a checkpoint; pass the path save() returned, or "
                                f"tf.train.latest_checkpoint({path!r})")
    raise FileNotFoundError(f"{caller}: no checkpoint at {path} (looked for the file {path + SUFFIX})")


def _read_file(save_path: str | os.PathLike[str], caller: str) -> tuple[str, dict[str, np.ndarray]]:
    """The checkpoint's file and values; a file that is not a shendu checkpoint raises ModelFileError naming it."""
    path = _checkpoint_file(save_path, caller)
    with open(path, "rb") as f:
        data = f.read()
    if safetensors_format.load_metadata(data, path).get("format") != FORMAT:
        raise ModelFileError(f"{path} is a safetensors file but not a shendu checkpoint (its metadata lacks "
                             f"format={FORMAT!r}); weights files are read with model.load_weights")
    return path, safetensors_format.load(data, path)


class _Restore:
    """One restore: the file's values and which went to an object. Values for layers not built yet wait for their
    `build` (TensorFlow's deferred restoration); each layer takes its values as soon as it creates its weights."""

    def __init__(self, path: str, values: dict[str, np.ndarray], optimizers: dict[str, Optimizer]) -> None:
        self.path = path
        self.values = values
        self.optimizers = optimizers
        self.used: set[str] = set()

    def assign(self, variables: dict[str, Variable]) -> None:
        """Give these variables, and the optimizers' state for them, their saved values (those not used yet).

        Every shape is checked before anything changes; an optimizer creates the slots it has values for.
        """
        values = self.values
        todo = {key: var for key, var in variables.items() if key in values and key not in self.used}
        problems = [f"{key}: checkpoint {values[key].shape}, object {var.shape}" for key, var in todo.items()
                    if values[key].shape != var.shape]
        states = []
        for opt_path, opt in self.optimizers.items():
            slot_prefix = _join(opt_path, "slots/")
            new = [var for var_path, var in variables.items() if opt.state_key(var) is None
                   and any(k.startswith(f"{slot_prefix}{var_path}/") for k in values)]
            if new:
                opt.build(new)  # TensorFlow creates the slots it restores, too
            state = opt.get_state()
            names = {_join(opt_path, name): name for name in ("iterations", "learning_rate") if name in state}
            for var_path, var in variables.items():
                for slot, name in _slots(opt, state, var).items():
                    names[_join(opt_path, f"slots/{var_path}/{slot}")] = name
            names = {key: name for key, name in names.items() if key in values and key not in self.used}
            problems += [f"{key}: checkpoint {values[key].shape}, object {state[name].shape}"
                         for key, name in names.items() if values[key].shape != state[name].shape]
            states.append((opt, state, names))
        if problems:
            raise ValueError(f"tf.train.Checkpoint: cannot restore {self.path}: shapes differ: {problems}")
        for key, var in todo.items():
            var.assign(values[key].astype(var.dtype, copy=False))
            self.used.add(key)
        for opt, state, names in states:
            if names:
                state.update({name: values[key] for key, name in names.items()})
                opt.set_state(state)
                self.used.update(names)

    def defer(self, layer: Layer, path: str) -> None:
        """Restore `layer` (not built yet) right after its `build` creates its weights, before it computes."""

        def build(*args: Any, **kwargs: Any) -> Any:
            del layer.__dict__["build"]
            out = layer.build(*args, **kwargs)
            graph = _Graph()
            _walk_layer(layer, path, graph)
            self.assign(graph.variables)
            for where, sub in graph.unbuilt.items():
                self.defer(sub, where)
            return out

        if any(key.startswith(f"{path}/") and key not in self.used for key in self.values):
            object.__setattr__(layer, "build", build)

    def unused(self) -> list[str]:
        return sorted(set(self.values) - self.used)


def _warn_unused(restore: _Restore) -> None:
    unused = restore.unused()
    if unused:
        warnings.warn(f"tf.train.Checkpoint: values in {restore.path} were never restored (no object took them): "
                      f"{unused}; call expect_partial() on the restore status if this is intended", stacklevel=1)


class CheckpointLoadStatus:
    """What a restore matched, checked when asked (values for layers built later count once they are built):
    saved values no object took are `unused`, objects with no saved value are `missing`. Values never restored
    are reported in a warning when the Checkpoint is discarded, unless `expect_partial()` was called."""

    def __init__(self, checkpoint: Checkpoint, restore: _Restore, expect_counter: bool) -> None:
        self._checkpoint = checkpoint
        self._restore = restore
        self._expect_counter = expect_counter
        self._finalizer = weakref.finalize(checkpoint, _warn_unused, restore)

    @property
    def path(self) -> str:
        return self._restore.path

    @property
    def unused(self) -> list[str]:
        """Saved values that no object has taken (yet)."""
        return self._restore.unused()

    @property
    def missing(self) -> list[str]:
        """Paths of the objects that exist now and got no value from the checkpoint."""
        existing = set(_values(self._checkpoint._graph()))
        if self._expect_counter or SAVE_COUNTER in self._restore.values:
            existing.add(SAVE_COUNTER)
        return sorted(existing - self._restore.used)

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Every saved value went to an object and every object got a value; else AssertionError naming them."""
        unused, missing = self.unused, self.missing
        if unused or missing:
            raise AssertionError(f"Checkpoint {self.path} was not fully consumed: values with no object: {unused}; "
                                 f"objects with no value: {missing}")
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Every existing object got a value (values for objects not created yet are allowed); else AssertionError."""
        missing = self.missing
        if missing:
            raise AssertionError(f"Checkpoint {self.path}: these objects have no value in it: {missing}")
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """Something besides the save counter was restored; else AssertionError."""
        if not self._restore.used - {SAVE_COUNTER}:
            raise AssertionError(f"Checkpoint {self.path}: nothing in it matched the objects being restored")
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Say that a partial restore is intended: no warning about values never restored."""
        self._finalizer.detach()
        return self


class InitializationOnlyStatus:
    """The status of `restore(None)` (no checkpoint yet): nothing was restored, and the assertions say so."""

    def _fail(self) -> InitializationOnlyStatus:
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    assert_consumed = assert_existing_objects_matched = assert_nontrivial_match = _fail

    def expect_partial(self) -> InitializationOnlyStatus:
        return self


# --- Checkpoint -------------------------------------------------------------------------------------------------
class Checkpoint:
    """Saves and restores the state of the objects given as keyword arguments (Variables, layers and models,
    optimizers, other Checkpoints, lists and dicts of them), matched by path: `Checkpoint(model=m, optimizer=opt)`.

    `save(prefix)` writes `prefix-<n>` (n counts the saves, `save_counter`), `write(prefix)` writes `prefix`;
    `restore`/`read` load a path they returned and give a status whose assertions check what matched.
    """

    def __init__(self, root: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_tracked", {})
        object.__setattr__(self, "_root", None)
        object.__setattr__(self, "_counter", Variable(0, name=SAVE_COUNTER, trainable=False, dtype=np.int64))
        if root is not None:
            _check_trackable(root, "root")
            object.__setattr__(self, "_root", root)
        for name, value in kwargs.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            raise ValueError(f"tf.train.Checkpoint: cannot track an object as '{name}': the name is taken by the "
                             f"Checkpoint itself or starts with '_'")
        _check_trackable(value, name)
        self._tracked[name] = value

    def __getattr__(self, name: str) -> Any:
        tracked = self.__dict__.get("_tracked", {})
        if name in tracked:
            return tracked[name]
        raise AttributeError(f"tf.train.Checkpoint has no attribute or tracked object '{name}'")

    def _walk_into(self, path: str, graph: _Graph) -> None:
        """Add what this Checkpoint tracks (its root's objects, then the named ones) to the graph, under `path`."""
        if self._root is not None:
            _walk(self._root, path, graph)
        _walk(self._tracked, path, graph)

    @property
    def save_counter(self) -> Variable:
        """The number of `save()` calls (int64 Variable), restored with the checkpoint; it numbers the files."""
        return self._counter

    def _graph(self) -> _Graph:
        graph = _Graph()
        self._walk_into("", graph)
        return graph

    def _write(self, file_prefix: str, with_counter: bool) -> str:
        values = _values(self._graph())
        if with_counter:
            values[SAVE_COUNTER] = np.array(self._counter.data)
        safetensors_format.save_file(values, file_prefix + SUFFIX, metadata={"format": FORMAT})
        return file_prefix

    def write(self, file_prefix: str | os.PathLike[str]) -> str:
        """Write the state to `file_prefix` (the file `file_prefix.safetensors`), atomically; returns the path."""
        return self._write(os.fspath(file_prefix), with_counter=False)

    def save(self, file_prefix: str | os.PathLike[str]) -> str:
        """Count a save, write `file_prefix-<save_counter>` and record it as the folder's latest checkpoint."""
        self._counter.assign_add(1)
        path = self._write(f"{os.fspath(file_prefix)}-{int(self._counter.data)}", with_counter=True)
        folder = os.path.dirname(os.path.abspath(path))
        _write_state(folder, CheckpointState(path, [path], [time.time()]))
        return path

    def restore(self, save_path: str | os.PathLike[str] | None) -> CheckpointLoadStatus | InitializationOnlyStatus:
        """Load a checkpoint `save` wrote (None, as `latest_checkpoint` gives before any save, restores nothing)."""
        return self._restore(save_path, expect_counter=True, caller="tf.train.Checkpoint.restore")

    def read(self, save_path: str | os.PathLike[str]) -> CheckpointLoadStatus:
        """Load a checkpoint `write` wrote: as `restore`, but `save_counter` need not be in it."""
        return self._restore(save_path, expect_counter=False, caller="tf.train.Checkpoint.read")

    def _restore(self, save_path: Any, expect_counter: bool, caller: str) -> Any:
        if save_path is None:
            return InitializationOnlyStatus()
        path, values = _read_file(save_path, caller)
        graph = self._graph()
        restore = _Restore(path, values, graph.optimizers)
        restore.assign({**graph.variables, SAVE_COUNTER: self._counter})
        for where, layer in graph.unbuilt.items():
            restore.defer(layer, where)
        return CheckpointLoadStatus(self, restore, expect_counter)

    def __repr__(self) -> str:
        return f"<tf.train.Checkpoint tracking {sorted(self._tracked)}>"


# --- the folder's state file ----------------------------------------------------------------------------------
@dataclass
class CheckpointState:
    """The `checkpoint` file of a folder: the latest checkpoint, those kept, when each was written."""

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float | None = None


def _write_state(folder: str, state: CheckpointState, filename: str = STATE_FILE) -> None:
    """Write the state file atomically, paths relative to the folder, in TensorFlow's text format."""

    def rel(p: str) -> str:
        return json.dumps(os.path.relpath(os.path.abspath(p), os.path.abspath(folder)), ensure_ascii=False)

    lines = [f"model_checkpoint_path: {rel(state.model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {rel(p)}" for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in state.all_model_checkpoint_timestamps]
    if state.last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    with atomic_write(os.path.join(folder, filename)) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def get_checkpoint_state(checkpoint_dir: str | os.PathLike[str],
                         latest_filename: str | None = None) -> CheckpointState | None:
    """The folder's `checkpoint` file read, its paths joined to the folder; None when there is none."""
    folder = os.fspath(checkpoint_dir)
    file = os.path.join(folder, latest_filename or STATE_FILE)
    if not os.path.isfile(file):
        return None
    fields: dict[str, list[Any]] = {}
    with open(file, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            key, sep, value = line.strip().partition(":")
            try:
                if not sep:
                    raise ValueError("no 'key: value' pair")
                parsed = json.loads(value) if "path" in key else float(value)
            except ValueError as err:
                raise ModelFileError(f"{file} is not a checkpoint state file: line {n} {line.strip()!r} ({err})") \
                    from None
            fields.setdefault(key.strip(), []).append(parsed)
    if "model_checkpoint_path" not in fields:
        raise ModelFileError(f"{file} is not a checkpoint state file: it names no model_checkpoint_path")

    def full(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(folder, p)

    return CheckpointState(full(fields["model_checkpoint_path"][-1]),
                           [full(p) for p in fields.get("all_model_checkpoint_paths", [])],
                           fields.get("all_model_checkpoint_timestamps", []),
                           fields.get("last_preserved_timestamp", [None])[-1])


def latest_checkpoint(checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None) -> str | None:
    """The path of the folder's latest checkpoint (for `restore`), or None when there is none yet."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not os.path.isfile(state.model_checkpoint_path + SUFFIX):
        return None
    return state.model_checkpoint_path


def _file_of(ckpt_dir_or_file: str | os.PathLike[str], caller: str) -> str | os.PathLike[str]:
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise FileNotFoundError(f"{caller}: no checkpoint in the folder {os.fspath(ckpt_dir_or_file)}")
        return latest
    return ckpt_dir_or_file


def list_variables(ckpt_dir_or_file: str | os.PathLike[str]) -> list[tuple[str, list[int]]]:
    """(path, shape) of every value in a checkpoint (or a folder's latest), sorted by path."""
    _, values = _read_file(_file_of(ckpt_dir_or_file, "tf.train.list_variables"), "tf.train.list_variables")
    return sorted((key, list(arr.shape)) for key, arr in values.items())


def load_variable(ckpt_dir_or_file: str | os.PathLike[str], name: str) -> np.ndarray:
    """The value saved at this path (e.g. 'model/layer-0/kernel') in a checkpoint or a folder's latest."""
    path, values = _read_file(_file_of(ckpt_dir_or_file, "tf.train.load_variable"), "tf.train.load_variable")
    if name not in values:
        raise KeyError(f"tf.train.load_variable: {path} has no value '{name}'; it has {sorted(values)}")
    return values[name]


# --- CheckpointManager -------------------------------------------------------------------------------------------
def _as_int(value: Any) -> int:
    return int(np.asarray(value.data if isinstance(value, Tensor) else value))


class CheckpointManager:
    """Numbered saves of a Checkpoint in one folder (`<directory>/<checkpoint_name>-<n>`), keeping the newest
    `max_to_keep` (None keeps all) plus one every `keep_checkpoint_every_n_hours`; its list survives restarts
    through the folder's `checkpoint` file."""

    def __init__(self, checkpoint: Checkpoint, directory: str | os.PathLike[str], max_to_keep: int | None,
                 keep_checkpoint_every_n_hours: float | None = None, checkpoint_name: str = "ckpt",
                 step_counter: Any = None, checkpoint_interval: int | None = None,
                 init_fn: Callable[[], Any] | None = None) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"tf.train.CheckpointManager: expected a tf.train.Checkpoint, got "
                            f"{type(checkpoint).__name__}")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"tf.train.CheckpointManager: expected a positive integer or None for max_to_keep, got "
                             f"{max_to_keep}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("tf.train.CheckpointManager: checkpoint_interval needs a step_counter")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._max_to_keep = max_to_keep
        self._keep_every_n_hours = keep_checkpoint_every_n_hours
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_checkpoint_step: int | None = None
        self._kept: dict[str, float] = {}  # path -> when written, oldest first
        now = time.time()
        state = get_checkpoint_state(self._directory)
        if state is None:
            self._latest: str | None = None
            self._last_preserved = now - 1
            return
        self._latest = state.model_checkpoint_path
        self._last_preserved = min(state.last_preserved_timestamp or now - 1, now)
        stamps = state.all_model_checkpoint_timestamps or [self._last_preserved] * len(
            state.all_model_checkpoint_paths)
        for path, stamp in zip(state.all_model_checkpoint_paths, stamps):
            if min(stamp, now) > self._last_preserved:
                self._kept[path] = min(stamp, now)

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def checkpoints(self) -> list[str]:
        """The paths of the checkpoints kept, oldest first."""
        return list(self._kept)

    @property
    def latest_checkpoint(self) -> str | None:
        """The path of the newest checkpoint (None before the first), for `checkpoint.restore`."""
        return self._latest

    def save(self, checkpoint_number: Any = None, check_interval: bool = True) -> str | None:
        """Save the checkpoint as `<prefix>-<n>` (n: checkpoint_number, else the save counter, which counts
        either way), delete the oldest beyond max_to_keep and return the path; None when within the interval."""
        if self._checkpoint_interval is not None:
            step = _as_int(self._step_counter)
            if self._last_checkpoint_step is not None and (
                    step == self._last_checkpoint_step
                    or (check_interval and step < self._last_checkpoint_step + self._checkpoint_interval)):
                return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        number = _as_int(counter if checkpoint_number is None else checkpoint_number)
        path = self._checkpoint._write(f"{self._prefix}-{number}", with_counter=True)
        self._kept.pop(path, None)
        self._kept[path] = time.time()
        self._latest = path
        self._sweep()
        _write_state(self._directory, CheckpointState(path, list(self._kept), list(self._kept.values()),
                                                      self._last_preserved))
        return path

    def _sweep(self) -> None:
        """Delete the oldest checkpoints beyond max_to_keep, keeping one per keep_checkpoint_every_n_hours."""
        if not self._max_to_keep:
            return
        while len(self._kept) > self._max_to_keep:
            path = next(iter(self._kept))
            stamp = self._kept.pop(path)
            if self._keep_every_n_hours and stamp - self._keep_every_n_hours * 3600.0 >= self._last_preserved:
                self._last_preserved = stamp
                continue
            if os.path.exists(path + SUFFIX):
                os.remove(path + SUFFIX)

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; with none, call init_fn (if given) and return None."""
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = _as_int(self._step_counter)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None


__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "CheckpointState", "InitializationOnlyStatus",
           "get_checkpoint_state", "latest_checkpoint", "list_variables", "load_variable"]
