"""Symbolic tensors for the functional API: calling a layer on a `KerasTensor` records a graph node."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend, grad_mode
from shendu.tensor_shape import TensorShape
from shendu.utils.tree import flatten, is_shape_tuple, map_shape_structure, map_structure

Shape = tuple[int | None, ...]


class KerasTensor:
    """A placeholder with a shape (batch axis None) and dtype; it remembers which layer made it.

    Operators (`x + 1`, `x * y`, `-x`, `x[:, 0]`, `x @ w`, `x < y`) and tf.* functions on it build TFOpLambda layers;
    using it as a value (`float(x)`, `np.asarray(x)`, `bool(x)`) raises a TypeError saying it is symbolic."""

    __array_ufunc__ = None  # `ndarray * x` calls x.__rmul__ instead of making an object array

    def __init__(self, shape: Shape, dtype: Any = None, name: str | None = None) -> None:
        self.shape = TensorShape(shape)
        self.dtype = np.dtype(dtype) if dtype is not None else backend.floatx()
        self.name = name
        self.node: Node | None = None  # the call that produced it
        self.index = 0  # which output of that call

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} dtype={self.dtype.name} name={self.name}>"

    # --- operators: each builds a TFOpLambda layer ---------------------------------------------------
    def _op(self, name: str, *args: Any) -> Any:
        from shendu.layers.op_layer import apply_operator

        return apply_operator(name, *args)

    def __add__(self, other: Any) -> Any:
        return self._op("add", self, other)

    def __radd__(self, other: Any) -> Any:
        return self._op("add", other, self)

    def __sub__(self, other: Any) -> Any:
        return self._op("sub", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._op("sub", other, self)

    def __mul__(self, other: Any) -> Any:
        return self._op("mul", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._op("mul", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._op("truediv", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._op("truediv", other, self)

    def __floordiv__(self, other: Any) -> Any:
        return self._op("floordiv", self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return self._op("floordiv", other, self)

    def __mod__(self, other: Any) -> Any:
        return self._op("mod", self, other)

    def __rmod__(self, other: Any) -> Any:
        return self._op("mod", other, self)

    def __pow__(self, other: Any) -> Any:
        return self._op("pow", self, other)

    def __rpow__(self, other: Any) -> Any:
        return self._op("pow", other, self)

    def __matmul__(self, other: Any) -> Any:
        return self._op("matmul", self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return self._op("matmul", other, self)

    def __and__(self, other: Any) -> Any:
        return self._op("and", self, other)

    def __or__(self, other: Any) -> Any:
        return self._op("or", self, other)

    def __xor__(self, other: Any) -> Any:
        return self._op("xor", self, other)

    def __lt__(self, other: Any) -> Any:
        return self._op("lt", self, other)

    def __le__(self, other: Any) -> Any:
        return self._op("le", self, other)

    def __gt__(self, other: Any) -> Any:
        return self._op("gt", self, other)

    def __ge__(self, other: Any) -> Any:
        return self._op("ge", self, other)

    def __neg__(self) -> Any:
        return self._op("neg", self)

    def __pos__(self) -> Any:
        return self._op("pos", self)

    def __invert__(self) -> Any:
        return self._op("invert", self)

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", self, *(key if isinstance(key, tuple) else (key,)))

    # --- a symbolic tensor has no values ------------------------------------------------------------
    def _no_value(self, use: str) -> TypeError:
        return TypeError(
            f"A symbolic tensor (KerasTensor '{self.name}', shape={self.shape}, dtype={self.dtype.name}) was used "
            f"where a value was expected ({use}). It is a placeholder for the inputs of a functional model and has "
            "no values: apply layers, tf.* functions or operators to it, and call the model on data for values."
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise self._no_value("converted to a NumPy array")

    def __float__(self) -> float:
        raise self._no_value("float()")

    def __int__(self) -> int:
        raise self._no_value("int()")

    def __index__(self) -> int:
        raise self._no_value("used as an index")

    def __bool__(self) -> bool:
        raise self._no_value("bool(): a condition")

    def __len__(self) -> int:
        raise self._no_value("len()")

    def __iter__(self) -> Any:
        raise self._no_value("iterated over")

    def numpy(self) -> np.ndarray:
        """Raise: a symbolic tensor has no values."""
        raise self._no_value(".numpy()")


class Node:
    """One call of a layer on symbolic inputs: the inputs, the extra arguments, the outputs."""

    def __init__(self, layer: Any, inputs: Any, args: tuple, kwargs: dict, outputs: list[KerasTensor]) -> None:
        self.layer, self.inputs, self.args, self.kwargs, self.outputs = layer, inputs, args, kwargs, outputs

    @property
    def input_tensors(self) -> list[KerasTensor]:
        """Every symbolic tensor the call reads: in its inputs, then in its other arguments (`x * y`'s y)."""
        found = flatten(self.inputs) + flatten(list(self.args)) + flatten(list(self.kwargs.values()))
        return [t for t in found if isinstance(t, KerasTensor)]

    @property
    def input_shapes(self) -> Any:
        return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, self.inputs)

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
    if type(layer).compute_output_shape is _base_compute_output_shape() or getattr(layer, "_traces_output", False):
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
        def sample(v: Any, fill: int = fill) -> Any:  # a KerasTensor among the other arguments gets zeros too
            return _as_tensors(_zeros(v.shape, v.dtype, fill)) if isinstance(v, KerasTensor) else v

        arrays = map_structure(lambda t, fill=fill: _zeros(t.shape, t.dtype, fill), inputs)
        more_args, more_kwargs = map_structure(sample, list(args)), map_structure(sample, kwargs)
        with grad_mode.no_grad():
            out = layer.call(_as_tensors(arrays), *more_args, **_call_kwargs(layer, more_kwargs))
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
