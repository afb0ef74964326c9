"""Grad-CAM (Selvaraju et al. 2017): a class-activation map from a convolutional layer's output A (channels last),
L_c = ReLU(sum_k w_k A_k) with w_k = the mean over positions of d y_c / d A_k, resized to the input (Captum's
`LayerGradCam` then `LayerAttribution.interpolate`; the keras.io Grad-CAM example)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shendu.explain import _core
from shendu.explain._layers import all_layers, find_layer
from shendu.explain._resize import resize

CONV_KINDS = ("Conv",)


def _last_conv(model: Any, who: str) -> Any:
    convs = [layer for layer in all_layers(model) if "Conv" in type(layer).__name__]
    if not convs:
        raise ValueError(f"{who}: model '{model.name}' has no convolutional layer; name the layer with layer_name")
    return convs[-1]


def class_activation_map(model: Any, x: Any, layer_name: Any, target: Any, relu: bool, upsample: str | None,
                         batch_size: int, weigh: Callable[[np.ndarray, np.ndarray], np.ndarray],
                         who: str) -> np.ndarray:
    """sum_k weigh(A, dA)_k A_k over the channels of the layer's output, optionally ReLU'd and resized."""
    arrays, _ = _core.as_inputs(x, who)
    if isinstance(x, (list, tuple)) and len(arrays) > 1:
        raise ValueError(f"{who}: takes a model with one input, got {len(arrays)} inputs")
    layer = _last_conv(model, who) if layer_name is None else find_layer(model, layer_name, who, CONV_KINDS)
    t = _core.targets(model, arrays, target, who, batch_size)
    acts, grads, _ = _core.layer_gradients(model, arrays, t, layer, who, batch_size)
    if acts.ndim < 3:
        raise ValueError(f"{who}: layer '{layer.name}' gives outputs of shape {acts.shape}; Grad-CAM needs a "
                         f"convolutional feature map (batch, positions..., channels)")
    weights = weigh(acts, grads)
    cam = np.einsum("n...k,nk->n...", acts, weights)
    if relu:
        cam = np.maximum(cam, 0)
    if upsample is not None:
        cam = resize(cam, arrays[0].shape[1:cam.ndim], upsample)
    return cam.astype(acts.dtype)


def grad_cam(model: Any, x: Any, layer_name: Any = None, target: Any = None, relu: bool = True,
             upsample: str | None = "bilinear", batch_size: int = 32) -> np.ndarray:
    """The Grad-CAM map of each sample, shape (batch, H, W) for images (the layer's own (batch, h, w) with
    upsample=None). layer_name: a conv layer (default: the last one); relu=False keeps the negative evidence
    (Captum's default relu_attributions=False)."""
    return class_activation_map(model, x, layer_name, target, relu, upsample, batch_size,
                                lambda a, g: g.reshape(len(g), -1, g.shape[-1]).mean(axis=1), "grad_cam")
