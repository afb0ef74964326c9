"""One layer's config between shendu's form ({"class_name", "config"}, dtypes as names) and Keras's: Keras 3 wraps
every object as {"module", "class_name", "config", "registered_name"} and a dtype as a DTypePolicy; tf.keras 2
configs (legacy .h5 files, `to_json`) give bare {"class_name", "config"} objects and `batch_input_shape`.

Reading keeps only the arguments a shendu layer takes: a Keras-only argument at its inert value (None, False, an
empty list, or a value listed in `_INERT`) is dropped, any other is refused, so a file never loads as a layer that
computes something else.
"""

from __future__ import annotations

import inspect
from typing import Any

from shendu.saving.file_utils import ModelFileError
from shendu.saving.object_registration import get_registered_name, get_registered_object

LAYERS_MODULE = "keras.layers"
_OBJECT_MODULES = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
                   ("_constraint", "keras.constraints"))
SUBLAYER_KEYS = frozenset({"layer", "backward_layer", "cell"})
DTYPE_POLICIES = frozenset({"DTypePolicy", "FloatDTypePolicy", "Policy", "QuantizedDTypePolicy"})
# shendu layers that Keras 3 does not have (or, for Lambda, whose Python code a Keras file would have to carry)
NOT_IN_KERAS = frozenset({"TransformerEncoder", "TokenAndPositionEmbedding", "PositionEmbedding", "TFOpLambda",
                          "Lambda"})
# shendu arguments that Keras's layer of that name does not take (always at their default in shendu)
_NOT_TAKEN_BY_KERAS = {"SpatialDropout1D": {"trainable"}, "SpatialDropout2D": {"trainable"},
                       "SpatialDropout3D": {"trainable"}, "Discretization": {"trainable"}}
# Keras-only arguments whose value changes nothing shendu computes (speed hints, bookkeeping, defaults)
_INERT: dict[str, Any] = {
    "shared_object_id": all, "unroll": all, "implementation": all, "use_cudnn": all, "jit_compile": all,
    "autocast": all,
    "renorm_momentum": all, "renorm_clipping": None, "synchronized": False, "lora_rank": None, "lora_alpha": None,
    "input_axes": None, "output_axes": None, "sparse": False, "ragged": False, "optional": False,
    "antialias": False, "use_gate": False, "sliding_window": None, "zero_output_for_mask": all,
    "time_major": False, "reset_after": True, "is_legacy_optimizer": False, "decay": 0.0,
    "gradient_accumulation_steps": None, "loss_scale_factor": None,
}


def dtype_policy(name: str) -> dict[str, Any]:
    """Keras 3's serialized DTypePolicy for a dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def builtin_layers() -> dict[str, Any]:
    from shendu.saving.serialization import _builtin_layers

    return _builtin_layers()


# --- shendu -> Keras 3 ---------------------------------------------------------------------------
def wrap_layer(entry: dict[str, Any], module: str = LAYERS_MODULE) -> dict[str, Any]:
    """A shendu layer entry as Keras 3 serializes it; ValueError for a layer Keras cannot rebuild."""
    name = entry["class_name"]
    config = entry["config"]
    if "layers" in config:
        from shendu.saving.keras_config import model_out

        return model_out(entry)
    cls = get_registered_object(name, None, builtin_layers())
    custom = cls is not None and not cls.__module__.startswith("shendu.")
    if name in NOT_IN_KERAS or (cls is None and ">" not in name):
        raise ValueError(f"Layer '{config.get('name', name)}' ({name}) has no Keras 3 equivalent, so a Keras file "
                         "holding it could not be opened by Keras; save in shendu's format instead "
                         "(model.save('model.shendu'))")
    registered = get_registered_name(cls) if custom else None
    return {"module": cls.__module__ if custom else module,
            "class_name": name.split(">")[-1], "config": config_out(name, config), "registered_name": registered}


def config_out(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A layer's own config with Keras 3's wrappers around its dtype, initializers, ... and sub-layers."""
    out: dict[str, Any] = {}
    if class_name == "Hashing" and config.get("output_mode", "int") == "int":
        config = {**config, "dtype": "int64"}  # Keras's Hashing gives integer bins in an integer dtype
    for key, value in config.items():
        if key in _NOT_TAKEN_BY_KERAS.get(class_name, ()):
            continue
        if key == "dtype" and isinstance(value, str) and class_name != "InputLayer":
            value = dtype_policy(value)
        elif key == "activity_regularizer" and value is None:
            continue
        elif key in SUBLAYER_KEYS and isinstance(value, dict) and "class_name" in value:
            value = wrap_layer(value)
        elif key == "cells" and isinstance(value, list):
            value = [wrap_layer(v) for v in value]
        elif isinstance(value, dict) and "class_name" in value:
            value = wrap_object(value, _object_module(key))
        out[key] = value
    return out


