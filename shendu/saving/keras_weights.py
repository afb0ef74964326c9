"""Keras 3's weights layout (`.weights.h5`, and `model.weights.h5` inside a `.keras` archive), both ways.

Keras walks the model as `saving_lib._save_state` does: each layer's own variables go to `<path>/vars/<i>`
(trainable ones first, in creation order), a model's `layers` list (then every attribute holding layers, sorted
by name with private ones last) gives the child paths; a list entry is named by its class in snake case with a
counter (`dense`, `dense_1`, ...), not by the layer's name; a layer reached twice is saved once. The model's own
variables are the root `vars`, the optimizer's `optimizer/vars`. shendu keeps Keras's variable layouts, so the walk
maps one to one, except MultiHeadAttention, whose eight weights Keras keeps in four EinsumDense sub-layers.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.saving.hdf5 import Slot, get_dataset, get_group, load_slots, require_h5py

_INTERNAL = {"_layers", "_input_layer"}  # shendu's own bookkeeping of sub-layers, not Keras attributes


@dataclass
class Entry:
    """One saveable of the walk: its path in the file ('' for the model), its name, its own variables in order."""

    path: str
    name: str
    variables: list[Any] = field(default_factory=list)


@dataclass
class _Part:
    """A Keras sub-layer that shendu folds into its parent (MultiHeadAttention's query/key/value/output)."""

    name: str
    variables: list[Any]


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _name_key(name: str) -> str:
    """Keras's order of attributes: by name, private ones last."""
    return f"~{name}" if name.startswith("_") else name


def _holds_layers(value: Any) -> bool:
    from shendu.layers.base import Layer

    if isinstance(value, (Layer, _Part)):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and any(_holds_layers(v) for v in value)


def _children(obj: Any) -> tuple[list[Any], list[tuple[str, Any]]]:
    """A saveable's own variables (Keras's order) and its (attribute, child) pairs in Keras's walking order."""
    from shendu.layers.attention import MultiHeadAttention
    from shendu.models import Functional, Model, Sequential

    if isinstance(obj, _Part):
        return obj.variables, []
    if isinstance(obj, MultiHeadAttention):
        parts = [("query_dense", "query"), ("key_dense", "key"), ("value_dense", "value"),
                 ("output_dense", "attention_output")]
        return [], sorted(((attr, _Part(name, [w for w in (getattr(obj, f"{name}_kernel", None),
                                                           getattr(obj, f"{name}_bias", None)) if w is not None]))
                           for attr, name in parts), key=lambda p: _name_key(p[0]))
    own = list(obj._trainable_weights) + list(obj._non_trainable_weights)
    attrs = {k: v for k, v in vars(obj).items() if k not in _INTERNAL and not k.startswith("__") and _holds_layers(v)}
    first: list[tuple[str, Any]] = []
    if isinstance(obj, (Sequential, Functional)):
        first = [("layers", obj.layers)]
    elif isinstance(obj, Model):
        attrs["layers"] = obj.layers
    return own, first + sorted(attrs.items(), key=lambda kv: _name_key(kv[0]))


def keras_entries(model: Any) -> list[Entry]:
    """Every saveable of the model in Keras 3's walking order, with its path in the weights file."""
    from shendu.layers.base import Layer, snake_case

    entries: list[Entry] = []
    visited: dict[int, Any] = {}  # the objects too, so that a freed _Part's id is never taken for a new one's

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited[id(obj)] = obj
        own, children = _children(obj)
        entries.append(Entry(path, obj.name, own))
        for attr, child in children:
            if isinstance(child, (Layer, _Part)):
                visit(child, _join(path, attr))
            else:
                container(child, _join(path, attr))

    def container(items: Any, path: str) -> None:
        used: dict[str, int] = {}
        for item in items.values() if isinstance(items, dict) else items:
            if isinstance(item, Layer):
                visit(item, _join(path, _unique(snake_case(type(item).__name__), used)))
            elif isinstance(item, (list, tuple, dict)):
                container(item, _join(path, _unique("container", used)))

    visit(model, "")
    return entries


def _unique(name: str, used: dict[str, int]) -> str:
    """Keras's `_get_unique_name`: 'dense', then 'dense_1', 'dense_2', ..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def write_keras_weights(model: Any, group: Any) -> None:
    """Write the model's weights (and its optimizer's state when Keras's layout of it is known) into an open
    h5py File or Group, in Keras 3's layout."""
    for entry in keras_entries(model):
        vars_group = group.create_group(_join(entry.path, "vars"))
        vars_group.attrs["name"] = entry.name
        for i, var in enumerate(entry.variables):
            vars_group.create_dataset(str(i), data=np.asarray(var.data))
    optimizer_values = _optimizer_values(model)
    if optimizer_values is not None:
        vars_group = group.create_group("optimizer/vars")
        vars_group.attrs["name"] = model.optimizer.name
        for i, value in enumerate(optimizer_values):
            vars_group.create_dataset(str(i), data=value)


def save_weights_h5(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a Keras 3 `.weights.h5` file of the model's weights, atomically; Keras's `load_weights` reads it."""
    h5py = require_h5py("Saving Keras .weights.h5 files")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before saving")
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        write_keras_weights(model, f)


def read_keras_weights(model: Any, group: Any, source: str, skip_mismatch: bool = False) -> None:
    """Load a Keras 3 layout from an open h5py File or Group into the built model; every weight is checked (count,
    shape, dtype) before any is assigned. The optimizer's state is restored when the model has a matching one."""
    slots: list[Slot] = []
    missing: list[str] = []
    problems: list[str] = []
    for entry in keras_entries(model):
        if not entry.variables:
            continue
        where = _join(entry.path, "vars")
        vars_group = get_group(group, where, source)
        stored = len(vars_group) if vars_group is not None else 0
        if stored != len(entry.variables):
            layer = f"{where} (layer '{entry.name}')"
            if vars_group is None:
                missing.append(layer)
            else:
                problems.append(f"{layer}: the model has {len(entry.variables)} weights, the file {stored}")
            continue
        for i, var in enumerate(entry.variables):
            ds = get_dataset(vars_group, str(i), source)
            if ds is None:
                missing.append(f"{where}/{i} ({var.name})")
            else:
                slots.append(Slot(f"{where}/{i}", var, ds))
    load_slots(model, slots, missing, source, skip_mismatch, problems)
    _read_optimizer(model, group, source)


# --- the optimizer ----------------------------------------------------------------------------------------

# Keras builds each optimizer's per-variable state in calls of `add_optimizer_variables(var_list, names)`: within a
# call the names alternate per variable, the calls follow each other. These are the calls for shendu's slots.
def _slot_groups(optimizer: Any) -> list[tuple[str, ...]] | None:
    from shendu import optimizers

    if getattr(optimizer, "use_ema", False) or getattr(optimizer, "gradient_accumulation_steps", None):
        return None
    names = optimizer.slot_names()
    kind = type(optimizer)
    if kind is optimizers.Adam:
        return [("momentum", "velocity")] + ([("velocity_hat",)] if "velocity_hat" in names else [])
    if kind in (optimizers.SGD, optimizers.RMSprop, optimizers.Adagrad):
        return [(name,) for name in names]
    if kind in (optimizers.Adadelta, optimizers.Adamax):
        return [tuple(names)]
    return None


def _optimizer_layout(model: Any) -> list[tuple[str, Any]] | None:
    """Keras's list of the optimizer's variables as (state key, variable or None): iterations, the learning rate
    (unless a schedule), then the slots; None when shendu cannot map this optimizer's state exactly."""
    optimizer = getattr(model, "optimizer", None)
    groups = _slot_groups(optimizer) if optimizer is not None and hasattr(optimizer, "slot_names") else None
    if groups is None:
        return None
    layout: list[tuple[str, Any]] = [("iterations", None)]
    if not callable(optimizer._learning_rate):
        layout.append(("learning_rate", None))
    variables = model.trainable_weights
    optimizer.build(variables)
    for names in groups:
        for var in variables:
            key = optimizer.state_key(var)
            layout.extend((f"{key}/{name}", var) for name in names)
    return layout


def _optimizer_values(model: Any) -> list[np.ndarray] | None:
    """The optimizer's state in Keras's order, once it has taken a step (Keras saves a built optimizer)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return None
    layout = _optimizer_layout(model)
    if layout is None:
        return None
    state = optimizer.get_state()
    out = [np.asarray(state["iterations"], dtype=np.int64)]
    if "learning_rate" in state:
        out.append(np.asarray(state["learning_rate"], dtype=np.float32))
    out.extend(np.asarray(state[key]) for key, _ in layout[len(out):])
    return out


def _read_optimizer(model: Any, group: Any, source: str) -> None:
    """Give the model's optimizer the file's `optimizer/vars` when Keras's layout maps onto it exactly; otherwise
    leave it fresh with a warning, as Keras does for an optimizer whose variables do not match."""
    vars_group = get_group(group, "optimizer/vars", source)
    optimizer = getattr(model, "optimizer", None)
    if vars_group is None or optimizer is None:
        return
    layout = _optimizer_layout(model)
    if len(vars_group) <= 2 and (layout is None or len(layout) > 2):
        return  # an optimizer Keras never built: iterations and learning rate only, no state to carry over
    if layout is None or len(vars_group) != len(layout):
        warnings.warn(f"{source}: the optimizer state in the file ({len(vars_group)} variables) does not match "
                      f"optimizer '{optimizer.name}' of model '{model.name}'; the optimizer starts fresh",
                      stacklevel=3)
        return
    state: dict[str, np.ndarray] = {}
    for i, (key, var) in enumerate(layout):
        ds = get_dataset(vars_group, str(i), source)
        shape = () if var is None else tuple(var.shape)
        if ds is None or tuple(ds.shape) != shape or ds.dtype.kind not in "iuf":
            found = "nothing" if ds is None else f"{ds.dtype} {tuple(ds.shape)}"
            raise ModelFileError(f"{source}: optimizer/vars/{i} ({key}) should be a number array of shape {shape}, "
                                 f"found {found}")
        state[key] = np.asarray(ds[()])
    try:
        optimizer.set_state(state)
    except ValueError as err:
        raise ModelFileError(f"{source}: optimizer/vars is not a valid state for '{optimizer.name}': {err}") from err
