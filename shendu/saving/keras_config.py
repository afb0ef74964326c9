"""Model configs between shendu and Keras: `to_keras_config` gives the `config.json` Keras 3 writes into a `.keras`
file; `from_keras_config` builds a shendu model from a Keras 3 config or a tf.keras 2 one (a legacy `.h5` file's
`model_config`, `model.to_json()`). Sequential and functional models (nested too), compile settings included.

Reading is as safe as shendu's own files: Lambda code is refused (`config_checks`), a layer shendu lacks or a
Keras option it does not implement is a ModelFileError naming the layer, and with `max_weights` the model may not
create more weights than the file holds (`weight_budget`).
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from shendu.saving import config_checks
from shendu.saving.file_utils import ModelFileError
from shendu.saving.keras_config_layers import (
    accepted_arguments,
    dtype_policy,
    keep_accepted,
    layer_in,
    unwrap,
    wrap_layer,
    wrap_object,
)
from shendu.saving.weight_budget import weight_budget

FUNCTIONAL_MODULE = "keras.src.models.functional"
_GRAPH_CLASSES = frozenset({"Functional", "Model"})


# --- shendu -> Keras 3 ---------------------------------------------------------------------------
def to_keras_config(model: Any) -> dict[str, Any]:
    """The `config.json` of a Keras 3 `.keras` file for a built model: its class, config, build and compile
    configs; ValueError naming the layer when Keras could not rebuild one."""
    from shendu.saving.serialization import serialize

    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or call it on data before saving")
    entry = serialize(model)
    if "layers" not in entry["config"]:
        raise ValueError(f"Model '{model.name}' is a subclassed {type(model).__name__}, which a Keras file cannot "
                         "describe; save it in shendu's format (model.save('model.shendu')) or build it as a "
                         "Sequential or functional model")
    shape = None if getattr(model, "_graph", None) is not None else getattr(model, "_build_input_shape", None)
    if entry["class_name"] == "Sequential":
        _add_input_layer(entry["config"], shape)
    out = wrap_layer(entry)
    if shape is not None:
        out["config"]["build_input_shape"] = _json_shape(shape)
    out["build_config"] = {"input_shape": _json_shape(shape)}
    compile_config = keras_compile_config(model)
    if compile_config is not None:
        out["compile_config"] = compile_config
    return out


def to_legacy_config(model: Any) -> dict[str, Any]:
    """The `model_config` of a legacy `.h5` file, as Keras 3's `model.save('x.h5')` writes it."""
    config = to_keras_config(model)
    return {"class_name": config["class_name"], "config": config["config"]}


def model_out(entry: dict[str, Any]) -> dict[str, Any]:
    """A Sequential or functional model's entry (from `serialize`) as Keras 3 writes it."""
    config = entry["config"]
    if entry["class_name"] == "Sequential":
        from shendu import backend

        layers = [wrap_layer(layer) for layer in config["layers"]]
        return {"module": "keras", "class_name": "Sequential", "registered_name": None,
                "config": {"name": config["name"], "trainable": config.get("trainable", True),
                           "dtype": dtype_policy(backend.floatx()), "layers": layers}}
    if config.get("added_losses"):
        raise ValueError(f"Model '{config['name']}' has losses added with add_loss() on symbolic tensors, which a "
                         "Keras 3 file cannot hold; save it in shendu's format (model.save('model.shendu'))")
    layers = [{**wrap_layer(layer), "name": layer["name"],
               "inbound_nodes": [_node_out(layer["class_name"], n) for n in layer.get("inbound_nodes", [])]}
              for layer in config["layers"]]
    return {"module": FUNCTIONAL_MODULE, "class_name": "Functional", "registered_name": None,
            "config": {"name": config["name"], "trainable": config.get("trainable", True), "layers": layers,
                       "input_layers": _ends_out(config["input_layers"], config.get("single_input")),
                       "output_layers": _ends_out(config["output_layers"], config.get("single_output"))}}


def _node_out(class_name: str, node: dict[str, Any]) -> dict[str, Any]:
    """A call as Keras 3 records it: MultiHeadAttention takes query, value (and key) as separate arguments where
    shendu records them as one list."""
    args = node.get("args", [])
    if class_name == "MultiHeadAttention" and len(args) == 1 and isinstance(args[0], list) and len(args[0]) in (2, 3):
        kwargs = dict(node.get("kwargs") or {})
        if len(args[0]) == 3:
            kwargs["key"] = args[0][2]
        return {"args": args[0][:2], "kwargs": kwargs}
    return node


