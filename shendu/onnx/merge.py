"""The merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot."""

from __future__ import annotations

from shendu.layers.merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from shendu.onnx.graph import Call, OnnxGraph
from shendu.onnx.registry import converts

_OPS = {Add: "Sum", Maximum: "Max", Minimum: "Min", Average: "Mean"}


def _aligned(g: OnnxGraph, call: Call) -> list[str]:
    """The inputs, those of lower rank given length-1 axes after the batch (as Keras's merges broadcast)."""
    rank = max(v.ndim for v in call.inputs)
    return [v.name if v.ndim == rank else g.unsqueeze(v.name, list(range(1, 1 + rank - v.ndim)),
                                                      f"{call.layer.name}/expand") for v in call.inputs]


def _or_masks(g: OnnxGraph, call: Call) -> None:
    """m1 | m2 | ... when every input carries a mask (Keras's merge mask), else none."""
    masks = [v.mask for v in call.inputs]
    if any(m is None for m in masks):
        call.masks = [None]
        return
    out = masks[0]
    for m in masks[1:]:
        out = g.op("Or", [out, m], f"{call.layer.name}/mask")
    call.masks = [out]


@converts(Add, Maximum, Minimum, Average)
def _variadic(g: OnnxGraph, call: Call) -> str:
    _or_masks(g, call)
    return g.op(_OPS[type(call.layer)], _aligned(g, call), call.layer.name)


@converts(Subtract)
def _subtract(g: OnnxGraph, call: Call) -> str:
    _or_masks(g, call)
    return g.op("Sub", _aligned(g, call), call.layer.name)


@converts(Multiply)
def _multiply(g: OnnxGraph, call: Call) -> str:
    _or_masks(g, call)
    names = _aligned(g, call)
    out = names[0]
    for i, name in enumerate(names[1:]):
        out = g.op("Mul", [out, name], call.layer.name if i == len(names) - 2 else f"{call.layer.name}/partial")
    return out


@converts(Concatenate)
def _concatenate(g: OnnxGraph, call: Call) -> str:
    """Concat along axis; the mask, when an input has one, is any() over the joined masks (Keras's rule)."""
    layer = call.layer
    out = g.op("Concat", [v.name for v in call.inputs], layer.name, axis=layer.axis)
    call.masks = [_concat_mask(g, call) if any(v.mask for v in call.inputs) else None]
    return out


def _concat_mask(g: OnnxGraph, call: Call) -> str:
    hint, parts = f"{call.layer.name}/mask", []
    for v in call.inputs:
        if v.mask is None:
            ones = g.op("Shape", [v.name], f"{hint}/shape")
            parts.append(g.op("ConstantOfShape", [ones], f"{hint}/ones",
                              value=g.helper.make_tensor("one", 9, [1], [True])))
        else:
            shape = g.op("Shape", [v.name], f"{hint}/shape")  # a (batch, steps) mask spread over the features
            parts.append(g.op("Expand", [g.unsqueeze(v.mask, [-1], f"{hint}/unsq"), shape], f"{hint}/expand"))
    joined = g.op("Concat", parts, f"{hint}/joined", axis=call.layer.axis)
    any_f = g.reduce("ReduceMax", g.cast(joined, "float32", f"{hint}/as_f"), [-1], f"{hint}/any", keepdims=False)
    return g.cast(any_f, "bool", hint)


@converts(Dot)
def _dot(g: OnnxGraph, call: Call) -> str:
    """Keras's batch_dot as one Einsum (L2-normalized first with normalize=True)."""
    layer = call.layer
    (a, b), names = call.inputs, [v.name for v in call.inputs]
    ax, ay = layer.axes[0] % a.ndim, layer.axes[1] % b.ndim
    if layer.normalize:
        names = [_l2_normalize(g, n, axis, f"{layer.name}/normalize{i}") for i, (n, axis) in
                 enumerate(zip(names, (ax, ay)))]
    letters = "bcdefghijklmnopqrstuvwxyz"
    sx = "a" + letters[:a.ndim - 1]
    sy = ["a", *letters[a.ndim - 1:a.ndim + b.ndim - 2]]
    sy[ay] = sx[ax]
    sy = "".join(sy)
    out = sx.replace(sx[ax], "") + sy[1:].replace(sx[ax], "")
    z = g.op("Einsum", names, f"{layer.name}/einsum", equation=f"{sx},{sy}->{out}")
    return z if len(out) > 1 else g.unsqueeze(z, [1], layer.name)


def _l2_normalize(g: OnnxGraph, x: str, axis: int, hint: str) -> str:
    """x / sqrt(max(sum(x^2, axis), 1e-12))."""
    sq = g.reduce("ReduceSum", g.op("Mul", [x, x], f"{hint}/sq"), [axis], f"{hint}/sum")
    norm = g.op("Sqrt", [g.op("Max", [sq, g.const(1e-12, f"{hint}/eps")], f"{hint}/clamped")], f"{hint}/norm")
    return g.op("Div", [x, norm], hint)
