"""keras.applications.vgg16: VGG16 (Simonyan and Zisserman, 2015) as Keras 3 builds it, with its preprocessing."""

from __future__ import annotations

from typing import Any

from shendu import layers
from shendu.applications import imagenet_utils
from shendu.applications.imagenet_utils import decode_predictions
from shendu.applications.weights import load_weights
from shendu.models.functional import Functional

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")  # (top, no top), md5

# Filters of the five blocks and how many 3x3 convolutions each has.
BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def VGG16(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
          pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
          name: str = "vgg16") -> Functional:
    """Five blocks of 3x3 ReLU convolutions and 2x2 max pooling, then (include_top) fc1, fc2 of 4096 and the
    classifier: 138,357,544 parameters. Expects `vgg16.preprocess_input` (caffe mode) on 224x224 RGB images."""
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = img_input
    for b, (filters, convs) in enumerate(BLOCKS, start=1):
        for c in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{c}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.global_pool(x, pooling)
    model = Functional(imagenet_utils.model_inputs(input_tensor, img_input), x, name=name)
    fname = "vgg16_weights_tf_dim_ordering_tf_kernels" + ("" if include_top else "_notop") + ".h5"
    load_weights(model, weights, fname, WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP,
                 WEIGHTS_HASHES[0 if include_top else 1])
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Caffe mode: RGB -> BGR, then each channel minus its ImageNet mean, without scaling."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
