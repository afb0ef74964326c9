"""The Transformer encoder block and learned position embeddings (KerasHub's names and arguments), built from
MultiHeadAttention, LayerNormalization, Dense and Dropout.

A text classifier in the style of the keras.io tutorial:

    x = TokenAndPositionEmbedding(vocabulary_size=20000, sequence_length=200, embedding_dim=32)(token_ids)
    x = TransformerEncoder(intermediate_dim=64, num_heads=2, dropout=0.1)(x)
    x = GlobalAveragePooling1D()(x)
    outputs = Dense(2, activation="softmax")(x)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import activations, initializers
from shendu.keras_mask import get_keras_mask, set_keras_mask
from shendu.layers.attention import MultiHeadAttention, _array
from shendu.layers.base import Layer
from shendu.layers.core import Dense, Dropout
from shendu.layers.normalization import LayerNormalization
from shendu.tensor import Tensor


def merge_padding_and_attention_mask(padding_mask: Any, attention_mask: Any) -> np.ndarray | None:
    """One boolean (B, T, T) mask (or None): the padding mask (B, T) says which keys exist, `& attention_mask`."""
    mask = None
    if padding_mask is not None:
        mask = _array(padding_mask)[:, None, :]
    if attention_mask is not None:
        am = _array(attention_mask)
        mask = am if mask is None else mask & am
    return mask


class TransformerEncoder(Layer):
    """The encoder block of "Attention Is All You Need": self-attention and a position-wise feed-forward
    network, each with dropout, a residual connection and layer normalization.

    Post-norm (default):  x = LN1(x + Dropout(MHA(x, x)));  y = LN2(x + Dropout(W2 act(W1 x + b1) + b2)).
    normalize_first=True (pre-norm): x = x + Dropout(MHA(LN1(x), LN1(x))); y = x + Dropout(FFN(LN2(x))).
    The model width is the input's last axis; each of the num_heads heads has key_dim = width // num_heads.
    call(inputs, padding_mask=None, attention_mask=None): padding_mask (B, T), True for real tokens, keeps the
    padded positions out of every token's attention; by default it is the Keras mask the inputs carry (e.g. from
    TokenAndPositionEmbedding(mask_zero=True)), and the output carries it on.
    """

    supports_masking = True

    def __init__(self, intermediate_dim: int, num_heads: int, dropout: float = 0.0, activation: Any = "relu",
                 layer_norm_epsilon: float = 1e-5, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", normalize_first: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in (("intermediate_dim", intermediate_dim), ("num_heads", num_heads)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"TransformerEncoder '{self.name}': {arg} must be a positive integer, got {value!r}")
        self.intermediate_dim = int(intermediate_dim)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.activation = activations.get(activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.normalize_first = bool(normalize_first)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(f"TransformerEncoder '{self.name}': expected inputs (batch, steps, features) with known "
                             f"features, got shape {shape}")
        hidden = int(shape[-1])
        if hidden < self.num_heads:
            raise ValueError(f"TransformerEncoder '{self.name}': the input width {hidden} is smaller than num_heads "
                             f"{self.num_heads} (each head has width // num_heads features)")
        init = {"kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer,
                "dtype": self.dtype}
        self._self_attention_layer = MultiHeadAttention(self.num_heads, hidden // self.num_heads,
                                                        dropout=self.dropout, name="self_attention_layer", **init)
        self._self_attention_layer.build(shape, shape)
        self._self_attention_layer_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype,
                                                             name="self_attention_layer_norm")
        self._self_attention_layer_norm.build(shape)
        self._self_attention_dropout = Dropout(self.dropout, name="self_attention_dropout")
        self._feedforward_layer_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype,
                                                          name="feedforward_layer_norm")
        self._feedforward_layer_norm.build(shape)
        self._feedforward_intermediate_dense = Dense(self.intermediate_dim, activation=self.activation,
                                                     name="feedforward_intermediate_dense", **init)
        self._feedforward_intermediate_dense.build(shape)
        self._feedforward_output_dense = Dense(hidden, name="feedforward_output_dense", **init)
        self._feedforward_output_dense.build((*shape[:-1], self.intermediate_dim))
        self._feedforward_dropout = Dropout(self.dropout, name="feedforward_dropout")
        self.built = True

    def call(self, inputs: Tensor, padding_mask: Any = None, attention_mask: Any = None,
             training: bool | None = None) -> Tensor:
        if padding_mask is None:
            padding_mask = get_keras_mask(inputs)
        mask = merge_padding_and_attention_mask(padding_mask, attention_mask)
        x = inputs
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        # padded tokens are hidden as keys only (as PyTorch does), also when x carries the padding as a Keras mask
        every_query = None if mask is None else np.ones(x.shape[:2], dtype=bool)
        x = self._self_attention_layer(x, x, attention_mask=mask, query_mask=every_query, training=training)
        x = self._self_attention_dropout(x, training=training) + residual
        if not self.normalize_first:
            x = self._self_attention_layer_norm(x)
        residual = x
        if self.normalize_first:
            x = self._feedforward_layer_norm(x)
        x = self._feedforward_output_dense(self._feedforward_intermediate_dense(x))
        x = self._feedforward_dropout(x, training=training) + residual
        if not self.normalize_first:
            x = self._feedforward_layer_norm(x)
        if padding_mask is not None:
            set_keras_mask(x, _array(padding_mask))
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "intermediate_dim": self.intermediate_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "activation": activations.serialize(self.activation),
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "normalize_first": self.normalize_first,
        }


class PositionEmbedding(Layer):
    """A learned embedding per position: returns embeddings[start_index : start_index + T] broadcast to the
    inputs' shape (B, T, features), to be added to them. Weights: embeddings (sequence_length, features).
    The positions line up with the inputs' steps, so a Keras mask the inputs carry passes on."""

    supports_masking = True

    def __init__(self, sequence_length: int, initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(sequence_length, (int, np.integer)) or sequence_length <= 0:
            raise ValueError(f"PositionEmbedding '{self.name}': sequence_length must be a positive integer, got "
                             f"{sequence_length!r}")
        self.sequence_length = int(sequence_length)
        self.initializer = initializers.get(initializer)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if len(shape) < 2 or shape[-1] is None:
            raise ValueError(f"PositionEmbedding '{self.name}': expected inputs (batch, steps, features) with known "
                             f"features, got shape {shape}")
        self.position_embeddings = self.add_weight("embeddings", (self.sequence_length, shape[-1]),
                                                   initializer=self.initializer)
        self.built = True

    def call(self, inputs: Tensor, start_index: int = 0) -> Tensor:
        steps, features = inputs.shape[-2], inputs.shape[-1]
        if start_index + steps > self.sequence_length:
            raise ValueError(f"PositionEmbedding '{self.name}': positions {start_index}..{start_index + steps - 1} "
                             f"are beyond sequence_length {self.sequence_length} (inputs of shape {inputs.shape})")
        if features != self.position_embeddings.shape[1]:
            raise ValueError(f"PositionEmbedding '{self.name}': expected {self.position_embeddings.shape[1]} "
                             f"features (built for it), got shape {inputs.shape}")
        table = self.position_embeddings[start_index:start_index + steps]
        return table + Tensor(np.zeros(inputs.shape, dtype=table.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}


class TokenAndPositionEmbedding(Layer):
    """token_embedding(ids) + position_embedding: token ids (B, T) -> (B, T, embedding_dim), T <= sequence_length.

    Weights: token_embedding/embeddings (vocabulary_size, embedding_dim), position_embedding/embeddings
    (sequence_length, embedding_dim), both initialized from embeddings_initializer. With mask_zero, id 0 is
    padding and `compute_mask` gives ids != 0.
    """

    def __init__(self, vocabulary_size: int, sequence_length: int, embedding_dim: int,
                 embeddings_initializer: Any = "uniform", mask_zero: bool = False, **kwargs: Any) -> None:
        from shendu.layers.embedding import Embedding

        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)
        self.token_embedding = Embedding(self.vocabulary_size, self.embedding_dim, mask_zero=self.mask_zero,
                                         embeddings_initializer=self.embeddings_initializer, dtype=self.dtype,
                                         name="token_embedding")
        self.position_embedding = PositionEmbedding(self.sequence_length, initializer=self.embeddings_initializer,
                                                    dtype=self.dtype, name="position_embedding")

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        self.token_embedding.build(shape)
        self.position_embedding.build((*shape, self.embedding_dim))
        self.built = True

    def call(self, inputs: Tensor, start_index: int = 0) -> Tensor:
        tokens = self.token_embedding(inputs)
        out = tokens + self.position_embedding(tokens, start_index=start_index)
        if self.mask_zero:
            set_keras_mask(out, self.compute_mask(inputs))
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs) != 0

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*tuple(input_shape), self.embedding_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "mask_zero": self.mask_zero}