def keras_compile_config(model: Any) -> dict[str, Any] | None:
    """The compile settings as Keras 3 writes them (None for a model never compiled)."""
    getter = getattr(model, "get_compile_config", None)
    config = getter() if getter is not None else None
    if not config:
        return None
    optimizer = config["optimizer"]
    learning_rate = optimizer["config"].get("learning_rate")
    if isinstance(learning_rate, dict):
        optimizer = {**optimizer, "config": {**optimizer["config"], "learning_rate": wrap_object(
            learning_rate, "keras.optimizers.schedules")}}
    return {"optimizer": wrap_object(optimizer, "keras.optimizers"),
            "loss": _wrap_all(config.get("loss"), "keras.losses"),
            "loss_weights": config.get("loss_weights"),
            "metrics": _wrap_all(config.get("metrics"), "keras.metrics"),
            "weighted_metrics": _wrap_all(config.get("weighted_metrics"), "keras.metrics"),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _wrap_all(value: Any, module: str) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return wrap_object(value, module)
    if isinstance(value, list):
        return [_wrap_all(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _wrap_all(v, module) for k, v in value.items()}
    return value


def _add_input_layer(config: dict[str, Any], shape: Any) -> None:
    """Give a Sequential built from data (no Input) the InputLayer Keras writes first."""
    from shendu import backend

    layers = config["layers"]
    has_input = layers and layers[0]["class_name"] == "InputLayer"
    if not has_input and isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, int) for d in shape):
        layers.insert(0, {"class_name": "InputLayer", "config": {
            "batch_shape": _json_shape(shape), "dtype": backend.floatx(), "name": f"{config['name']}_input"}})


def _ends_out(ends: Any, single: Any) -> Any:
    return ends[0] if single and isinstance(ends, list) and len(ends) == 1 else ends


