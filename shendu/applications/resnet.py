"""keras.applications.resnet50: ResNet50 (He et al., 2015) as Keras 3 builds it, with its preprocessing."""

from __future__ import annotations

from typing import Any

from shendu import layers
from shendu.applications import imagenet_utils
from shendu.applications.imagenet_utils import decode_predictions
from shendu.applications.weights import load_weights
from shendu.models.functional import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {"resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626")}

BN_EPSILON = 1.001e-5


def residual_block_v1(x: Any, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True,
                      name: str = "") -> Any:
    """A bottleneck block: 1x1 (filters), kxk (filters), 1x1 (4 * filters) convolutions with BatchNormalization,
    added to the input (or to its 1x1 projection when conv_shortcut), then ReLU."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x: Any, filters: int, blocks: int, stride1: int = 2, name: str = "") -> Any:
    """`blocks` residual blocks; the first projects the shortcut and strides by stride1."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def ResNet50(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
             pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
             name: str = "resnet50") -> Functional:
    """A 7x7 stem, then 3, 4, 6 and 3 bottleneck blocks of 64, 128, 256 and 512 filters: 25,636,712 parameters.
    Expects `resnet50.preprocess_input` (caffe mode) on 224x224 RGB images."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_residual_blocks_v1(x, 64, 3, stride1=1, name="conv2")
    x = stack_residual_blocks_v1(x, 128, 4, name="conv3")
    x = stack_residual_blocks_v1(x, 256, 6, name="conv4")
    x = stack_residual_blocks_v1(x, 512, 3, name="conv5")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.global_pool(x, pooling, "avg_pool", "max_pool")
    model = Functional(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop") + ".h5"
    # by name: shendu lists each block's shortcut before its main path, Keras after (every layer here is named)
    load_weights(model, weights, fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES["resnet50"][0 if include_top else 1],
                 by_name=True)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Caffe mode: RGB -> BGR, then each channel minus its ImageNet mean, without scaling."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
