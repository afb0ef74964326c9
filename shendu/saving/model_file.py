"""The .shendu model file, without pickle: a zip of `config.json`, the weights and the optimizer state in
safetensors format (see `safetensors_format`; NumPy alone reads and writes it).

The file is written to a temporary name and renamed, so a crash never leaves half a model behind.
Loading reads only the entries it needs, each within its declared and expected size (`zip_entries`), checks the
metadata and config before building (`config_checks`), builds no more weights than the file holds
(`weight_budget`), and checks every weight's name, shape and dtype before reading the tensors.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
import zipfile
from typing import Any

import numpy as np

from shendu.saving import config_checks, safetensors_format, zip_entries
from shendu.saving.config_checks import FORMAT
from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.saving.safetensors_format import Entry
from shendu.saving.serialization import deserialize
from shendu.saving.weight_budget import weight_budget

CONFIG, METADATA = "config.json", "metadata.json"
WEIGHTS, OPTIMIZER = "model.weights.safetensors", "optimizer.safetensors"


def _weight_dict(model: Any) -> dict[str, np.ndarray]:
    """The model's weights as arrays, keyed by their place in the model (see `_named_weights`)."""
    return {key: np.asarray(var.data) for key, var in _named_weights(model).items()}


def _named_weights(model: Any) -> dict[str, Any]:
    """Weights keyed by structure, 'layers/<index>/<weight name>', so that a freshly built twin of a model
    (whose automatic layer names differ) loads them; a repeated key gets a ':n' suffix."""
    out: dict[str, Any] = {}

    def put(base: str, var: Any) -> None:
        key, n = base, 1
        while key in out:
            key, n = f"{base}:{n}", n + 1
        out[key] = var

    for i, layer in enumerate(getattr(model, "layers", [])):
        for var in layer.weights:
            put(f"layers/{i}/{var.name.rsplit('/', 1)[-1]}", var)
    placed = {id(v) for v in out.values()}
    for var in model.weights:
        if id(var) not in placed:
            put(f"own/{var.name.rsplit('/', 1)[-1]}", var)
    return out


def _check_layout(model: Any, layout: dict[str, Entry], source: str) -> None:
    """Compare the file's tensor names, shapes and dtypes with the model's weights before any tensor is read;
    refuse with a list of every mismatch. A float weight accepts only float data; narrower floats load with a
    warning."""
    own = _named_weights(model)
    missing = [f"{k} ({own[k].name})" for k in own if k not in layout]
    unexpected = sorted(k for k in layout if k not in own)
    common = [k for k in own if k in layout]
    misshapen = [f"{k} ({own[k].name}): model {own[k].shape}, file {layout[k][1]}" for k in common
                 if layout[k][1] != tuple(own[k].shape)]
    mistyped = [f"{k} ({own[k].name}): model {own[k].dtype}, file {layout[k][0]}" for k in common
                if not _accepts(np.dtype(own[k].dtype), layout[k][0])]
    if missing or unexpected or misshapen or mistyped:
        parts = []
        if missing:
            parts.append(f"missing from the file: {missing}")
        if unexpected:
            parts.append(f"unexpected in the file: {unexpected}")
        if misshapen:
            parts.append(f"shape mismatch: {misshapen}")
        if mistyped:
            parts.append(f"dtype mismatch (a float weight accepts only float data, an integer weight only "
                         f"integers): {mistyped}")
        raise ModelFileError(f"Cannot load weights from {source} into model '{model.name}': " + "; ".join(parts))
    narrower = [f"{k} ({layout[k][0]})" for k in common if layout[k][0].itemsize < np.dtype(own[k].dtype).itemsize]
    if narrower:
        warnings.warn(f"{source}: weights stored with less precision than model '{model.name}' uses are widened: "
                      f"{narrower}", stacklevel=3)


def _accepts(own: np.dtype, stored: np.dtype) -> bool:
    """Whether a weight of dtype `own` may take data stored as `stored` (same kind: float, integer or bool)."""
    kinds = {"f": "f", "i": "iu", "u": "iu", "b": "b"}
    return stored.kind in kinds.get(own.kind, own.kind)


def _assign(model: Any, tensors: dict[str, np.ndarray]) -> None:
    own = _named_weights(model)
    for key, arr in tensors.items():
        own[key].assign(arr.astype(own[key].dtype, copy=False))


