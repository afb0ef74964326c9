"""tf.keras.applications: the ImageNet networks and, per network, its `preprocess_input` and `decode_predictions`
(`tf.keras.applications.mobilenet_v2.preprocess_input`)."""

from shendu.keras.applications import (
    efficientnet,
    imagenet_utils,
    mobilenet_v2,
    resnet,
    resnet50,
    vgg16,
    xception,
)
from shendu.keras.applications.efficientnet import EfficientNetB0
from shendu.keras.applications.mobilenet_v2 import MobileNetV2
from shendu.keras.applications.resnet50 import ResNet50
from shendu.keras.applications.vgg16 import VGG16
from shendu.keras.applications.xception import Xception

__all__ = [
    "EfficientNetB0", "MobileNetV2", "ResNet50", "VGG16", "Xception", "efficientnet", "imagenet_utils",
    "mobilenet_v2", "resnet", "resnet50", "vgg16", "xception",
]
