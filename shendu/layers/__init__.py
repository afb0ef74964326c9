"""Keras-style layers: `shendu.layers.Dense(64, activation='relu')` and friends, plus layer serialization."""

from shendu.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from shendu.layers.base import Layer
from shendu.layers.core import Activation, Dense, Dropout, Lambda
from shendu.layers.input_layer import Input, InputLayer
from shendu.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from shendu.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from shendu.layers.serialization import (
    CustomObjectScope,
    custom_object_scope,
    deserialize,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize,
)
from shendu.layers.symbolic import KerasTensor

__all__ = [
    "ELU", "Activation", "Add", "Average", "Concatenate", "CustomObjectScope", "Dense", "Dropout", "Flatten", "Input",
    "InputLayer", "KerasTensor", "Lambda", "Layer", "LeakyReLU", "Maximum", "Minimum", "Multiply", "PReLU", "Permute",
    "ReLU", "RepeatVector", "Reshape", "Softmax", "Subtract", "add", "average", "concatenate", "custom_object_scope",
    "deserialize", "get_registered_name", "get_registered_object", "maximum", "minimum", "multiply",
    "register_keras_serializable", "serialize", "subtract",
]
