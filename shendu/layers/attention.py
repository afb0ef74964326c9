"""Attention layers with Keras 3's arguments and weights: Attention (Luong), AdditiveAttention (Bahdanau) and
MultiHeadAttention (Vaswani et al. 2017)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import constraints, initializers, regularizers
from shendu import random as sd_random
from shendu.keras_mask import get_keras_mask, set_keras_mask
from shendu.layers.base import Layer, to_tensor
from shendu.ops import nn
from shendu.ops.attention import ScaledDotProductAttention, mask_bias
from shendu.tensor import Tensor


def _array(x: Any) -> Any:
    """A mask (Tensor, array, list or None) as a boolean array, or None."""
    if x is None:
        return None
    return np.asarray(x.data if isinstance(x, Tensor) else x).astype(bool)


def causal_mask(t: int, s: int) -> np.ndarray:
    """(1, t, s) boolean lower-triangular mask: position i may attend to positions j <= i, as Keras builds it."""
    return np.tril(np.ones((t, s), dtype=bool))[None]


def _and(a: Any, b: Any) -> Any:
    return b if a is None else a & b


def _unpack(items: Sequence[Any]) -> tuple[Any, Any, Any]:
    """[query, value] or [query, value, key] as (query, value, key or None)."""
    return items[0], items[1] if len(items) > 1 else None, items[2] if len(items) > 2 else None


def _rng(seed: int | None) -> np.random.Generator | None:
    return np.random.default_rng(seed) if seed is not None else None


class Attention(Layer):
    """Dot-product (Luong) attention: output = softmax(scores) @ value over the value steps.

    Inputs [query (B, Tq, dim), value (B, Tv, dim)] or [query, value, key (B, Tv, dim)] (key defaults to value).
    scores = query @ key^T (times a learned scalar `scale` when use_scale) for score_mode='dot', or
    concat_score_weight * sum(tanh(scale * (query_i + key_j))) for 'concat'. mask=[query_mask, value_mask]:
    masked value steps get -1e9 added to their scores; masked query steps give zero output.
    use_causal_mask lets step i attend only to steps j <= i. Dropout applies to the attention distribution.
    Without mask=, the Keras masks the inputs carry are used; the output carries the query's mask.
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__} '{self.name}': score_mode must be 'dot' or 'concat', "
                             f"got {score_mode!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': dropout must be in [0, 1), got {dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._rng = _rng(seed)
        self.scale: Tensor | None = None
        self.concat_score_weight: Tensor | None = None

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", (), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), initializer="ones")
        self.built = True

    def _validate(self, inputs: Any, mask: Any = None) -> None:
        name = f"{type(self).__name__} '{self.name}'"
        single = isinstance(inputs, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in inputs)
        if single or not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name}: expected a list [query, value] or [query, value, key], got {inputs!r}")
        shapes = [tuple(x.shape) if hasattr(x, "shape") else tuple(x) for x in inputs]
        if any(len(s) != 3 for s in shapes):
            raise ValueError(f"{name}: expected query, value (and key) of rank 3 (batch, steps, dim), got shapes "
                             f"{shapes}")
        key = shapes[2] if len(shapes) == 3 else shapes[1]
        if shapes[1][1] is not None and key[1] is not None and shapes[1][1] != key[1]:
            raise ValueError(f"{name}: value and key must have the same number of steps, got shapes "
                             f"{shapes[1]} and {key}")
        if shapes[0][-1] != key[-1]:
            raise ValueError(f"{name}: query and key must have the same last dimension, got shapes "
                             f"{shapes[0]} and {key}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name}: mask must be a list [query_mask, value_mask], got {mask!r}")

    def _scores(self, q: Tensor, k: Tensor) -> Tensor:
        q4 = q.reshape(q.shape[0], q.shape[1], 1, q.shape[2])
        k4 = k.reshape(k.shape[0], 1, k.shape[1], k.shape[2])
        x = q4 + k4
        if self.scale is not None:
            x = x * self.scale
        return self.concat_score_weight * x.tanh().sum(axis=-1)

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        self._validate(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        if mask is None:  # the Keras masks the inputs carry (from Embedding(mask_zero=True), Masking, ...)
            mask = [get_keras_mask(q), get_keras_mask(v)]
        q_mask, v_mask = _array(mask[0]), _array(mask[1])
        scores_mask = None if v_mask is None else v_mask[:, None, :]
        if use_causal_mask:
            scores_mask = _and(scores_mask, causal_mask(q.shape[1], k.shape[1]))
        bias = None if scores_mask is None else mask_bias(scores_mask, q.dtype)
        rate = self.dropout if training else 0.0
        rng = self._rng if self._rng is not None else sd_random.generator()
        if self.score_mode == "dot" and not return_attention_scores:
            qs = q if self.scale is None else q * self.scale
            out = ScaledDotProductAttention.apply(qs, k, v, scale=1.0, bias=bias, dropout=rate, rng=rng)
            weights = None
        else:
            if self.score_mode == "dot":
                scores = q @ k.transpose(0, 2, 1)
                if self.scale is not None:
                    scores = scores * self.scale
            else:
                scores = self._scores(q, k)
            if bias is not None:
                scores = scores + Tensor(bias)
            weights = scores.softmax(axis=-1)
            dropped = nn.Dropout.apply(weights, rate=rate, rng=rng) if rate else weights
            out = dropped @ v
        if q_mask is not None:
            out = out * Tensor(q_mask[:, :, None].astype(out.dtype))
            set_keras_mask(out, q_mask)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (the output has the query's steps)."""
        if mask is None or mask[0] is None:
            return None
        return _array(mask[0])

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores_ij = sum(scale * tanh(query_i + key_j)) over the features, then as
    `Attention` (masks, causal mask, dropout). With use_scale (the default) scale is a learned (dim,) vector."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        self.score_mode = "additive"

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", (tuple(input_shape[0])[-1],), initializer="glorot_uniform")
        self.built = True

    def _scores(self, q: Tensor, k: Tensor) -> Tensor:
        q4 = q.reshape(q.shape[0], q.shape[1], 1, q.shape[2])
        k4 = k.reshape(k.shape[0], 1, k.shape[1], k.shape[2])
        t = (q4 + k4).tanh()
        if self.scale is not None:
            t = t * self.scale
        return t.sum(axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al. 2017) with Keras's weights and call signature.

    For each head h: Q_h = query W^q_h + b^q_h, K_h = key W^k_h + b^k_h, V_h = value W^v_h + b^v_h,
    A_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask bias) (dropout on A_h while training), O_h = A_h V_h;
    output = sum_h O_h W^o_h + b^o. Kernels are laid out as Keras's EinsumDense: query/key/value
    (dim, num_heads, key_dim or value_dim) with biases (num_heads, key_dim), output (num_heads, value_dim,
    *output_shape) with bias output_shape, in the order query, key, value, attention_output; so Keras weights
    load with `set_weights`. Masks (True = attend) combine as in Keras: attention_mask (B, T, S), query_mask
    (B, T), value_mask and key_mask (B, S) (by default the Keras masks the inputs carry; the output carries the
    query's) and the causal mask; masked scores get -1e9. Inputs of rank > 3
    attend over all their middle axes together (Keras's default attention_axes).
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | Sequence[int] | None = None,
                 attention_axes: int | Sequence[int] | None = None, flash_attention: bool | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = f"MultiHeadAttention '{self.name}'"
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim), ("value_dim", value_dim)):
            if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                                      or value <= 0):
                raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, (int, np.integer)) else tuple(output_shape)
            output_shape = tuple(int(d) for d in output_shape)
        self._output_shape: tuple[int, ...] | None = output_shape or None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        if flash_attention:
            raise NotImplementedError(f"{name}: flash_attention is not available on this backend; the attention "
                                      "is one fused NumPy op already (leave flash_attention=None)")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._rng = _rng(seed)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))
        self._symbolic_scores = False

    # --- building --------------------------------------------------------------------------------------------
    def _projection(self, name: str, shape: tuple[int, ...], bias_shape: tuple[int, ...]) -> None:
        kernel = self.add_weight(f"{name}/kernel", shape, initializer=self.kernel_initializer,
                                 regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        bias = None
        if self.use_bias:
            bias = self.add_weight(f"{name}/bias", bias_shape, initializer=self.bias_initializer,
                                   regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        setattr(self, f"{name}_kernel", kernel)
        setattr(self, f"{name}_bias", bias)

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Create the four projections; accepts Keras's (query_shape, value_shape, key_shape) or one list."""
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, key_shape = _unpack(query_shape)
        if value_shape is None:
            raise ValueError(f"MultiHeadAttention '{self.name}': build needs the query and value shapes")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        h = self.num_heads
        self._projection("query", (query_shape[-1], h, self.key_dim), (h, self.key_dim))
        self._projection("key", (key_shape[-1], h, self.key_dim), (h, self.key_dim))
        self._projection("value", (value_shape[-1], h, self.value_dim), (h, self.value_dim))
        out = self._output_shape or (query_shape[-1],)
        self._projection("attention_output", (h, self.value_dim, *out), out)
        self.built = True

    def _check_shapes(self, query: tuple, value: tuple, key: tuple) -> None:
        name = f"MultiHeadAttention '{self.name}'"
        if len(query) < 3 or len(value) < 3:
            raise ValueError(f"{name}: expected query and value of rank >= 3 (batch, steps..., features), got "
                             f"shapes {query} and {value}")
        if value[1:-1] != key[1:-1]:
            raise ValueError(f"{name}: all dimensions of value and key except the last must be equal, got shapes "
                             f"{value} and {key}")
        if len(query) != len(value):
            raise ValueError(f"{name}: query and value must have the same rank, got shapes {query} and {value}")
        default = tuple(range(1, len(query) - 1))
        if self.attention_axes is not None:
            axes = tuple(a % len(query) for a in self.attention_axes)
            if axes != default:
                raise NotImplementedError(
                    f"{name}: attention_axes={self.attention_axes} is not supported; only the default (all axes "
                    f"but the batch and the features, here {default}) is implemented"
                )
        if any(d is None for d in (query[-1], value[-1], key[-1])):
            raise ValueError(f"{name}: the feature axes must be known, got shapes {query}, {value} and {key}")

    # --- calling ---------------------------------------------------------------------------------------------
    def __call__(self, query: Any = None, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        """Keras's `layer(query, value, key=None, ...)`, also as keywords or as one list [query, value(, key)]."""
        if value is None and isinstance(query, (list, tuple)):
            query, value, key = _unpack(query)
        if query is None or value is None:
            raise TypeError(f"MultiHeadAttention '{self.name}': call it as layer(query, value, key=None, ...)")
        inputs = [query, value] if key is None else [query, value, key]
        self._symbolic_scores = bool(kwargs.get("return_attention_scores"))
        try:
            return super().__call__(inputs, **kwargs)
        finally:
            self._symbolic_scores = False

    def call(self, query: Any, value: Any = None, key: Any = None, query_mask: Any = None, value_mask: Any = None,
             key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool | None = None, use_causal_mask: bool = False) -> Any:
        if value is None and isinstance(query, (list, tuple)):
            query, value, key = _unpack(query)
        query, value = to_tensor(query, self.dtype), to_tensor(value, self.dtype)
        key = value if key is None else to_tensor(key, self.dtype)
        self._check_call(query, value, key)
        if query_mask is None:  # the Keras masks the inputs carry, as Keras fills them in
            query_mask = get_keras_mask(query)
        if value_mask is None:
            value_mask = get_keras_mask(value)
        if key_mask is None and key is not value:
            key_mask = get_keras_mask(key)
        batch, q_steps, v_steps = query.shape[0], query.shape[1:-1], value.shape[1:-1]
        t, s = math.prod(q_steps), math.prod(v_steps)
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        bias = None if mask is None else mask_bias(mask, self.dtype)

        qh = self._project(query, "query", t)  # (B, H, T, key_dim)
        kh = self._project(key, "key", s)
        vh = self._project(value, "value", s)
        rate = self.dropout if training else 0.0
        rng = self._rng if self._rng is not None else sd_random.generator()
        scores = None
        if return_attention_scores:
            logits = (qh * self._inverse_sqrt_key_dim) @ kh.transpose(0, 1, 3, 2)
            if bias is not None:
                logits = logits + Tensor(bias)
            scores = logits.softmax(axis=-1)
            dropped = nn.Dropout.apply(scores, rate=rate, rng=rng) if rate else scores
            heads = dropped @ vh
            scores = scores.reshape(batch, self.num_heads, *q_steps, *v_steps)
        else:
            heads = ScaledDotProductAttention.apply(qh, kh, vh, scale=self._inverse_sqrt_key_dim, bias=bias,
                                                    dropout=rate, rng=rng)
        out = self._combine(heads, batch, q_steps)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out))
        if query_mask is not None:
            set_keras_mask(out, _array(query_mask).reshape(batch, *q_steps))
        return (out, scores) if return_attention_scores else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (the output has the query's steps); the attention scores carry none."""
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def _check_call(self, query: Tensor, value: Tensor, key: Tensor) -> None:
        self._check_shapes(query.shape, value.shape, key.shape)
        for name, x in (("query", query), ("key", key), ("value", value)):
            expected = getattr(self, f"{name}_kernel").shape[0]
            if x.shape[-1] != expected:
                raise ValueError(f"MultiHeadAttention '{self.name}': expected {name} with last axis {expected} "
                                 f"(built for it), got shape {x.shape}")

    def _project(self, x: Tensor, name: str, steps: int) -> Tensor:
        """x (B, steps..., dim) @ kernel (dim, H, d) + bias -> (B, H, steps, d), one matrix product."""
        kernel, bias = getattr(self, f"{name}_kernel"), getattr(self, f"{name}_bias")
        dim, heads, d = kernel.shape
        x = x.reshape(x.shape[0], steps, dim)
        w = kernel.reshape(dim, heads * d)
        y = nn.Linear.apply(x, w) if bias is None else nn.Linear.apply(x, w, bias.reshape(heads * d))
        return y.reshape(x.shape[0], steps, heads, d).transpose(0, 2, 1, 3)

    def _combine(self, heads: Tensor, batch: int, q_steps: tuple[int, ...]) -> Tensor:
        """(B, H, T, value_dim) -> (B, T..., *output_shape) through the output kernel, one matrix product."""
        kernel, bias = self.attention_output_kernel, self.attention_output_bias
        out_shape = kernel.shape[2:]
        width = math.prod(out_shape)
        x = heads.transpose(0, 2, 1, 3).reshape(batch, heads.shape[2], self.num_heads * self.value_dim)
        w = kernel.reshape(self.num_heads * self.value_dim, width)
        y = nn.Linear.apply(x, w) if bias is None else nn.Linear.apply(x, w, bias.reshape(width))
        return y.reshape(batch, *q_steps, *out_shape)

    def _attention_mask(self, query: Tensor, value: Tensor, query_mask: Any, value_mask: Any, key_mask: Any,
                        attention_mask: Any, use_causal_mask: bool) -> np.ndarray | None:
        """The combined boolean mask, shaped (B or 1, 1, T, S) to broadcast over the heads (Keras's rules)."""
        batch, q_steps, v_steps = query.shape[0], query.shape[1:-1], value.shape[1:-1]
        t, s = math.prod(q_steps), math.prod(v_steps)
        mask = None
        if query_mask is not None:
            mask = _array(query_mask).reshape(-1, t)[:, :, None]
        for m in (value_mask, key_mask):
            if m is not None:
                mask = _and(mask, _array(m).reshape(-1, s)[:, None, :])
        if use_causal_mask:
            if len(q_steps) != 1:
                raise NotImplementedError(f"MultiHeadAttention '{self.name}': use_causal_mask needs inputs of rank 3, "
                                          f"got query shape {query.shape}")
            mask = _and(mask, causal_mask(t, s))
        if attention_mask is not None:
            mask = _and(mask, self._flat_attention_mask(_array(attention_mask), batch, q_steps, v_steps))
        if mask is None:
            return None
        mask = np.broadcast_to(mask, np.broadcast_shapes(mask.shape, (1, t, s))) if mask.ndim < 3 else mask
        if mask.shape[0] not in (1, batch):
            raise ValueError(f"MultiHeadAttention '{self.name}': the masks have batch size {mask.shape[0]}, the "
                             f"inputs {batch}")
        return mask[:, None]

    def _flat_attention_mask(self, mask: np.ndarray, batch: int, q_steps: tuple, v_steps: tuple) -> np.ndarray:
        """attention_mask as (B or 1, T, S): broadcast as given for rank-3 inputs, flattened for higher ranks."""
        t, s = math.prod(q_steps), math.prod(v_steps)
        n = len(q_steps) + len(v_steps)
        if n == 2:
            try:
                if np.broadcast_shapes(mask.shape, (batch, t, s)) == (batch, t, s):
                    return mask
            except ValueError:
                pass
        elif mask.shape[-n:] == (*q_steps, *v_steps):
            return mask.reshape(*mask.shape[:-n], t, s)
        raise ValueError(f"MultiHeadAttention '{self.name}': attention_mask of shape {mask.shape} does not "
                         f"broadcast to (batch, query steps, value steps) = ({batch}, {q_steps}, {v_steps})")

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> Any:
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, _ = _unpack(query_shape)
        query_shape = tuple(query_shape)
        out = (*query_shape[:-1], *(self._output_shape or query_shape[-1:]))
        if not self._symbolic_scores:
            return out
        value_shape = tuple(value_shape)
        return [out, (query_shape[0], self.num_heads, *query_shape[1:-1], *value_shape[1:-1])]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }
