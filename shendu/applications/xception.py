"""keras.applications.xception: Xception (Chollet, 2017) as Keras 3 builds it, with its preprocessing."""

from __future__ import annotations

from typing import Any

from shendu import layers
from shendu.applications import imagenet_utils
from shendu.applications.imagenet_utils import decode_predictions
from shendu.applications.weights import load_weights
from shendu.models.functional import Functional

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "xception/xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")  # (top, no top), md5


def _sepconv_bn(x: Any, filters: int, name: str) -> Any:
    """A 3x3 separable convolution without bias and its BatchNormalization."""
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)


def _residual(x: Any, filters: int) -> Any:
    """The strided 1x1 projection a downsampling block adds back (auto-named, as in Keras)."""
    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1)(residual)


def _entry_block(x: Any, block: int, filters: tuple[int, int], first_relu: bool = True) -> Any:
    """Two separable convolutions then a stride-2 max pool, added to the projected input."""
    residual = _residual(x, filters[1])
    if first_relu:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
             pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
             name: str = "xception") -> Functional:
    """Entry flow (3 strided blocks), middle flow (8 residual blocks of 728 channels), exit flow: 22,910,480
    parameters. Expects `xception.preprocess_input` (tf mode, [-1, 1]) on 299x299 RGB images."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=299, min_size=71,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _entry_block(x, 2, (128, 128), first_relu=False)
    x = _entry_block(x, 3, (256, 256))
    x = _entry_block(x, 4, (728, 728))
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for k in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{k}_act")(x)
            x = _sepconv_bn(x, 728, f"{prefix}_sepconv{k}")
        x = layers.add([x, residual])
    x = _entry_block(x, 13, (728, 1024))
    x = _sepconv_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.global_pool(x, pooling)
    model = Functional(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    fname = "xception_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop") + ".h5"
    load_weights(model, weights, fname, WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP,
                 WEIGHTS_HASHES[0 if include_top else 1])
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """tf mode: x / 127.5 - 1, pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["Xception", "decode_predictions", "preprocess_input"]
