"""keras.applications.mobilenet_v2: MobileNetV2 (Sandler et al., 2018) as Keras 3 builds it, with its
preprocessing."""

from __future__ import annotations

import warnings
from typing import Any

from shendu import layers
from shendu.applications import imagenet_utils
from shendu.applications.imagenet_utils import decode_predictions
from shendu.applications.weights import load_weights
from shendu.models.functional import Functional

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
SIZES = (96, 128, 160, 192, 224)

# (filters, stride, expansion) of the 17 inverted residual blocks, block_id 0..16.
BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
          (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
          (320, 1, 6))


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """v rounded to the nearest multiple of divisor, never below min_value nor more than 10% below v."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs: Any, expansion: int, stride: int, alpha: float, filters: int, block_id: int) -> Any:
    """Expand (1x1, ReLU6), 3x3 depthwise (ReLU6), project (1x1, linear); added to the input when shapes agree."""
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
                          name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape: Any, input_tensor: Any) -> int:
    """The weights' image size: the input's side when square and one of SIZES, else 224."""
    if input_shape is None and input_tensor is None:
        return 224
    rows, cols = (input_shape[0], input_shape[1]) if input_shape is not None else tuple(input_tensor.shape[1:3])
    return rows if rows == cols and rows in SIZES else 224


def MobileNetV2(input_shape: Any = None, alpha: float = 1.0, include_top: bool = True, weights: Any = "imagenet",
                input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str | None = None) -> Functional:
    """A stride-2 3x3 stem, 17 inverted residual blocks and a 1x1 convolution to 1280 channels, widths scaled by
    alpha: 3,538,984 parameters at alpha=1. Expects `mobilenet_v2.preprocess_input` (tf mode, [-1, 1])."""
    imagenet_utils.check_weights_argument(weights, include_top, classes, quote="`")
    if input_tensor is not None:
        imagenet_utils.image_input(input_tensor, ())
        if input_shape is not None and input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`")
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=_default_size(input_shape, input_tensor),
                                                    min_size=32, data_format="channels_last",
                                                    require_flatten=include_top, weights=weights)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if alpha not in ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
                             f"`1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`")
        if rows != cols or rows not in SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, 224]. "
                          "Weights for input shape (224, 224) will be loaded as the default.", stacklevel=2)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.global_pool(x, pooling)
    model = Functional(imagenet_utils.model_inputs(input_tensor, img_input), x,
                       name=name if name is not None else f"mobilenetv2_{alpha:0.2f}_{rows}")
    fname = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}.h5" if include_top
             else f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}_no_top.h5")
    load_weights(model, weights, fname, BASE_WEIGHT_PATH + fname)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """tf mode: x / 127.5 - 1, pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]
