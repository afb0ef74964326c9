"""MultiHeadAttention as MatMul/Softmax (its masks as an additive -1e9 bias), and the Transformer blocks built
on it: TransformerEncoder, TokenAndPositionEmbedding and PositionEmbedding."""

from __future__ import annotations

import math
from typing import Any

from shendu.layers.attention import MultiHeadAttention
from shendu.layers.transformer import PositionEmbedding, TokenAndPositionEmbedding, TransformerEncoder
from shendu.onnx.dense import _dense, embed, zero_mask
from shendu.onnx.graph import Call, OnnxGraph, Value, weight
from shendu.onnx.normalization import _layer_norm
from shendu.onnx.registry import ExportError, converts
from shendu.ops.attention import MASK_NEGATIVE


def _project(g: OnnxGraph, layer: Any, x: str, name: str, hint: str) -> str:
    """x (B, steps, dim) @ kernel (dim, H, d) + bias -> (B, H, steps, d)."""
    kernel, bias = weight(getattr(layer, f"{name}_kernel")), getattr(layer, f"{name}_bias")
    dim, heads, d = kernel.shape
    y = g.matmul_add(x, kernel.reshape(dim, heads * d), None if bias is None else weight(bias).reshape(-1),
                     f"{hint}/{name}")
    return g.transpose(g.reshape(y, [0, -1, heads, d], f"{hint}/{name}_heads"), [0, 2, 1, 3], f"{hint}/{name}_bhtd")


def _and(g: OnnxGraph, a: str | None, b: str, hint: str) -> str:
    return b if a is None else g.op("And", [a, b], hint)


def _causal(g: OnnxGraph, q: str, k: str, hint: str) -> str:
    """(1, T, S) lower-triangular: query step i sees key steps j <= i."""
    def index(x: str, name: str) -> str:
        n = g.squeeze(g.slice(g.op("Shape", [x], f"{hint}/{name}_shape"), [1], [2], [0], f"{hint}/{name}_len"), [0],
                      f"{hint}/{name}_n")
        return g.op("Range", [g.const(0, f"{hint}/{name}_0", "int64"), n, g.const(1, f"{hint}/{name}_1", "int64")],
                    f"{hint}/{name}_range")
    rows = g.unsqueeze(index(q, "t"), [0, 2], f"{hint}/rows")
    cols = g.unsqueeze(index(k, "s"), [0, 1], f"{hint}/cols")
    return g.op("GreaterOrEqual", [rows, cols], f"{hint}/causal")


def attention(g: OnnxGraph, layer: Any, query: Value, value: Value, key: Value | None, mask: str | None,
              hint: str, who: str) -> str:
    """Keras's MultiHeadAttention on rank-3 inputs with a boolean (B or 1, T, S) mask (or None)."""
    if query.ndim != 3:
        raise ExportError(f"ONNX export: {who} has inputs of rank {query.ndim}; the export handles attention over "
                          "one axis (inputs (batch, steps, features))")
    q = _project(g, layer, query.name, "query", hint)
    k = _project(g, layer, (key or value).name, "key", hint)
    v = _project(g, layer, value.name, "value", hint)
    q = g.op("Mul", [q, g.const(1.0 / math.sqrt(float(layer.key_dim)), f"{hint}/scale")], f"{hint}/scaled_query")
    logits = g.op("MatMul", [q, g.transpose(k, [0, 1, 3, 2], f"{hint}/key_t")], f"{hint}/logits")
    if mask is not None:
        bias = g.op("Where", [mask, g.const(0.0, f"{hint}/attend"), g.const(-MASK_NEGATIVE, f"{hint}/masked")],
                    f"{hint}/mask_bias")
        logits = g.op("Add", [logits, g.unsqueeze(bias, [1], f"{hint}/mask_heads")], f"{hint}/masked_logits")
    heads = g.op("MatMul", [g.op("Softmax", [logits], f"{hint}/scores", axis=-1), v], f"{hint}/heads")
    kernel = weight(layer.attention_output_kernel)
    out_shape = kernel.shape[2:]
    width = math.prod(out_shape)
    bias = layer.attention_output_bias
    merged = g.reshape(g.transpose(heads, [0, 2, 1, 3], f"{hint}/bthd"), [0, 0, -1], f"{hint}/merged")
    y = g.matmul_add(merged, kernel.reshape(-1, width), None if bias is None else weight(bias).reshape(-1),
                     f"{hint}/output")
    return y if len(out_shape) == 1 else g.reshape(y, [0, 0, *out_shape], f"{hint}/output_shape")


def _as_bool(g: OnnxGraph, v: Any, hint: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, Value):
        raise ExportError(f"ONNX export: {hint}: a mask must be a symbolic input of the model, got {type(v).__name__}")
    return v.name if v.dtype == bool else g.cast(v.name, "bool", hint)