def wrap_object(obj: dict[str, Any], module: str) -> dict[str, Any]:
    """An initializer, regularizer, loss, ... as Keras 3 serializes it: module, class_name, config, registered_name."""
    name = obj["class_name"]
    registered = name if ">" in name else None
    config = {k: wrap_object(v, module) if isinstance(v, dict) and "class_name" in v else v
              for k, v in (obj.get("config") or {}).items()}
    return {"module": module, "class_name": name.split(">")[-1], "config": config, "registered_name": registered}


def _object_module(key: str) -> str:
    for suffix, module in _OBJECT_MODULES:
        if key.endswith(suffix):
            return module
    return "keras.layers" if key == "layer" else "keras"


# --- Keras (3 or tf.keras 2) -> shendu -----------------------------------------------------------
def layer_in(entry: Any, where: str, custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    """A Keras layer entry as shendu's {"class_name", "config"}, refused (ModelFileError) when shendu lacks it."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ModelFileError(f"{where}: a layer entry must be an object with a 'class_name' string, got {entry!r}")
    name, module = entry["class_name"], entry.get("module") or ""
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: the config of layer {name} must be an object, got {config!r}")
    label = f"layer '{config.get('name', name)}' ({name})"
    if module.startswith("keras.src.ops") or name == "TFOpLambda":
        raise ModelFileError(f"{where}: {label} is a Keras operation applied to a tensor (like `x + 1` in a "
                             "functional model), which shendu cannot rebuild from a file; use a layer (layers.Add, "
                             "layers.Rescaling, ...) in the model instead")
    if "layers" in config:
        from shendu.saving.keras_config import model_in

        return model_in(entry, where, custom_objects)
    registered = entry.get("registered_name")
    cls = get_registered_object(name, custom_objects, builtin_layers())
    if cls is None and isinstance(registered, str):
        cls = get_registered_object(registered, custom_objects)
    if cls is None:
        raise ModelFileError(f"{where}: {label} is not a layer shendu has; if it is a custom layer, define it and "
                             f"pass custom_objects={{'{name}': {name}}} (or register it)")
    out: dict[str, Any] = {"class_name": name, "config": _layer_config_in(cls, name, config, where, custom_objects)}
    if isinstance(registered, str) and registered != name:
        out["registered_name"] = registered
    return out


def _layer_config_in(cls: Any, name: str, config: dict[str, Any], where: str,
                     custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    if name == "Lambda":
        return {k: unwrap(v) for k, v in config.items()}
    stripped: dict[str, Any] = {}
    for key, value in config.items():
        if key in SUBLAYER_KEYS and isinstance(value, dict) and "class_name" in value:
            stripped[key] = layer_in(value, where, custom_objects)
        elif key == "cells" and isinstance(value, list):
            stripped[key] = [layer_in(v, where, custom_objects) for v in value]
        else:
            stripped[key] = unwrap(value)
    if name == "InputLayer" and "batch_input_shape" in stripped and "batch_shape" not in stripped:
        stripped["batch_shape"] = stripped.pop("batch_input_shape")
    return keep_accepted(cls, stripped, f"{where}: layer '{config.get('name', name)}' ({name})")


def unwrap(value: Any) -> Any:
    """Keras's serialized objects as shendu's: wrappers reduced to {"class_name", "config"}, a DTypePolicy to its
    dtype name, and everything inside the same way."""
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") in DTYPE_POLICIES and isinstance(value.get("config"), dict):
        return value["config"].get("name")
    if isinstance(value.get("class_name"), str) and "config" in value and value["class_name"] != "__keras_tensor__":
        config = unwrap(value["config"])
        if isinstance(config, dict):
            config = {k: v for k, v in config.items() if not (k in _INERT and _inert(k, v))}
        out = {"class_name": value["class_name"], "config": config}
        if isinstance(value.get("registered_name"), str) and value["registered_name"] != value["class_name"]:
            out["registered_name"] = value["registered_name"]
        return out
    return {k: unwrap(v) for k, v in value.items() if k != "shared_object_id"}


def keep_accepted(cls: Any, config: dict[str, Any], label: str) -> dict[str, Any]:
    """The arguments of `config` that `cls` takes; a Keras-only argument is dropped at an inert value, refused at any
    other (with a ModelFileError naming it)."""
    accepted = accepted_arguments(cls)
    if accepted is None:
        return config
    out, refused = {}, []
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif not _inert(key, value):
            refused.append(f"{key}={value!r}")
    if refused:
        raise ModelFileError(f"{label} uses Keras option(s) shendu does not implement: {', '.join(refused)}")
    return out


def accepted_arguments(cls: Any) -> set[str] | None:
    """The keyword arguments cls(...) takes (through **kwargs, those of its bases); None when it takes any."""
    from shendu.layers.base import Layer

    names: set[str] = set(getattr(cls, "cell_args", ()))  # recurrent layers pass these on to their cell
    for klass in inspect.getmro(cls):
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {"self"}
        if klass is Layer:
            return names - {"self"}
    return None


def _inert(key: str, value: Any) -> bool:
    if key in _INERT:
        return _INERT[key] is all or value == _INERT[key]
    return value is None or value is False or value == [] or value == {}
