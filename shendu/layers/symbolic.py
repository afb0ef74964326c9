"""Symbolic tensors for the functional API: calling a layer on a `KerasTensor` records a graph node."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend, grad_mode
from shendu.utils.tree import flatten, is_shape_tuple, map_shape_structure, map_structure

Shape = tuple[int | None, ...]


class KerasTensor:
    """A placeholder with a shape (batch axis None) and dtype; it remembers which layer made it."""

    def __init__(self, shape: Shape, dtype: Any = None, name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self.name = name
        self.node: Node | None = None  # the call that produced it
        self.index = 0  # which output of that call

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} dtype={self.dtype.name} name={self.name}>"


class Node:
    """One call of a layer on symbolic inputs: the inputs, the extra arguments, the outputs."""

    def __init__(self, layer: Any, inputs: Any, args: tuple, kwargs: dict, outputs: list[KerasTensor]) -> None:
        self.layer, self.inputs, self.args, self.kwargs, self.outputs = layer, inputs, args, kwargs, outputs

    @property
    def input_tensors(self) -> list[KerasTensor]:
        return flatten(self.inputs)

    @property
    def input_shapes(self) -> Any:
        return map_structure(lambda t: t.shape, self.inputs)

    @property
    def output_shapes(self) -> Any:
        return self.outputs[0].shape if len(self.outputs) == 1 else [t.shape for t in self.outputs]


def call_symbolic(layer: Any, inputs: Any, args: tuple, kwargs: dict) -> Any:
    """Build the layer for the symbolic inputs, infer the outputs' shapes, and record the node."""
    shapes = map_structure(lambda t: t.shape, inputs)
    if not layer.built:
        with grad_mode.no_grad():
            layer.build(shapes)
        layer.built = True
    if type(layer).compute_output_shape is _base_compute_output_shape():
        out_shapes, out_dtypes = _trace(layer, inputs, args, kwargs)
    else:
        out_shapes = layer.compute_output_shape(shapes)
        out_dtypes = None
    single = is_shape_tuple(out_shapes)
    shape_list = [tuple(out_shapes)] if single else [tuple(s) for s in out_shapes]
    dtypes = out_dtypes or [layer.dtype] * len(shape_list)
    outputs = [KerasTensor(s, d, name=f"{layer.name}/output_{i}") for i, (s, d) in enumerate(zip(shape_list, dtypes))]
    node = Node(layer, inputs, args, kwargs, outputs)
    for i, t in enumerate(outputs):
        t.node, t.index = node, i
    layer._inbound_nodes.append(node)
    return outputs[0] if single else outputs


def _base_compute_output_shape() -> Any:
    from shendu.layers.base import Layer

    return Layer.compute_output_shape


def _trace(layer: Any, inputs: Any, args: tuple, kwargs: dict) -> tuple[Any, list[Any]]:
    """Run the layer on zeros twice, with unknown axes set to 2 then 3; axes that change are None."""
    runs = []
    for fill in (2, 3):
        arrays = map_structure(lambda t, fill=fill: _zeros(t.shape, t.dtype, fill), inputs)
        with grad_mode.no_grad():
            out = layer.call(_as_tensors(arrays), *args, **_call_kwargs(layer, kwargs))
        runs.append(flatten(out))
    shapes = []
    for a, b in zip(*runs):
        shapes.append(tuple(None if x != y else x for x, y in zip(a.shape, b.shape)))
    dtypes = [t.dtype for t in runs[0]]
    return (shapes[0] if len(shapes) == 1 else shapes), dtypes


def trace_output_shape(layer: Any, input_shape: Any) -> Any:
    """The output shape of `layer` for `input_shape`, found by running it on zeros (float inputs)."""
    inputs = map_shape_structure(KerasTensor, input_shape)
    return _trace(layer, inputs, (), {})[0]


def _zeros(shape: Shape, dtype: Any, fill: int) -> np.ndarray:
    return np.zeros([fill if d is None else d for d in shape], dtype=dtype)


def _as_tensors(x: Any) -> Any:
    from shendu.layers.base import to_tensor

    return to_tensor(x)


def _call_kwargs(layer: Any, kwargs: dict) -> dict:
    out = dict(kwargs)
    if layer._accepts("training"):
        out.setdefault("training", False)
    else:
        out.pop("training", None)
    return out
