"""`clone_model`: the same architecture with new layers (and so new weights), as Keras's `keras.models.clone_model`.

A Sequential model is rebuilt from its cloned layers; a functional model replays its graph of calls on new
`Input`s with each layer replaced by `clone_function(layer)` (once per layer, so shared layers stay shared); any
other model is rebuilt from its config. A compiled model's clone is compiled with the same settings, as Keras 3 does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from shendu.layers.input_layer import Input, InputLayer
from shendu.layers.symbolic import KerasTensor
from shendu.models.functional import Functional
from shendu.models.model import Model
from shendu.models.sequential import Sequential
from shendu.utils.tree import flatten, map_structure


def clone_model(model: Model, input_tensors: Any = None, clone_function: Callable[[Any], Any] | None = None,
                call_function: Callable[..., Any] | None = None, recursive: bool = False) -> Model:
    """A copy of a Functional or Sequential model with newly initialized weights (Keras's arguments)."""
    if not isinstance(model, Model):
        raise ValueError(f"clone_model: expected a Model instance; received {type(model).__name__} {model!r}")
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: clone_function must be callable; received {clone_function!r}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: `call_function` is not supported with Sequential models (their layers are "
                             f"listed, not called, when the model is made); received model '{model.name}'")
        return _clone_sequential(model, _wrap(clone_function, None, recursive, {}), input_tensors)
    if model._graph is not None:
        return _clone_functional(model, _wrap(clone_function, call_function, recursive, {}), call_function,
                                 input_tensors)
    if clone_function is not None or input_tensors is not None or call_function is not None:
        raise ValueError("clone_model: `clone_function`, `call_function` and `input_tensors` are only supported for "
                         f"Sequential and Functional models; model '{model.name}' is a {type(model).__name__}. "
                         "Implement get_config() in it and call model.__class__.from_config(model.get_config())")
    from shendu.saving.serialization import deserialize, serialize

    clone = deserialize(serialize(model), {type(model).__name__: type(model)})
    if not clone.built and model.built and model._build_input_shape is not None:
        clone.build(model._build_input_shape)
    return clone


def _wrap(clone_function: Callable[[Any], Any] | None, call_function: Callable[..., Any] | None, recursive: bool,
          cache: dict[int, Any]) -> Callable[[Any], Any]:
    """clone_function (by default `layer.__class__.from_config(layer.get_config())`) applied once per layer;
    with `recursive`, nested Sequential and Functional models are cloned by `clone_model` itself."""
    base = clone_function or (lambda layer: layer.__class__.from_config(layer.get_config()))

    def clone(layer: Any) -> Any:
        if id(layer) not in cache:
            if recursive and isinstance(layer, Sequential):
                cache[id(layer)] = _clone_sequential(layer, clone, None)
            elif recursive and isinstance(layer, Model) and layer._graph is not None:
                cache[id(layer)] = _clone_functional(layer, clone, call_function, None)
            else:
                cache[id(layer)] = base(layer)
        return cache[id(layer)]

    return clone


def _clone_sequential(model: Sequential, clone: Callable[[Any], Any], input_tensors: Any) -> Sequential:
    layers: list[Any] = [clone(layer) for layer in model.layers]
    source = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(f"clone_model: `input_tensors` must hold a single tensor for Sequential model "
                                 f"'{model.name}'; received {len(input_tensors)}")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor) or not isinstance(input_tensors.node.layer, InputLayer):
            raise ValueError(f"clone_model: `input_tensors` of Sequential model '{model.name}' must be a symbolic "
                             f"tensor made by keras.Input(...); received {input_tensors!r}")
        layers.insert(0, input_tensors)
    elif source is not None:
        out = source.output
        layers.insert(0, Input(batch_shape=out.shape, dtype=out.dtype, name=source.name))
    return _compiled_like(model, Sequential(layers, name=model.name, trainable=model.trainable))


def _clone_functional(model: Model, clone: Callable[[Any], Any], call_function: Callable[..., Any] | None,
                      input_tensors: Any) -> Model:
    graph = model._graph
    if input_tensors is None:
        input_tensors = map_structure(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.node.layer.name), graph.input_struct)
    given = flatten(input_tensors)
    if not all(isinstance(t, KerasTensor) for t in given):
        raise ValueError(f"clone_model: every entry of `input_tensors` must be a symbolic tensor (keras.Input); "
                         f"received {input_tensors!r}")
    if len(given) != len(graph.inputs):
        raise ValueError(f"clone_model: `input_tensors` must have the structure of model.input of model "
                         f"'{model.name}' ({len(graph.inputs)} tensor(s)); received {len(given)}")
    new: dict[int, Any] = {id(old): t for old, t in zip(graph.inputs, given)}

    def swap(x: Any) -> Any:
        return new[id(x)] if isinstance(x, KerasTensor) else x

    for node in graph.nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = clone(node.layer)
        inputs, args, kwargs = (map_structure(swap, node.inputs), map_structure(swap, node.args),
                                map_structure(swap, node.kwargs))
        out = (call_function(layer, inputs, *args, **kwargs) if call_function is not None
               else layer(inputs, *args, **kwargs))
        for old, t in zip(node.outputs, flatten(out)):
            new[id(old)] = t
    outputs = map_structure(swap, graph.output_struct)
    cls = type(model) if _functional_like(type(model)) else Functional
    return _compiled_like(model, cls(input_tensors, outputs, name=model.name))


def _functional_like(cls: type) -> bool:
    """Whether the class is made as `cls(inputs, outputs, name=...)`, as Keras's `functional_like_constructor`."""
    if issubclass(cls, Functional):
        return True
    params = list(inspect.signature(cls.__init__).parameters)[1:3]
    return params == ["inputs", "outputs"]


def _compiled_like(model: Model, clone: Model) -> Model:
    if model.compiled:
        clone.compile_from_config(model.get_compile_config())
    return clone