@converts(MultiHeadAttention)
def _multi_head_attention(g: OnnxGraph, call: Call) -> str:
    layer, kw, hint = call.layer, call.kwargs, call.layer.name
    if kw.get("return_attention_scores"):
        raise ExportError(f"ONNX export: {call.who()} is called with return_attention_scores=True; export a model "
                          "that uses only the attention output")
    query, value = call.inputs[0], call.inputs[1]
    key = call.inputs[2] if len(call.inputs) > 2 else None
    q_mask = _as_bool(g, kw.get("query_mask"), f"{hint}/query_mask") or query.mask
    v_mask = _as_bool(g, kw.get("value_mask"), f"{hint}/value_mask") or value.mask
    k_mask = _as_bool(g, kw.get("key_mask"), f"{hint}/key_mask") or (key.mask if key is not None and
                                                                     key.name != value.name else None)
    mask = None
    if q_mask is not None:
        mask = g.unsqueeze(q_mask, [2], f"{hint}/query_mask3")
    for m in (v_mask, k_mask):
        if m is not None:
            mask = _and(g, mask, g.unsqueeze(m, [1], f"{hint}/key_mask3"), f"{hint}/mask_and")
    if kw.get("use_causal_mask"):
        mask = _and(g, mask, _causal(g, query.name, (key or value).name, hint), f"{hint}/mask_causal")
    attention_mask = _as_bool(g, kw.get("attention_mask"), f"{hint}/attention_mask")
    if attention_mask is not None:
        mask = _and(g, mask, attention_mask, f"{hint}/mask_given")
    call.masks = [query.mask]
    return attention(g, layer, query, value, key, mask, hint, call.who())


def _sub(g: OnnxGraph, layer: Any, x: str, like: Value, converter: Any) -> str:
    """A sub-layer converted on x."""
    return converter(g, Call(layer, [Value(x, like.shape, like.dtype)], {}, []))


@converts(TransformerEncoder)
def _transformer_encoder(g: OnnxGraph, call: Call) -> str:
    """Post-norm: x = LN1(x + MHA(x, x)); y = LN2(x + FFN(x)) (pre-norm with normalize_first); padded tokens are
    hidden as keys only."""
    layer, x, hint, kw = call.layer, call.x, call.layer.name, call.kwargs
    padding = _as_bool(g, kw.get("padding_mask"), f"{hint}/padding_mask") or x.mask
    mask = None if padding is None else g.unsqueeze(padding, [1], f"{hint}/key_padding")
    given = _as_bool(g, kw.get("attention_mask"), f"{hint}/attention_mask")
    if given is not None:
        mask = _and(g, mask, given, f"{hint}/mask_and")
    h = x.name
    if layer.normalize_first:
        h = _sub(g, layer._self_attention_layer_norm, h, x, _layer_norm)
    h = attention(g, layer._self_attention_layer, Value(h, x.shape, x.dtype), Value(h, x.shape, x.dtype), None,
                  mask, f"{hint}/self_attention", call.who())
    h = g.op("Add", [h, x.name], f"{hint}/attention_residual")
    if not layer.normalize_first:
        h = _sub(g, layer._self_attention_layer_norm, h, x, _layer_norm)
    residual = h
    if layer.normalize_first:
        h = _sub(g, layer._feedforward_layer_norm, h, x, _layer_norm)
    inner = _sub(g, layer._feedforward_intermediate_dense, h, x, _dense)
    h = _sub(g, layer._feedforward_output_dense, inner, x, _dense)
    h = g.op("Add", [h, residual], f"{hint}/feedforward_residual")
    if not layer.normalize_first:
        h = _sub(g, layer._feedforward_layer_norm, h, x, _layer_norm)
    call.masks = [padding]
    return h


def _positions(g: OnnxGraph, table: Any, x: str, axis: int, start: int, hint: str) -> str:
    """table[start : start + steps], steps being axis `axis` of x."""
    n = g.slice(g.op("Shape", [x], f"{hint}/shape"), [axis], [axis + 1], [0], f"{hint}/steps")
    end = g.op("Add", [n, g.const([start], f"{hint}/start", "int64")], f"{hint}/end")
    return g.op("Slice", [g.const(weight(table), f"{hint}/embeddings"), g.ints([start], f"{hint}/begin"), end,
                          g.ints([0], f"{hint}/axes")], f"{hint}/positions")


@converts(TokenAndPositionEmbedding)
def _token_and_position(g: OnnxGraph, call: Call) -> str:
    layer, ids = call.layer, call.x.name
    start = int(call.kwargs.get("start_index", 0))
    tokens = embed(g, ids, g.const(weight(layer.token_embedding.embeddings), f"{layer.name}/token_embeddings"),
                   f"{layer.name}/tokens")
    positions = _positions(g, layer.position_embedding.position_embeddings, ids, 1, start, f"{layer.name}/position")
    call.masks = [zero_mask(g, ids, layer.name) if layer.mask_zero else None]
    return g.op("Add", [tokens, positions], layer.name)


@converts(PositionEmbedding)
def _position_embedding(g: OnnxGraph, call: Call) -> str:
    """The rows of the table for the inputs' steps, broadcast to the inputs' shape."""
    layer, x = call.layer, call.x
    start = int(call.kwargs.get("start_index", 0))
    rows = _positions(g, layer.position_embeddings, x.name, x.ndim - 2, start, layer.name)
    return g.op("Expand", [rows, g.op("Shape", [x.name], f"{layer.name}/shape")], f"{layer.name}/broadcast")

