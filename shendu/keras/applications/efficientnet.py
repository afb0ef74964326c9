"""tf.keras.applications.efficientnet."""

from shendu.applications.efficientnet import EfficientNet, EfficientNetB0, decode_predictions, preprocess_input

__all__ = ["EfficientNet", "EfficientNetB0", "decode_predictions", "preprocess_input"]