def _json_shape(shape: Any) -> Any:
    if isinstance(shape, (tuple, list)):
        return [_json_shape(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _json_shape(v) for k, v in shape.items()}
    return shape


# --- Keras -> shendu -----------------------------------------------------------------------------
def from_keras_config(config: dict[str, Any], source: str, custom_objects: dict[str, Any] | None = None,
                      compile: bool = True, max_weights: int | None = None,
                      training_config: dict[str, Any] | None = None) -> Any:
    """A built shendu model from a Keras 3 `config.json` or a tf.keras 2 `model_config` (compiled from its
    `compile_config`, or a legacy file's `training_config`, when `compile`); ModelFileError naming `source` and
    the layer for anything it cannot rebuild."""
    from shendu.models import Model
    from shendu.saving.model_file import _CONFIG_ERRORS, _describe, shape_from_json
    from shendu.saving.serialization import deserialize

    where = f"{source}: model config"
    entry = model_in(config, where, custom_objects)
    config_checks.check_model_config(entry, source, custom_objects)
    shape = (config.get("build_config") or {}).get("input_shape") or config["config"].get("build_input_shape")
    budget = weight_budget(max_weights, source) if max_weights is not None else contextlib.nullcontext()
    try:
        with budget:
            model = deserialize(entry, custom_objects)
            if isinstance(model, Model) and not model.built and shape is not None:
                model.build(shape_from_json(shape))
    except ModelFileError:
        raise
    except _CONFIG_ERRORS as err:
        raise ModelFileError(f"{where} does not describe a model shendu can rebuild: {_describe(err)}") from err
    if not isinstance(model, Model):
        raise ModelFileError(f"{where} describes a {type(model).__name__}, not a model")
    compile_config = config.get("compile_config") or training_config
    if compile and compile_config:
        _compile(model, compile_config, source, custom_objects)
    return model


def model_in(entry: Any, where: str, custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    """A Keras model entry (Sequential, Functional, tf.keras's Model) as shendu's {"class_name", "config"}."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ModelFileError(f"{where}: expected an object with a 'class_name' string naming the model's class, "
                             f"got {type(entry).__name__}")
    name, config = entry["class_name"], entry.get("config")
    if isinstance(config, list):  # Keras 2.2's Sequential: the config is the list of layers
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{where}: the config of {name} must be an object with a 'layers' list")
    common = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    if name == "Sequential":
        return {"class_name": "Sequential",
                "config": {**common, "layers": [layer_in(layer, where, custom_objects) for layer in config["layers"]]}}
    if name in _GRAPH_CLASSES or "input_layers" in config:
        return {"class_name": "Functional", "config": _graph_in(config, common, where, custom_objects)}
    return layer_in({**entry, "config": {k: v for k, v in config.items() if k != "layers"}}, where, custom_objects)


def _graph_in(config: dict[str, Any], common: dict[str, Any], where: str,
              custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    layers = []
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            raise ModelFileError(f"{where}: a layer entry must be an object, got {layer!r}")
        converted = layer_in(layer, where, custom_objects)
        name = layer.get("name") or converted["config"].get("name")
        layers.append({**converted, "name": name,
                       "inbound_nodes": [_node_in(n, where, name) for n in layer.get("inbound_nodes") or []]})
    inputs, single_in = _ends_in(config.get("input_layers"), where, "input_layers")
    outputs, single_out = _ends_in(config.get("output_layers"), where, "output_layers")
    return {**common, "layers": layers, "input_layers": inputs, "output_layers": outputs,
            "single_input": single_in, "single_output": single_out}


def _node_in(node: Any, where: str, layer: str) -> dict[str, Any]:
    """One call of a layer: Keras 3's {"args", "kwargs"}, or tf.keras's [[name, node, index, kwargs], ...]."""
    if isinstance(node, dict):
        return {"args": unwrap(node.get("args", [])), "kwargs": unwrap(node.get("kwargs") or {})}
    if not isinstance(node, list) or not node:
        raise ModelFileError(f"{where}: layer '{layer}' has an inbound node that is not a list of tensors: {node!r}")
    tensors, kwargs = [], {}
    for ref in node:
        if not isinstance(ref, list) or len(ref) < 3:
            raise ModelFileError(f"{where}: layer '{layer}' has an inbound tensor that is not "
                                 f"[layer, node, index, kwargs]: {ref!r}")
        tensors.append({"class_name": "__keras_tensor__", "config": {"keras_history": list(ref[:3])}})
        if len(ref) > 3 and isinstance(ref[3], dict):
            kwargs = unwrap(ref[3])
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def _ends_in(ends: Any, where: str, key: str) -> tuple[Any, bool]:
    """A model's input or output tensors as a list of [layer, node, index] (or a dict of them), and whether the
    model takes (gives) a single tensor rather than a list."""
    if isinstance(ends, list) and len(ends) == 3 and isinstance(ends[0], str):
        return [ends], True
    if isinstance(ends, list) and all(isinstance(e, list) and len(e) == 3 for e in ends) and ends:
        return ends, len(ends) == 1
    if isinstance(ends, dict) and ends:
        return ends, False
    raise ModelFileError(f"{where}: {key} must list [layer, node, index] entries, got {ends!r}")


def _compile(model: Any, config: dict[str, Any], source: str, custom_objects: dict[str, Any] | None) -> None:
    """Compile as the file says; a setting shendu cannot use leaves the model uncompiled, with a warning (as
    Keras does), since the weights and predictions are unaffected."""
    try:
        model.compile_from_config(compile_config_in(config), custom_objects=custom_objects)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        warnings.warn(f"{source}: the model was loaded uncompiled: its compile settings cannot be used in shendu "
                      f"({err}); call model.compile(...) before training it", stacklevel=3)


def compile_config_in(config: dict[str, Any]) -> dict[str, Any]:
    """Keras 3's compile_config or tf.keras's training_config as shendu's `compile_from_config` reads it."""
    from shendu import optimizers

    optimizer = unwrap(config.get("optimizer") or config.get("optimizer_config") or "rmsprop")
    if isinstance(optimizer, str):
        optimizer = {"class_name": optimizer, "config": {}}
    cls = optimizers.ALL_OPTIMIZERS.get(str(optimizer.get("class_name")).split(">")[-1].lower())
    if cls is not None and accepted_arguments(cls) is not None:
        optimizer = {"class_name": cls.__name__, "config": keep_accepted(
            cls, optimizer.get("config") or {}, f"optimizer {optimizer['class_name']}")}
    return {"optimizer": optimizer, "loss": _loss_in(unwrap(config.get("loss"))),
            "loss_weights": config.get("loss_weights"), "metrics": unwrap(config.get("metrics")),
            "weighted_metrics": unwrap(config.get("weighted_metrics"))}


def _loss_in(loss: Any) -> Any:
    """tf.keras's reduction 'auto' is Keras 3's 'sum_over_batch_size'."""
    if isinstance(loss, dict) and "class_name" in loss:
        inner = dict(loss.get("config") or {})
        if inner.get("reduction") == "auto":
            inner["reduction"] = "sum_over_batch_size"
        inner.pop("fn", None)
        return {**loss, "config": inner}
    if isinstance(loss, dict):
        return {k: _loss_in(v) for k, v in loss.items()}
    if isinstance(loss, list):
        return [_loss_in(v) for v in loss]
    return loss
