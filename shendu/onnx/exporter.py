"""`export(model, path)`: a Sequential or functional model (nested models included) as an ONNX file that ONNX
Runtime runs, with a dynamic batch axis. The model's graph of layer calls is walked in order and each layer is
converted by the function registered for its class (see `registry.py` and the files beside it)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from shendu.onnx.graph import Call, OnnxGraph, Value
from shendu.onnx.registry import CONVERTERS, ExportError

DEFAULT_OPSET = 17  # ONNX 1.12 (2022): run by every ONNX Runtime since 1.12, including 1.2x and 1.3x
MIN_OPSET = 14  # HardSwish, and Reshape/Trilu-era semantics the converters rely on


def require_onnx() -> Any:
    """The onnx package, or an ImportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'shendu[onnx]'") from None
    return onnx


def _load_converters() -> None:
    """Import the converter modules (each registers its layers)."""
    from shendu.onnx import (  # noqa: F401
        activations,
        attention,
        conv,
        dense,
        merge,
        normalization,
        pooling,
        preprocessing,
        quantized,
        recurrent,
        reshaping,
    )


def export(model: Any, path: str | os.PathLike[str], opset: int = DEFAULT_OPSET,
           input_signature: Any = None) -> None:
    """Write `model` to `path` as an ONNX model (checked by `onnx.checker`), atomically.

    input_signature: optional, one shape or `TensorSpec` per model input (batch axis included; None for a
    dynamic axis) to fix sizes the model leaves open. The batch axis is dynamic unless given."""
    from shendu.saving.file_utils import atomic_write

    proto = to_onnx(model, opset=opset, input_signature=input_signature)
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(proto.SerializeToString())


def to_onnx(model: Any, opset: int = DEFAULT_OPSET, input_signature: Any = None) -> Any:
    """The ONNX ModelProto of `model` (what `export` writes), checked with `onnx.checker.check_model`."""
    onnx = require_onnx()
    from shendu import __version__
    from shendu.models.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"ONNX export: expected a shendu Model, got {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, (int, np.integer)) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"ONNX export: opset must be an integer from {MIN_OPSET} to {newest} (the newest this onnx "
                         f"package knows), got {opset!r}")
    _load_converters()
    inputs, _, outputs = _graph_of(model)
    g = OnnxGraph(onnx, int(opset), _float_dtype(model))
    specs = _signature(model, inputs, input_signature)
    graph_inputs, values = [], []
    for t, name, shape in zip(inputs, model.input_names, specs):
        if t.dtype.kind not in "biuf":
            raise ExportError(f"ONNX export: input '{name}' has dtype {t.dtype}; the export takes numeric inputs "
                              "(turn text into ids before the model)")
        g.reserve(name)
        dims = ["batch" if i == 0 and d is None else (f"{name}_dim{i}" if d is None else int(d))
                for i, d in enumerate(shape)]
        graph_inputs.append(onnx.helper.make_tensor_value_info(name, _elem(onnx, t.dtype), dims))
        values.append(Value(name, tuple(shape), t.dtype))
    results = convert_model(g, model, values)
    graph_outputs = []
    for name, t, v in zip(_unique(model.output_names or ["output"] * len(outputs)), outputs, results):
        out = g.fresh(name)
        g.nodes.append(onnx.helper.make_node("Identity", [v.name], [out], name=g.fresh(f"{out}/output")))
        dtype = g.float if t.dtype.kind == "f" else t.dtype
        dims = ["batch" if i == 0 else (None if d is None else int(d)) for i, d in enumerate(t.shape)]
        graph_outputs.append(onnx.helper.make_tensor_value_info(out, _elem(onnx, dtype), dims))
    graph = onnx.helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs, initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", int(opset))]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="shendu",
                                   producer_version=__version__,
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def convert_model(g: OnnxGraph, model: Any, inputs: list[Value]) -> list[Value]:
    """The outputs of `model` applied to `inputs`, adding its layers' nodes to g (a nested model recursively)."""
    from shendu.models.model import Model

    model_inputs, nodes, model_outputs = _graph_of(model)
    if len(inputs) != len(model_inputs):
        raise ExportError(f"ONNX export: model '{model.name}' takes {len(model_inputs)} input(s), got {len(inputs)}")
    values: dict[int, Value] = {id(t): v for t, v in zip(model_inputs, inputs)}

    def resolve(x: Any) -> Any:
        from shendu.layers.symbolic import KerasTensor
        from shendu.utils.tree import map_structure

        return map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, x)

    for node in nodes:
        layer = node.layer
        flat = [v for v in _flat(resolve(node.inputs)) + _flat(resolve(list(node.args))) if isinstance(v, Value)]
        if isinstance(layer, Model):
            outs = convert_model(g, layer, flat)
        else:
            outs = _convert_layer(g, layer, flat, {k: resolve(v) for k, v in node.kwargs.items()}, node.outputs)
        for t, v in zip(node.outputs, outs):
            values[id(t)] = v
    return [values[id(t)] for t in model_outputs]


