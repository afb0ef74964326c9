"""Keras-style layers: `shendu.layers.Dense(64, activation='relu')` and friends, plus layer serialization."""

from shendu.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from shendu.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from shendu.layers.augmentation import RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from shendu.layers.base import Layer
from shendu.layers.category_encoding import CategoryEncoding
from shendu.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
    SeparableConvolution2D,
)
from shendu.layers.core import Activation, Dense, Dropout, Lambda
from shendu.layers.discretization import Discretization
from shendu.layers.embedding import Embedding, Masking
from shendu.layers.hashing import HashedCrossing, Hashing
from shendu.layers.input_layer import Input, InputLayer
from shendu.layers.lookup import IntegerLookup, StringLookup
from shendu.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from shendu.layers.normalization import BatchNormalization, GroupNormalization, LayerNormalization
from shendu.layers.op_layer import TFOpLambda
from shendu.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from shendu.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from shendu.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from shendu.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from shendu.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from shendu.layers.reshaping_image import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from shendu.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from shendu.layers.stacked_rnn_cells import StackedRNNCells
from shendu.layers.symbolic import KerasTensor
from shendu.layers.sync_batch_normalization import SyncBatchNormalization
from shendu.layers.text_vectorization import TextVectorization
from shendu.layers.transformer import PositionEmbedding, TokenAndPositionEmbedding, TransformerEncoder
from shendu.layers.wrappers import Bidirectional, TimeDistributed
from shendu.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from shendu.saving.serialization import deserialize, serialize

__all__ = [
    "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "Attention", "Average", "AveragePooling1D",
    "AveragePooling2D", "AvgPool1D", "AvgPool2D", "BatchNormalization", "Bidirectional", "CategoryEncoding",
    "CenterCrop",
    "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Convolution1D", "Convolution2D",
    "Convolution2DTranspose", "Cropping1D", "Cropping2D", "CustomObjectScope", "Dense", "DepthwiseConv2D", "Dot",
    "Discretization",
    "Dropout", "ELU", "Embedding", "Flatten", "GRU", "GRUCell", "GaussianDropout", "GaussianNoise",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GroupNormalization", "HashedCrossing",
    "Hashing", "Input",
    "InputLayer", "IntegerLookup",
    "KerasTensor", "LSTM", "LSTMCell", "Lambda", "Layer", "LayerNormalization", "LeakyReLU", "Masking", "MaxPool1D",
    "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum", "Minimum", "MultiHeadAttention", "Multiply",
    "Normalization", "PReLU", "Permute", "PositionEmbedding", "RNN", "RandomContrast", "RandomFlip",
    "RandomRotation", "RandomTranslation", "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing",
    "SeparableConv2D", "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell", "Softmax", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "StackedRNNCells", "StringLookup", "Subtract",
    "SyncBatchNormalization", "TFOpLambda", "TextVectorization", "TimeDistributed",
    "TokenAndPositionEmbedding", "TransformerEncoder", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
    "ZeroPadding2D", "add", "average", "concatenate", "custom_object_scope", "deserialize", "dot",
    "get_registered_name",
    "get_registered_object", "maximum", "minimum", "multiply", "register_keras_serializable", "serialize",
    "subtract"
]
