"""keras.applications.imagenet_utils: the ImageNet preprocessing modes, `decode_predictions`, and the input-shape
and argument checks every application network shares (Keras 3.15's rules and messages)."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import activations, backend
from shendu.layers.input_layer import Input, InputLayer
from shendu.layers.symbolic import KerasTensor
from shendu.tensor import Tensor

CLASS_INDEX: dict[str, list[str]] | None = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX_MAX_BYTES = 1 << 20  # the real file is 35 KB

# Per-channel ImageNet statistics: caffe subtracts BGR means (0-255 scale); torch normalizes RGB on the 0-1 scale.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of RGB images in [0, 255] as the ImageNet weights expect.

    mode "caffe": RGB -> BGR, minus the BGR mean pixel; "tf": x / 127.5 - 1; "torch": (x / 255 - mean) / std.
    A float NumPy array is changed in place (as Keras does); a Tensor or symbolic tensor gives a new one.
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = "channels_last"
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, (Tensor, KerasTensor)):
        return _preprocess_tensor(x, data_format, mode)
    x = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    return _preprocess_numpy(x, data_format, mode)


def _channel_shape(ndim: int, data_format: str) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector over an image (3D) or a batch (4D)."""
    if data_format == "channels_last":
        return (1,) * (ndim - 1) + (3,)
    return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)


def _bgr(x: Any, data_format: str) -> Any:
    """The colour axis reversed (RGB -> BGR)."""
    if data_format == "channels_last":
        return x[..., ::-1]
    return x[::-1, ...] if len(x.shape) == 3 else x[:, ::-1, ...]


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = TORCH_MEAN, TORCH_STD
    else:
        x = _bgr(x, data_format)
        mean, std = CAFFE_MEAN_BGR, None
    shape = _channel_shape(x.ndim, data_format)
    x -= np.asarray(mean, dtype=x.dtype).reshape(shape)
    if std is not None:
        x /= np.asarray(std, dtype=x.dtype).reshape(shape)
    return x


def _preprocess_tensor(x: Any, data_format: str, mode: str) -> Any:
    if mode == "tf":
        return x / 127.5 - 1.0
    shape = _channel_shape(len(x.shape), data_format)
    if mode == "torch":
        mean, std = np.asarray(TORCH_MEAN, "float32").reshape(shape), np.asarray(TORCH_STD, "float32").reshape(shape)
        return (x / 255.0 - mean) / std
    return _bgr(x, data_format) - np.asarray(CAFFE_MEAN_BGR, "float32").reshape(shape)


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` ImageNet classes of each prediction as (class_name, class_description, score), best first.

    The class index (imagenet_class_index.json) is downloaded once into the cache's models/ folder."""
    global CLASS_INDEX
    preds = np.asarray(preds.numpy() if isinstance(preds, Tensor) else preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Received array with shape: {preds.shape}")
    if CLASS_INDEX is None:
        from shendu.applications.weights import fetch

        CLASS_INDEX = read_class_index(fetch("imagenet_class_index.json", CLASS_INDEX_PATH, CLASS_INDEX_HASH,
                                             "decode_predictions"))
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [(*CLASS_INDEX[str(i)], pred[i]) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def read_class_index(path: str | os.PathLike) -> dict[str, list[str]]:
    """Read imagenet_class_index.json: {"0": ["n01440764", "tench"], ..., "999": [...]}, checked before use."""
    size = os.path.getsize(path)
    if size > _CLASS_INDEX_MAX_BYTES:
        raise ValueError(f"decode_predictions: {path} is {size} bytes; an ImageNet class index is about 35 KB")
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    ok = isinstance(index, dict) and all(
        isinstance(index.get(str(i)), list) and len(index[str(i)]) == 2
        and all(isinstance(s, str) for s in index[str(i)]) for i in range(1000))
    if not ok:
        raise ValueError(f"decode_predictions: {path} is not an ImageNet class index: expected keys '0'..'999', "
                         "each [wordnet id, class name]")
    return index


def obtain_input_shape(input_shape: Sequence[int | None] | None, default_size: int, min_size: int,
                       data_format: str, require_flatten: bool, weights: Any = None) -> tuple[int | None, ...]:
    """The network's input shape: the default one, or the user's shape checked (3 channels for ImageNet weights,
    at least min_size pixels, static when the classifier's Flatten/Dense needs it), as Keras checks it."""
    input_shape = None if input_shape is None else tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an input_shape "
                          f"with {input_shape[-1]} input channels.", stacklevel=3)
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (input_shape[0] is not None and input_shape[0] < min_size) or (
                input_shape[1] is not None and input_shape[1] < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs: KerasTensor, kernel_size: int | tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ZeroPadding2D that makes a stride-2 'valid' convolution see the pixels TensorFlow's 'same' would."""
    size = inputs.shape[1:3]
    kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel[0] // 2, kernel[1] // 2)
    return (correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1])


def global_pool(x: KerasTensor, pooling: str | None, avg_name: str | None = None,
                max_name: str | None = None) -> KerasTensor:
    """The optional pooling of a network without its top: "avg" or "max" over the spatial axes (a 2-D output),
    None keeps the 4-D feature maps."""
    from shendu import layers

    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """With pretrained weights the classifier's activation may only be softmax or None (the logits)."""
    if weights is None:
        return
    if activations.get(classifier_activation) not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` argument "
                         "when using pretrained weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


def check_weights_argument(weights: Any, include_top: bool, classes: int, quote: str = "'") -> None:
    """weights must be None, 'imagenet' or an existing file; ImageNet's classifier has 1000 classes."""
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(f"The `weights` argument should be either `None` (random initialization), {quote}imagenet"
                         f"{quote} (pre-training on ImageNet), or the path to the weights file to be loaded.  "
                         f"Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         f"Received classes={classes}")


def image_input(input_tensor: KerasTensor | None, input_shape: tuple[int | None, ...]) -> KerasTensor:
    """The tensor the network starts from: a new Input of input_shape, or the user's symbolic input_tensor."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("input_tensor must be a symbolic tensor (from keras.Input or a layer called on one); "
                         f"Received {input_tensor!r} of type {type(input_tensor).__name__}")
    return input_tensor


def model_inputs(input_tensor: KerasTensor | None, img_input: KerasTensor) -> Any:
    """The model's inputs: img_input, or the Inputs the user's input_tensor is computed from."""
    if input_tensor is None:
        return img_input
    found = source_inputs(input_tensor)
    return found[0] if len(found) == 1 else found


def source_inputs(tensor: KerasTensor) -> list[KerasTensor]:
    """The Input tensors a symbolic tensor is computed from (Keras's `get_source_inputs`), in the order met."""
    found: list[KerasTensor] = []
    stack, seen = [tensor], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t.node.layer, InputLayer):
            found.append(t)
        else:
            stack.extend(reversed(t.node.input_tensors))
    return found
