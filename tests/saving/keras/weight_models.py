"""The models of the Keras weight fixtures (tests/fixtures/keras/weights/make_weight_files.py), written once for
both frameworks: each builder takes `keras` (shendu's or the real one) and returns the same architecture."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras", "weights")


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def dense_bn(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"), layers.BatchNormalization(),
                             layers.Dense(2, name="head")])


def recurrent(keras: Any) -> Any:
    layers = keras.layers
    inp = keras.Input((5, 3))
    x = layers.LSTM(4, return_sequences=True)(inp)
    x = layers.GRU(3, return_sequences=True)(x)
    x = layers.GRU(2, return_sequences=True, reset_after=False)(x)
    x = layers.Bidirectional(layers.LSTM(2, return_sequences=True))(x)
    x = layers.Bidirectional(layers.SimpleRNN(2), merge_mode="sum")(x)
    return keras.Model(inp, x)


def attention(keras: Any) -> Any:
    layers = keras.layers
    inp = keras.Input((4, 3))
    x = layers.TimeDistributed(layers.Dense(4))(inp)
    x = layers.MultiHeadAttention(2, 3)(x, x)
    x = layers.LayerNormalization()(x)
    x = layers.MultiHeadAttention(1, 2, use_bias=False, output_shape=3)(x, x)
    return keras.Model(inp, x)


def conv(keras: Any) -> Any:
    layers = keras.layers
    inp = keras.Input((7, 7, 2))
    x = layers.Normalization()(inp)
    x = layers.Conv2D(3, 3, activation="relu")(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2)(x)
    x = layers.SeparableConv2D(2, 2)(x)
    x = layers.Conv2DTranspose(2, 3, strides=2)(x)
    inner = keras.Sequential([keras.Input((5, 5, 2)), layers.Conv2D(2, 1), layers.BatchNormalization()],
                             name="inner")
    x = inner(x)
    x = layers.Conv1D(2, 2)(layers.Reshape((25, 2))(x))
    x = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    return keras.Model(inp, x)


def embedding(keras: Any) -> Any:
    layers = keras.layers
    inp = keras.Input((5,), dtype="int32")
    x = layers.Embedding(10, 3)(inp)
    x = layers.PReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, x)


def subclassed(keras: Any) -> Any:
    """A subclassed model holding a layer with a sub-layer, a list of sub-layers, a private one and a weight."""
    layers = keras.layers

    class Block(layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.proj = layers.Dense(3)
            self.parts = [layers.Dense(3), layers.BatchNormalization()]
            self._gate = layers.Dense(3, activation="sigmoid")

        def build(self, input_shape: Any) -> None:
            self.scale = self.add_weight(shape=(3,), name="scale")

        def call(self, x: Any) -> Any:
            h = self.parts[1](self.parts[0](self.proj(x)))
            return h * self._gate(h) * self.scale

    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.block = Block()
            self.out = layers.Dense(2)
            self.first = layers.Dense(3)

        def call(self, x: Any) -> Any:
            return self.out(self.block(self.first(x)))

    model = Net()
    model(np.zeros((1, 4), "float32"))
    return model


def adam_model(keras: Any) -> Any:
    layers = keras.layers
    return keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])


def tiny_vgg(keras: Any) -> Any:
    layers = keras.layers
    inp = keras.Input((6, 6, 3))
    x = layers.Conv2D(2, 3, activation="relu", name="block1_conv1")(inp)
    x = layers.MaxPooling2D(name="block1_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(2, name="fc")(x)
    return keras.Model(inp, x, name="tiny_vgg")


BUILDERS = {"dense_bn": dense_bn, "recurrent": recurrent, "attention": attention, "conv": conv,
            "embedding": embedding, "subclassed": subclassed}
