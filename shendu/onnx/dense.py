"""Dense, Embedding, Masking and the layers that are the identity at inference (Dropout and the noise layers)."""

from __future__ import annotations

from shendu.layers.core import Dense, Dropout
from shendu.layers.embedding import Embedding, Masking
from shendu.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from shendu.onnx.activations import apply_activation
from shendu.onnx.graph import Call, OnnxGraph, weight
from shendu.onnx.registry import converts


@converts(Dense)
def _dense(g: OnnxGraph, call: Call) -> str:
    """activation(x @ kernel + bias) on the last axis (MatMul broadcasts over the leading axes)."""
    layer, x = call.layer, call.x.name
    if call.x.dtype != g.float:
        x = g.cast(x, g.float, f"{layer.name}/cast")
    bias = weight(layer.bias) if layer.bias is not None else None
    y = g.matmul_add(x, weight(layer.kernel), bias, layer.name)
    return apply_activation(g, y, layer.activation, layer.name, call.who())


@converts(Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, GaussianNoise, GaussianDropout,
          ActivityRegularization)
def _identity(g: OnnxGraph, call: Call) -> str:
    """Inference: these layers pass their inputs unchanged."""
    return g.op("Identity", [call.x.name], call.layer.name)


def embed(g: OnnxGraph, ids: str, table: str, hint: str) -> str:
    """table[ids] (ids cast to int64, as ONNX's Gather takes any integer type but the inputs may be float)."""
    return g.op("Gather", [table, g.cast(ids, "int64", f"{hint}/ids")], hint, axis=0)


def zero_mask(g: OnnxGraph, ids: str, hint: str) -> str:
    """ids != 0, the mask of Embedding(mask_zero=True)."""
    zero = g.const(0, f"{hint}/zero", "int64")
    return g.op("Not", [g.op("Equal", [g.cast(ids, "int64", f"{hint}/mask_ids"), zero], f"{hint}/is_pad")],
                f"{hint}/mask")


@converts(Embedding)
def _embedding(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    out = embed(g, call.x.name, g.const(weight(layer.embeddings), f"{layer.name}/embeddings"), layer.name)
    call.masks = [zero_mask(g, call.x.name, layer.name) if layer.mask_zero else None]
    return out


@converts(Masking)
def _masking(g: OnnxGraph, call: Call) -> str:
    """Steps whose features all equal mask_value become 0; the mask is any(x != mask_value) over the features."""
    layer, x = call.layer, call.x.name
    differs = g.op("Not", [g.op("Equal", [x, g.const(layer.mask_value, f"{layer.name}/value")],
                                f"{layer.name}/equal")], f"{layer.name}/differs")
    keep = g.op("Cast", [differs], f"{layer.name}/keep_f", to=g.helper.np_dtype_to_tensor_dtype(g.float))
    mask_f = g.reduce("ReduceMax", keep, [-1], f"{layer.name}/any", keepdims=True)
    call.masks = [g.op("Cast", [g.squeeze(mask_f, [-1], f"{layer.name}/mask_f")], f"{layer.name}/mask", to=9)]
    return g.op("Mul", [x, mask_f], layer.name)
