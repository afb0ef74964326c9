"""The ONNX graph under construction: nodes, constant initializers, unique names and the small op helpers the
layer converters share (Keras's channels-last layouts, ONNX's opset differences in one place)."""

from __future__ import annotations

from typing import Any

import numpy as np


class Value:
    """A tensor of the graph being built: its ONNX name, Keras shape (batch None), dtype and Keras mask (the
    name of a bool (batch, steps) tensor, or None)."""

    __slots__ = ("name", "shape", "dtype", "mask")

    def __init__(self, name: str, shape: tuple, dtype: Any, mask: str | None = None) -> None:
        self.name, self.shape, self.dtype, self.mask = name, tuple(shape), np.dtype(dtype), mask

    @property
    def ndim(self) -> int:
        return len(self.shape)


class Call:
    """One layer call to convert: the layer, its inputs (Values, flattened), the other arguments with their
    symbolic tensors replaced by Values, and the Keras shapes of its outputs. A converter that decides the
    output masks sets `masks` (one per output); otherwise a layer that supports masking passes its input's on."""

    def __init__(self, layer: Any, inputs: list[Value], kwargs: dict[str, Any], outputs: list[Any]) -> None:
        self.layer, self.inputs, self.kwargs, self.outputs = layer, inputs, kwargs, outputs
        self.masks: list[str | None] | None = None

    @property
    def x(self) -> Value:
        """The single input."""
        return self.inputs[0]

    @property
    def out_shape(self) -> tuple:
        return tuple(self.outputs[0].shape)

    def who(self) -> str:
        return f"layer '{self.layer.name}' ({type(self.layer).__name__})"


class OnnxGraph:
    """Collects nodes and initializers; `op` adds a node and returns its output name(s)."""

    def __init__(self, onnx: Any, opset: int, float_dtype: Any) -> None:
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.float = np.dtype(float_dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()

    def fresh(self, hint: str) -> str:
        """A name not used yet, from `hint`."""
        base = "".join(c if c.isalnum() or c in "_./:-" else "_" for c in hint) or "t"
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._names.add(name)

    def const(self, value: Any, hint: str = "const", dtype: Any = None) -> str:
        """A constant initializer (floats in the model's float dtype unless `dtype` is given)."""
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f":
            arr = arr.astype(self.float)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def ints(self, values: Any, hint: str = "ints") -> str:
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint, np.int64)

    def op(self, op_type: str, inputs: list[str | None], hint: str, outputs: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name, or the list of names when `outputs` > 1. An input None is
        an omitted optional input (an empty name)."""
        names = [self.fresh(hint if outputs == 1 else f"{hint}_{i}") for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, ["" if i is None else i for i in inputs], names,
                                                name=self.fresh(f"{hint}/{op_type}"), **attrs))
        return names[0] if outputs == 1 else names

    # --- helpers over opset differences -----------------------------------------------------------------
    def reduce(self, kind: str, x: str, axes: Any, hint: str, keepdims: bool = True) -> str:
        """ReduceSum/Mean/Max/Min over `axes` (an input from opset 13 for Sum and 18 for the others)."""
        axes = [int(a) for a in axes]
        if kind == "ReduceSum" or self.opset >= 18:
            return self.op(kind, [x, self.ints(axes, f"{hint}/axes")], hint, keepdims=int(keepdims))
        return self.op(kind, [x], hint, axes=axes, keepdims=int(keepdims))

    def transpose(self, x: str, perm: Any, hint: str) -> str:
        return self.op("Transpose", [x], hint, perm=[int(p) for p in perm])

    def reshape(self, x: str, shape: Any, hint: str) -> str:
        """Reshape to `shape`, where 0 keeps that axis of the input (the batch) and -1 is inferred."""
        return self.op("Reshape", [x, self.ints(shape, f"{hint}/shape")], hint)

    def unsqueeze(self, x: str, axes: Any, hint: str) -> str:
        return self.op("Unsqueeze", [x, self.ints(axes, f"{hint}/axes")], hint)

    def squeeze(self, x: str, axes: Any, hint: str) -> str:
        return self.op("Squeeze", [x, self.ints(axes, f"{hint}/axes")], hint)

    def slice(self, x: str, starts: Any, ends: Any, axes: Any, hint: str, steps: Any = None) -> str:
        inputs = [x, self.ints(starts, f"{hint}/starts"), self.ints(ends, f"{hint}/ends"),
                  self.ints(axes, f"{hint}/axes")]
        if steps is not None:
            inputs.append(self.ints(steps, f"{hint}/steps"))
        return self.op("Slice", inputs, hint)

    def reverse(self, x: str, axis: int, hint: str) -> str:
        """x with `axis` read backwards (a Slice with step -1, so the length may be unknown)."""
        return self.slice(x, [-1], [-(2 ** 63)], [axis], hint, steps=[-1])

    def cast(self, x: str, dtype: Any, hint: str) -> str:
        return self.op("Cast", [x], hint, to=self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def matmul_add(self, x: str, kernel: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
        """x @ kernel (+ bias) on the last axis, for inputs of any rank."""
        y = self.op("MatMul", [x, self.const(kernel, f"{hint}/kernel")], f"{hint}/matmul")
        return y if bias is None else self.op("Add", [y, self.const(bias, f"{hint}/bias")], f"{hint}/bias_add")

    def to_channels_first(self, x: str, rank: int, hint: str) -> str:
        """(batch, *spatial, channels) -> (batch, channels, *spatial), ONNX's layout for Conv and pooling."""
        return self.transpose(x, [0, rank + 1, *range(1, rank + 1)], f"{hint}/to_nchw")

    def to_channels_last(self, x: str, rank: int, hint: str) -> str:
        return self.transpose(x, [0, *range(2, rank + 2), 1], f"{hint}/to_nhwc")


def weight(tensor: Any) -> np.ndarray:
    """The NumPy array of a layer weight (a Tensor/Variable or an array)."""
    return np.asarray(getattr(tensor, "data", tensor))