def _convert_layer(g: OnnxGraph, layer: Any, inputs: list[Value], kwargs: dict[str, Any],
                   outputs: list[Any]) -> list[Value]:
    converter = CONVERTERS.get(type(layer))
    if converter is None:
        known = sorted({cls.__name__ for cls in CONVERTERS})
        raise ExportError(f"ONNX export: layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX; "
                          f"the layers it knows are {', '.join(known)}")
    call = Call(layer, inputs, kwargs, outputs)
    names = converter(g, call)
    names = [names] if isinstance(names, str) else list(names)
    masks = call.masks
    if masks is None:
        passes = layer.supports_masking and len(inputs) == 1 and len(names) == 1
        masks = [inputs[0].mask if passes else None] * len(names)
    return [Value(n, t.shape, g.float if t.dtype.kind == "f" else t.dtype, m)
            for n, t, m in zip(names, outputs, masks)]


def _graph_of(model: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """(input tensors, layer-call nodes in running order, output tensors) of a Sequential or functional model."""
    from shendu.layers.input_layer import InputLayer
    from shendu.models.sequential import Sequential

    if isinstance(model, Sequential):
        chain = model._chain
        if not chain or len(chain) < 2:
            raise ExportError(f"ONNX export: Sequential '{model.name}' is not built; give it an Input or call it on "
                              "data (or model.build(input_shape)) first")
        return [chain[0]], [t.node for t in chain[1:]], [chain[-1]]
    graph = model._graph
    if graph is None:
        raise ExportError(f"ONNX export: model '{model.name}' ({type(model).__name__}) is a subclassed model, whose "
                          "call() is Python code; build it as Sequential or Model(inputs, outputs) to export it")
    return list(graph.inputs), [n for n in graph.nodes if not isinstance(n.layer, InputLayer)], list(graph.outputs)


def _signature(model: Any, inputs: list[Any], signature: Any) -> list[tuple]:
    """The shape of each input: the model's, or the one input_signature gives."""
    if signature is None:
        return [tuple(t.shape) for t in inputs]
    specs = list(signature) if isinstance(signature, (list, tuple)) and signature and not isinstance(
        signature[0], (int, type(None))) else [signature]
    if len(specs) != len(inputs):
        raise ValueError(f"ONNX export: input_signature has {len(specs)} entries; model '{model.name}' has "
                         f"{len(inputs)} input(s)")
    shapes = []
    for spec, t, name in zip(specs, inputs, model.input_names):
        shape = tuple(getattr(spec, "shape", spec))
        if len(shape) != len(t.shape) or any(a is not None and b is not None and a != b
                                             for a, b in zip(shape, t.shape)):
            raise ValueError(f"ONNX export: input_signature shape {shape} does not fit input '{name}' of shape "
                             f"{tuple(t.shape)}")
        shapes.append(tuple(b if a is None else a for a, b in zip(shape, t.shape)))
    return shapes


def _flat(x: Any) -> list[Any]:
    from shendu.utils.tree import flatten

    return flatten(x)


def _float_dtype(model: Any) -> np.dtype:
    from shendu import backend

    for w in model.weights:
        dtype = np.asarray(getattr(w, "data", w)).dtype
        if dtype.kind == "f":
            return dtype
    return np.dtype(backend.floatx())


def _elem(onnx: Any, dtype: Any) -> int:
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name] - 1}")
    return out
