"""The .shendu model file, without pickle: a zip of `config.json`, the weights and the optimizer state in
safetensors format (see `safetensors_format`; NumPy alone reads and writes it).

The file is written to a temporary name and renamed, so a crash never leaves half a model behind.
Loading checks every weight's name and shape and says which are missing, unexpected or misshapen.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from typing import Any

import numpy as np

from shendu.saving import safetensors_format
from shendu.saving.file_utils import ModelFileError, atomic_write
from shendu.saving.serialization import deserialize

FORMAT = "shendu.model/1"
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


def _check_and_assign(model: Any, tensors: dict[str, np.ndarray], source: str) -> None:
    """Assign saved arrays to the model's weights by name; refuse with a list of every mismatch."""
    own = _named_weights(model)
    missing = [f"{k} ({own[k].name})" for k in own if k not in tensors]
    unexpected = sorted(k for k in tensors if k not in own)
    misshapen = [f"{k} ({own[k].name}): model {own[k].shape}, file {tensors[k].shape}" for k in own
                 if k in tensors and tensors[k].shape != own[k].shape]
    if missing or unexpected or misshapen:
        parts = []
        if missing:
            parts.append(f"missing from the file: {missing}")
        if unexpected:
            parts.append(f"unexpected in the file: {unexpected}")
        if misshapen:
            parts.append(f"shape mismatch: {misshapen}")
        raise ValueError(f"Cannot load weights from {source} into model '{model.name}': " + "; ".join(parts))
    for key, arr in tensors.items():
        own[key].assign(arr.astype(own[key].dtype, copy=False))


def save_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the model's weights to a safetensors file, atomically."""
    _require_built(model)
    safetensors_format.save_file(_weight_dict(model), path, metadata={"format": FORMAT})


def load_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Load weights saved by `save_weights` (or from a full model file), checking names and shapes."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file at {path}")
    if zipfile.is_zipfile(path):
        with _open_zip(path) as zf:
            tensors = safetensors_format.load(_read(zf, WEIGHTS, path), path)
    else:
        tensors = safetensors_format.load_file(path)
    _require_built(model)
    _check_and_assign(model, tensors, path)


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write architecture, compile settings, weights and optimizer state to one zip file, atomically."""
    _require_built(model)
    config = {"class_name": type(model).__name__, "config": model.get_config(),
              "compile_config": _compile_config(model), "build_input_shape": _build_shape(model)}
    metadata = {"format": FORMAT, "shendu_version": _version(), "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA, json.dumps(metadata, indent=2))
        zf.writestr(CONFIG, json.dumps(config, indent=2, default=_json_default))
        zf.writestr(WEIGHTS, safetensors_format.save(_weight_dict(model), metadata={"format": FORMAT}))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "iterations", 0):
            zf.writestr(OPTIMIZER, safetensors_format.save(optimizer.get_state()))


def load_model(path: str | os.PathLike[str], custom_objects: dict[str, Any] | None = None,
               compile: bool = True) -> Any:
    """Rebuild a model saved by `save_model`; it predicts exactly as it did and training resumes where it stopped."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file at {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a shendu model file (not a zip archive; truncated or corrupted?)")
    with _open_zip(path) as zf:
        try:
            config = json.loads(_read(zf, CONFIG, path))
        except json.JSONDecodeError as err:
            raise ModelFileError(f"{path}: {CONFIG} is corrupted ({err})") from None
        weights = safetensors_format.load(_read(zf, WEIGHTS, path), path)
        opt_state = safetensors_format.load(_read(zf, OPTIMIZER, path), path) if OPTIMIZER in zf.namelist() else None
    model = deserialize({"class_name": config["class_name"], "config": config["config"]}, custom_objects)
    if not model.built and config.get("build_input_shape") is not None:
        model.build(_to_shape(config["build_input_shape"]))
    _check_and_assign(model, weights, path)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        _compile_from_config(model, compile_config, custom_objects)
        if opt_state is not None:
            model.optimizer.build(model.trainable_weights)
            model.optimizer.set_state(opt_state)
    return model


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
        bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ModelFileError(f"{path} is corrupted or truncated ({err})") from None
    if bad is not None:
        zf.close()
        raise ModelFileError(f"{path} is corrupted: checksum error in {bad}")
    return zf


def _read(zf: zipfile.ZipFile, name: str, path: str) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        raise ModelFileError(f"{path} is not a complete shendu model file: {name} is missing") from None


def _require_built(model: Any) -> None:
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before saving")


def _compile_config(model: Any) -> dict[str, Any] | None:
    getter = getattr(model, "get_compile_config", None)
    return getter() if getter is not None else None


def _compile_from_config(model: Any, config: dict[str, Any], custom_objects: dict[str, Any] | None) -> None:
    model.compile_from_config(config, custom_objects=custom_objects)


def _build_shape(model: Any) -> Any:
    return getattr(model, "_build_input_shape", None)


def _to_shape(s: Any) -> Any:
    if isinstance(s, list) and s and isinstance(s[0], list):
        return [tuple(x) for x in s]
    return tuple(s)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.dtype):
        return o.name
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"save_model: cannot write a {type(o).__name__} into config.json")


def _version() -> str:
    from shendu import __version__

    return __version__
