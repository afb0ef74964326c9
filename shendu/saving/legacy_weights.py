"""tf.keras 2's HDF5 weights layout, as Keras 3's `legacy_h5_format` writes and reads it (and as the ImageNet weight
files of `keras.applications` are published).

The group has attributes `layer_names` (every top-level layer, in `model.layers` order), `backend` and
`keras_version`; each layer has a group with attribute `weight_names` (`dense/kernel:0`, ...) naming its datasets,
in the order `layer.trainable_weights + layer.non_trainable_weights` (sub-layers included). Layers match by
position among those with weights, or by name with `by_name=True`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.saving.file_utils import ModelFileError
from shendu.saving.hdf5 import Slot, get_dataset, get_group, load_slots, read_names

HDF5_OBJECT_HEADER_LIMIT = 64512  # bytes of one attribute that HDF5 keeps in an object header (Keras's limit)
TOP_LEVEL = "top_level_model_weights"


def _legacy_weights(layer: Any) -> list[Any]:
    """Keras's legacy order: the trainable weights, then the others (sub-layers included)."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_names(layer: Any, weights: list[Any]) -> list[str]:
    """tf.keras 2's names, `<layer>/<sub-layer>/.../<weight>:0` (e.g. `bidirectional/forward_lstm/lstm_cell/
    kernel:0`), unique within the layer's group."""
    prefix: dict[int, str] = {}

    def walk(owner: Any, path: str) -> None:
        for var in owner._trainable_weights + owner._non_trainable_weights:
            short = var.name[len(owner.name) + 1:] if var.name.startswith(f"{owner.name}/") else var.name
            prefix.setdefault(id(var), f"{path}/{short}")
        for sub in owner._layers:
            walk(sub, f"{path}/{sub.name}")

    walk(layer, layer.name)
    names: list[str] = []
    for i, var in enumerate(weights):
        base = prefix.get(id(var), f"{layer.name}/variable_{i}")
        name, n = f"{base}:0", 1
        while name in names:
            name, n = f"{base}_{n}:0", n + 1
        names.append(name)
    return names


def _write_names(group: Any, name: str, names: list[str]) -> None:
    """A list of names as a bytes attribute, split over `name0`, `name1`, ... past HDF5's header limit (Keras's
    `save_attributes_to_hdf5_group`)."""
    data = np.array([n.encode("utf8") for n in names]) if names else np.array([], dtype="S1")
    chunks = 1
    while any(part.nbytes > HDF5_OBJECT_HEADER_LIMIT for part in np.array_split(data, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for i, part in enumerate(np.array_split(data, chunks)):
        group.attrs[f"{name}{i}"] = part


def _write_subset(group: Any, owner: Any, weights: list[Any]) -> None:
    names = _weight_names(owner, weights)
    _write_names(group, "weight_names", names)
    for name, var in zip(names, weights):
        group.create_dataset(name, data=np.asarray(var.data))


def write_legacy_weights(model: Any, group: Any) -> None:
    """Write the model's weights into an open h5py File or Group in the tf.keras 2 layout (Keras 3 reads it)."""
    from shendu import __version__

    layers = list(model.layers)
    _write_names(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = f"shendu-{__version__}".encode()
    for layer in sorted(layers, key=lambda layer: layer.name):
        _write_subset(group.create_group(layer.name), layer, _legacy_weights(layer))
    own = list(model._trainable_weights) + list(model._non_trainable_weights)
    top = group.create_group(TOP_LEVEL)
    names = [f"{model.name}/{v.name.rsplit('/', 1)[-1]}:0" for v in own]
    _write_names(top, "weight_names", names)
    for name, var in zip(names, own):
        top.create_dataset(name, data=np.asarray(var.data))


def _stored(group: Any, layer_name: str, source: str) -> tuple[Any, list[str]]:
    """A layer's group in the file and its weight names (empty for a layer without weights)."""
    layer_group = get_group(group, layer_name, source)
    if layer_group is None:
        raise ModelFileError(f"{source}: attribute layer_names lists '{layer_name}', but the file has no group of "
                             "that name")
    return layer_group, read_names(layer_group, "weight_names", source) or []


def _slots_for(layer: Any, layer_group: Any, names: list[str], label: str, source: str,
               missing: list[str]) -> list[Slot]:
    slots = []
    for var, name in zip(_legacy_weights(layer), names):
        ds = get_dataset(layer_group, name, source)
        if ds is None:
            missing.append(f"{label}: {name} ({var.name})")
        else:
            slots.append(Slot(f"{label}: {name}", var, ds))
    return slots


def read_legacy_weights(model: Any, group: Any, source: str, by_name: bool = False,
                        skip_mismatch: bool = False) -> None:
    """Load the tf.keras 2 layout from an open h5py File or Group into the built model: by position among the
    layers with weights, or by layer name (layers of other names keep their values). Every weight is checked
    (count, shape, dtype) before any is assigned."""
    file_layers = read_names(group, "layer_names", source)
    if file_layers is None:
        raise ModelFileError(f"{source}: not a tf.keras weights group (no attribute layer_names)")
    stored = [(name, *_stored(group, name, source)) for name in file_layers]
    stored = [entry for entry in stored if entry[2]]
    slots: list[Slot] = []
    missing: list[str] = []
    problems: list[str] = []
    if by_name:
        index: dict[str, list[Any]] = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        pairs = [(layer, entry) for entry in stored for layer in index.get(entry[0], [])]
    else:
        own = [layer for layer in model.layers if _legacy_weights(layer)]
        if len(own) != len(stored):
            raise ModelFileError(
                f"Cannot load weights from {source} into model '{model.name}': the model has {len(own)} layers "
                f"with weights {[layer.name for layer in own]}, the file {len(stored)} "
                f"{[entry[0] for entry in stored]}")
        pairs = list(zip(own, stored))
    for layer, (name, layer_group, names) in pairs:
        label = f"layer '{layer.name}' (file: '{name}')"
        expected = _legacy_weights(layer)
        if len(names) != len(expected):
            problems.append(f"{label}: the model has {len(expected)} weights, the file {len(names)}")
            continue
        slots.extend(_slots_for(layer, layer_group, names, label, source, missing))
    top = get_group(group, TOP_LEVEL, source)
    top_names = (read_names(top, "weight_names", source) or []) if top is not None else []
    own_weights = list(model._trainable_weights) + list(model._non_trainable_weights)
    if top_names and len(top_names) != len(own_weights):
        problems.append(f"the model's own weights: the model has {len(own_weights)}, the file {len(top_names)}")
    elif top_names:
        for var, name in zip(own_weights, top_names):
            ds = get_dataset(top, name, source)
            if ds is None:
                missing.append(f"{TOP_LEVEL}: {name}")
            else:
                slots.append(Slot(f"{TOP_LEVEL}: {name}", var, ds))
    load_slots(model, slots, missing, source, skip_mismatch, problems)