def save_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the model's weights to a safetensors file, atomically."""
    _require_built(model)
    safetensors_format.save_file(_weight_dict(model), path, metadata={"format": FORMAT})


class LoadStatus:
    """What `load_weights` returns, as TensorFlow's restore status: every weight of the model took a value and
    every value in the file went to a weight (a mismatch raises before anything is assigned), so each check passes."""

    def __init__(self, path: str, names: list[str]) -> None:
        self.path = path
        self.restored = names

    def assert_consumed(self) -> LoadStatus:
        """Every value in the file matched a weight, and every weight got one: always true after a load."""
        return self

    def assert_existing_objects_matched(self) -> LoadStatus:
        """Every weight of the model got a value: always true after a load."""
        return self

    def assert_nontrivial_match(self) -> LoadStatus:
        """Something was restored; AssertionError for a model without weights."""
        if not self.restored:
            raise AssertionError(f"load_weights: nothing in {self.path} matched the model (it has no weights)")
        return self

    def expect_partial(self) -> LoadStatus:
        """Say that a partial restore would be fine (shendu loads all or nothing, so there is nothing to silence)."""
        return self

    def __repr__(self) -> str:
        return f"<LoadStatus {self.path}: {len(self.restored)} weights restored>"


def load_weights(model: Any, path: str | os.PathLike[str]) -> LoadStatus:
    """Load weights saved by `save_weights` (or from a full model file), checking names, shapes and dtypes."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file at {path}")
    _require_built(model)
    if zipfile.is_zipfile(path):
        with zip_entries.open_archive(path) as zf:
            _check_layout(model, zip_entries.read_layout(zf, WEIGHTS, path), path)
            data = zip_entries.read_entry(zf, WEIGHTS, path, zip_entries.entry_size(zf, WEIGHTS, path))
        tensors = safetensors_format.load(data, f"{path}: {WEIGHTS}")
    else:
        with open(path, "rb") as f:
            data = f.read()
        _check_layout(model, safetensors_format.read_header(data, path)[0], path)
        tensors = safetensors_format.load(data, path)
    _assign(model, tensors)
    return LoadStatus(path, sorted(tensors))


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write architecture, compile settings, weights and optimizer state to one zip file, atomically."""
    _require_built(model)
    config = {"class_name": type(model).__name__, "config": model.get_config(),
              "compile_config": _compile_config(model), "build_input_shape": _build_shape(model)}
    metadata = {"format": FORMAT, "shendu_version": _version(), "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA, json.dumps(metadata, indent=2))
        zf.writestr(CONFIG, json.dumps(config, indent=2, default=json_default))
        zf.writestr(WEIGHTS, safetensors_format.save(_weight_dict(model), metadata={"format": FORMAT}))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "iterations", 0):
            zf.writestr(OPTIMIZER, safetensors_format.save(optimizer.get_state()))


