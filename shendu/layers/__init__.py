"""Keras-style layers: `shendu.layers.Dense(64, activation='relu')` and friends, plus layer serialization."""

from shendu.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from shendu.layers.augmentation import RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom
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
from shendu.layers.normalization import BatchNormalization, GroupNormalization, LayerNormalization
from shendu.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from shendu.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
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
    "Activation", "ActivityRegularization", "Add", "Average", "BatchNormalization", "CenterCrop", "Concatenate",
    "CustomObjectScope", "Dense", "Dropout", "ELU", "Flatten", "GaussianDropout", "GaussianNoise", "GroupNormalization",
    "Input", "InputLayer", "KerasTensor", "Lambda", "Layer", "LayerNormalization", "LeakyReLU", "Maximum", "Minimum",
    "Multiply", "Normalization", "PReLU", "Permute", "RandomContrast", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Subtract", "add", "average", "concatenate",
    "custom_object_scope", "deserialize", "get_registered_name", "get_registered_object", "maximum", "minimum",
    "multiply", "register_keras_serializable", "serialize", "subtract",
]
