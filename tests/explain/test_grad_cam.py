"""Grad-CAM and Grad-CAM++ against the same formulas on gradients taken the Keras way: a sub-model
Model(model.inputs, [layer.output, model.output]) under a GradientTape."""

import numpy as np
import pytest

import shendu as tf
from shendu import explain
from shendu.keras import Model
from tests.explain.models import images, small_cnn


def keras_way(model, x, name):
    """The keras.io Grad-CAM recipe: the conv layer's output and its gradient in one sub-model."""
    grad_model = Model(model.inputs, [model.get_layer(name).output, model.output])
    with tf.GradientTape() as tape:
        conv, preds = grad_model(x)
        target = np.argmax(preds.numpy(), axis=1)
        chosen = tf.reduce_sum(preds * tf.one_hot(target, preds.shape[-1]))
    grads = tape.gradient(chosen, conv)
    assert grads is not None
    return conv.numpy(), grads.numpy()


def test_grad_cam_is_the_keras_recipe():
    model, x = small_cnn(), images(3)
    conv, grads = keras_way(model, x, "conv_b")
    weights = grads.mean(axis=(1, 2))
    cam = np.einsum("nhwk,nk->nhw", conv, weights)
    np.testing.assert_allclose(explain.grad_cam(model, x, "conv_b", relu=False, upsample=None), cam, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(explain.grad_cam(model, x, "conv_b", upsample=None), np.maximum(cam, 0), rtol=1e-5,
                               atol=1e-7)


def test_grad_cam_plus_plus_weights():
    model, x = small_cnn(), images(3)
    conv, g = keras_way(model, x, "conv_a")
    conv, g = conv.astype(np.float64), g.astype(np.float64)
    expected = np.zeros(conv.shape[:3])
    for n in range(3):
        for k in range(conv.shape[-1]):
            a, gk = conv[n, ..., k], g[n, ..., k]
            den = 2 * gk ** 2 + a.sum() * gk ** 3
            alpha = np.where(den != 0, gk ** 2 / np.where(den != 0, den, 1), 0)
            expected[n] += (alpha * np.maximum(gk, 0)).sum() * a
    np.testing.assert_allclose(explain.grad_cam_plus_plus(model, x, "conv_a", upsample=None), np.maximum(expected, 0),
                               rtol=1e-4, atol=1e-9)


def test_grad_cam_is_resized_to_the_input_and_defaults_to_the_last_conv_layer():
    model, x = small_cnn(), images(2)
    cam = explain.grad_cam(model, x)
    assert cam.shape == (2, 8, 8) and cam.min() >= 0
    np.testing.assert_allclose(cam, explain.grad_cam(model, x, "conv_b"))
    small = explain.grad_cam(model, x, "conv_b", upsample=None)  # 2x2 -> 8x8 nearest: source row floor(i * 2 / 8)
    assert small.shape == (2, 2, 2)
    rows = np.floor(np.arange(8) * 2 / 8).astype(int)
    np.testing.assert_allclose(explain.grad_cam(model, x, "conv_b", upsample="nearest"), small[:, rows][:, :, rows])


def test_a_bad_layer_name_lists_the_conv_layers():
    model, x = small_cnn(), images(1)
    with pytest.raises(ValueError, match=r"grad_cam: no layer named 'conv_c' in model .*its Conv layers are "
                                         r"\['conv_a', 'conv_b'\]"):
        explain.grad_cam(model, x, "conv_c")
    with pytest.raises(ValueError, match="Grad-CAM needs a convolutional feature map"):
        explain.grad_cam(model, x, model.layers[-1].name)
    with pytest.raises(ValueError, match="upsample must be"):
        explain.grad_cam(model, x, upsample="cubic")