def load_model(path: str | os.PathLike[str], custom_objects: dict[str, Any] | None = None,
               compile: bool = True) -> Any:
    """Rebuild a model saved by `save_model`; it predicts exactly as it did and training resumes where it stopped.

    Every entry's size is checked before it is read, the config before anything is built from it, and the
    weights' names, shapes and dtypes before the model's variables are allocated past what the file holds.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file at {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a shendu model file (not a zip archive; truncated or corrupted?)")
    with zip_entries.open_archive(path) as zf:
        config_checks.check_metadata(_read_json(zf, METADATA, path), path)
        config = _read_json(zf, CONFIG, path)
        config_checks.check_model_config(config, path, custom_objects)
        layout = zip_entries.read_layout(zf, WEIGHTS, path)
        model = _rebuild(config, layout, path, custom_objects)
        _check_layout(model, layout, path)
        weights = safetensors_format.load(
            zip_entries.read_entry(zf, WEIGHTS, path, zip_entries.entry_size(zf, WEIGHTS, path)), f"{path}: {WEIGHTS}")
        compile_config = config.get("compile_config") if compile else None
        opt_state = _read_optimizer_state(zf, path, layout) if compile_config and OPTIMIZER in zf.namelist() else None
    _assign(model, weights)
    if compile_config:
        _restore_training(model, compile_config, opt_state, path, custom_objects)
    return model


def _read_json(zf: zipfile.ZipFile, name: str, path: str) -> dict[str, Any]:
    return config_checks.parse_json(zip_entries.read_entry(zf, name, path, zip_entries.MAX_JSON_BYTES), name, path)


def _rebuild(config: dict[str, Any], layout: dict[str, Entry], path: str,
             custom_objects: dict[str, Any] | None) -> Any:
    """The model described by the config, built with no more parameters than the weights file holds."""
    from shendu.models import Model

    held = sum(math.prod(entry[1]) for entry in layout.values())
    try:
        with weight_budget(held, path):
            model = deserialize({"class_name": config["class_name"], "config": config["config"]}, custom_objects)
            if isinstance(model, Model) and not model.built and config.get("build_input_shape") is not None:
                model.build(shape_from_json(config["build_input_shape"]))
    except ModelFileError:
        raise
    except _CONFIG_ERRORS as err:
        raise ModelFileError(f"{path}: {CONFIG} does not describe a model that can be rebuilt: {_describe(err)}") \
            from err
    if not isinstance(model, Model):
        raise ModelFileError(f"{path}: {CONFIG} describes a {type(model).__name__}, not a model")
    return model


def _read_optimizer_state(zf: zipfile.ZipFile, path: str, weights: dict[str, Entry]) -> dict[str, np.ndarray]:
    """The optimizer state entry, refused unread when it holds more than a few slots per weight."""
    layout = zip_entries.read_layout(zf, OPTIMIZER, path)
    held, limit = sum(math.prod(e[1]) for e in layout.values()), 8 * sum(math.prod(e[1]) for e in weights.values())
    if held > limit + 1024:
        raise ModelFileError(f"{path}: {OPTIMIZER} holds {held} numbers, more than an optimizer keeps for "
                             f"{limit // 8} weights")
    data = zip_entries.read_entry(zf, OPTIMIZER, path, zip_entries.entry_size(zf, OPTIMIZER, path))
    return safetensors_format.load(data, f"{path}: {OPTIMIZER}")


def _restore_training(model: Any, compile_config: Any, opt_state: dict[str, np.ndarray] | None, path: str,
                      custom_objects: dict[str, Any] | None) -> None:
    """Compile the model as it was saved and give its optimizer the saved state, each checked."""
    try:
        _compile_from_config(model, compile_config, custom_objects)
    except _CONFIG_ERRORS as err:
        raise ModelFileError(f"{path}: {CONFIG} has a compile_config that cannot be used: {_describe(err)}") from err
    if opt_state is None:
        return
    try:
        model.optimizer.build(model.trainable_weights)
        model.optimizer.set_state(opt_state)
    except (ValueError, TypeError, AttributeError) as err:
        raise ModelFileError(f"{path}: {OPTIMIZER} is not a valid optimizer state: {err}") from err


_CONFIG_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, NotImplementedError,
                  OverflowError)


def _describe(err: BaseException) -> str:
    return str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"


def _require_built(model: Any) -> None:
    """Refuse a model without weights: not built, and no Variables of its own (a subclassed model may make them
    in `__init__`)."""
    if not model.built and not model.weights:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before saving")


def _compile_config(model: Any) -> dict[str, Any] | None:
    getter = getattr(model, "get_compile_config", None)
    return getter() if getter is not None else None


def _compile_from_config(model: Any, config: dict[str, Any], custom_objects: dict[str, Any] | None) -> None:
    model.compile_from_config(config, custom_objects=custom_objects)


def _build_shape(model: Any) -> Any:
    return getattr(model, "_build_input_shape", None)


def shape_from_json(s: Any) -> Any:
    """A build input shape read back from JSON: lists become tuples (a list of shapes or a dict of them kept)."""
    if isinstance(s, dict):
        return {k: tuple(v) for k, v in s.items()}
    if isinstance(s, list) and s and isinstance(s[0], list):
        return [tuple(x) for x in s]
    return tuple(s)


def json_default(o: Any) -> Any:
    """`json.dumps`'s fallback for the NumPy values and tuples a model config may hold."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.dtype):
        return o.name
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot write a {type(o).__name__} ({o!r}) into a model's JSON config")


def _version() -> str:
    from shendu import __version__

    return __version__
