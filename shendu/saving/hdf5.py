"""Reading Keras's HDF5 weight files safely: h5py imported on demand, links and external data refused, every
dataset's shape and dtype checked against the weight it fills before it is read, attributes read within caps.

`load_weights_file` tells the Keras 3 `.weights.h5` layout from the legacy tf.keras one by content and loads either
into a built model; every weight is checked and read before any is assigned.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from shendu.saving.file_utils import ModelFileError

SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_ATTR_ITEMS = 1 << 16  # names in one `layer_names`/`weight_names` attribute (or one chunk of it)
MAX_ATTR_BYTES = 1 << 24  # bytes of one attribute
MAX_NAME_CHUNKS = 1 << 10  # `weight_names0`, `weight_names1`, ...: Keras splits long lists over attributes


def require_h5py(what: str) -> Any:
    """h5py, imported now; without it one ImportError line saying what needs it and how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{what} needs h5py: pip install 'shendu[keras]'") from None
    return h5py


def is_hdf5(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the HDF5 signature (at byte 0, or after a user block of 512, 1024, ... bytes)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            offset = 0
            while offset + len(SIGNATURE) <= min(size, 1 << 20):
                f.seek(offset)
                if f.read(len(SIGNATURE)) == SIGNATURE:
                    return True
                offset = 512 if offset == 0 else offset * 2
    except OSError:
        return False
    return False


@contextmanager
def open_h5(path: str | os.PathLike[str], what: str = "Reading Keras .h5 files") -> Iterator[Any]:
    """The file opened read-only; a file h5py cannot read (truncated, corrupted, not HDF5) is a ModelFileError."""
    h5py = require_h5py(what)
    source = os.fspath(path)
    try:
        f = h5py.File(source, "r")
    except OSError as err:
        raise ModelFileError(f"{source} is not a readable HDF5 file (truncated or corrupted?): {err}") from err
    try:
        yield f
    except (OSError, RuntimeError, KeyError) as err:
        raise ModelFileError(f"{source}: the HDF5 file is damaged ({type(err).__name__}: {err})") from err
    finally:
        f.close()


def _link_class(parent: Any, name: str) -> Any:
    return parent.get(name, default=None, getclass=True, getlink=True)


def get_group(parent: Any, path: str, source: str) -> Any:
    """The group at `path` below parent, or None when absent; soft and external links are refused."""
    h5py = require_h5py("Reading Keras .h5 files")
    current = parent
    for part in path.split("/"):
        if not part or not isinstance(current, h5py.Group) or part not in current:
            return None
        link = _link_class(current, part)
        if link in (h5py.SoftLink, h5py.ExternalLink):
            raise ModelFileError(f"{source}: '{current.name}/{part}' is a {link.__name__}, which is not allowed in a "
                                 "weights file")
        current = current[part]
    return current if isinstance(current, h5py.Group) else None


def get_dataset(group: Any, path: str, source: str) -> Any:
    """The dataset at `path` below group, or None when absent; links, external and virtual storage are refused."""
    h5py = require_h5py("Reading Keras .h5 files")
    parent_path, _, name = path.rpartition("/")
    parent = get_group(group, parent_path, source) if parent_path else group
    if parent is None or name not in parent:
        return None
    link = _link_class(parent, name)
    if link in (h5py.SoftLink, h5py.ExternalLink):
        raise ModelFileError(f"{source}: '{parent.name}/{name}' is a {link.__name__}, which is not allowed in a "
                             "weights file")
    ds = parent[name]
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(f"{source}: '{ds.name}' is a group where a weight (a dataset) was expected")
    if ds.external or ds.is_virtual:
        raise ModelFileError(f"{source}: '{ds.name}' keeps its data outside the file, which is not allowed")
    return ds


def read_names(obj: Any, name: str, source: str) -> list[str] | None:
    """A list-of-names attribute (`layer_names`, `weight_names`, or Keras's chunks `name0`, `name1`, ...) as str,
    each attribute's size checked before it is read; None when absent."""
    if name in obj.attrs:
        return _read_name_attr(obj, name, source)
    if f"{name}0" not in obj.attrs:
        return None
    out: list[str] = []
    for chunk in range(MAX_NAME_CHUNKS):
        if f"{name}{chunk}" not in obj.attrs:
            return out
        out.extend(_read_name_attr(obj, f"{name}{chunk}", source))
    raise ModelFileError(f"{source}: '{obj.name}' splits attribute '{name}' over more than {MAX_NAME_CHUNKS} parts")


def _read_name_attr(obj: Any, name: str, source: str) -> list[str]:
    h5py = require_h5py("Reading Keras .h5 files")
    attr = h5py.h5a.open(obj.id, name.encode())
    shape, dtype = attr.shape, attr.dtype
    count = int(np.prod(shape)) if shape else 1
    vlen_str = h5py.check_string_dtype(dtype) is not None and dtype.kind == "O"
    if count == 0:
        return []  # Keras writes an empty list as an empty float array
    if dtype.kind not in "SU" and not vlen_str:
        raise ModelFileError(f"{source}: attribute '{name}' of '{obj.name}' holds {dtype}, not names")
    if count > MAX_ATTR_ITEMS or attr.get_storage_size() > MAX_ATTR_BYTES:
        raise ModelFileError(f"{source}: attribute '{name}' of '{obj.name}' is too large ({count} items, "
                             f"{attr.get_storage_size()} bytes)")
    values = np.atleast_1d(obj.attrs[name])
    names = [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values.ravel()]
    if sum(len(n) for n in names) > MAX_ATTR_BYTES:
        raise ModelFileError(f"{source}: attribute '{name}' of '{obj.name}' is too large")
    return names


def read_text_attr(obj: Any, name: str, source: str) -> str | None:
    """A short text attribute (`backend`, `keras_version`) within MAX_ATTR_BYTES; None when absent."""
    if name not in obj.attrs:
        return None
    names = _read_name_attr(obj, name, source)
    return names[0] if len(names) == 1 else None


@dataclass
class Slot:
    """One weight of the model and the dataset meant for it (None when the file has none)."""

    label: str  # where the weight sits in the file, e.g. "layers/dense/vars/0"
    var: Any
    dataset: Any


def check_slot(slot: Slot) -> str | None:
    """What is wrong between the dataset and the weight (shape, dtype), or None; nothing is read."""
    var, ds = slot.var, slot.dataset
    own_shape, own_dtype = tuple(var.shape), np.dtype(var.dtype)
    stored = ds.dtype
    if stored.kind not in "fiub" or stored.hasobject or stored.fields is not None or stored.subdtype is not None:
        return f"{slot.label} ({var.name}): the file holds {stored}, not numbers"
    if tuple(ds.shape) != own_shape:
        return f"{slot.label} ({var.name}): model {own_shape}, file {tuple(ds.shape)}"
    kinds = {"f": "f", "i": "iu", "u": "iu", "b": "b"}
    if stored.kind not in kinds.get(own_dtype.kind, own_dtype.kind):
        return (f"{slot.label} ({var.name}): model {own_dtype}, file {stored} (a float weight accepts only float "
                "data, an integer weight only integers)")
    return None


def read_slot(slot: Slot) -> np.ndarray:
    """The dataset's values, read into an array of the weight's shape (checked by `check_slot` first)."""
    ds = slot.dataset
    out = np.empty(tuple(ds.shape), dtype=ds.dtype)
    if out.size:
        ds.read_direct(out)
    return out


def load_slots(model: Any, slots: list[Slot], missing: list[str], source: str, skip_mismatch: bool = False,
               extra_problems: list[str] | None = None) -> list[Slot]:
    """Check every slot, then read them all, then assign them all: nothing changes unless everything fits.

    With skip_mismatch the weights that do not fit keep their values and a warning lists them; without it a
    ModelFileError names the file, the model and every mismatch. Returns the slots assigned.
    """
    bad = [(slot, problem) for slot in slots if (problem := check_slot(slot)) is not None]
    problems = [p for _, p in bad] + list(extra_problems or [])
    if (problems or missing) and not skip_mismatch:
        parts = []
        if missing:
            parts.append(f"missing from the file: {missing}")
        if problems:
            parts.append(f"mismatch: {problems}")
        raise ModelFileError(f"Cannot load weights from {source} into model '{model.name}': " + "; ".join(parts))
    if problems or missing:
        warnings.warn(f"{source}: skipping weights that do not fit model '{model.name}' (they keep their values): "
                      f"{problems + [f'{m} (missing)' for m in missing]}", stacklevel=3)
    bad_ids = {id(slot) for slot, _ in bad}
    good = [slot for slot in slots if id(slot) not in bad_ids]
    values = [read_slot(slot) for slot in good]
    narrower = [f"{s.label} ({v.dtype})" for s, v in zip(good, values)
                if v.dtype.kind == "f" and v.dtype.itemsize < np.dtype(s.var.dtype).itemsize]
    if narrower:
        warnings.warn(f"{source}: weights stored with less precision than model '{model.name}' uses are widened: "
                      f"{narrower}", stacklevel=3)
    for slot, value in zip(good, values):
        slot.var.assign(value.astype(slot.var.dtype, copy=False))
    return good


def load_weights_file(model: Any, path: str | os.PathLike[str], by_name: bool = False,
                      skip_mismatch: bool = False) -> None:
    """Load any Keras HDF5 weights file into a built model: Keras 3 `.weights.h5`, or the legacy tf.keras layout
    (weights-only file with root attribute `layer_names`, or the `model_weights` group of a full-model file)."""
    from shendu.saving.keras_weights import read_keras_weights
    from shendu.saving.legacy_weights import read_legacy_weights

    source = os.fspath(path)
    if not os.path.exists(source):
        raise FileNotFoundError(f"load_weights: no file at {source}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before loading "
                         f"weights from {source}")
    with open_h5(source) as f:
        legacy = f if read_names(f, "layer_names", source) is not None else get_group(f, "model_weights", source)
        if legacy is not None:
            read_legacy_weights(model, legacy, source, by_name=by_name, skip_mismatch=skip_mismatch)
            return
        if by_name:
            raise ValueError(f"load_weights: by_name=True applies to legacy .h5 files only; {source} is a Keras 3 "
                             "weights file, whose weights are matched by the model's structure")
        if "layers" not in f and "vars" not in f:
            raise ModelFileError(f"{source} is an HDF5 file but not a Keras weights file (no 'layers' or 'vars' "
                                 "group, no 'layer_names' attribute)")
        read_keras_weights(model, f, source, skip_mismatch=skip_mismatch)
