"""The convolution, pooling and image-reshaping layers against Keras itself (when installed): Keras's weights
loaded with set_weights give the same outputs and input gradients. Skipped without keras."""

from __future__ import annotations

import os

import numpy as np
import pytest

import shendu as sd
from shendu.layers import convolutional, pooling, reshaping_image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="needs Keras on TensorFlow")

CASES = [
    ("Conv2D", {"filters": 3, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 7, 8, 2)),
    ("Conv2D", {"filters": 3, "kernel_size": (4, 3), "padding": "same", "dilation_rate": (2, 1)}, (2, 9, 8, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "groups": 2, "activation": "relu"}, (2, 6, 6, 4)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 10, 2)),
    ("Conv1D", {"filters": 3, "kernel_size": 4, "padding": "same", "strides": 3}, (2, 10, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "padding": "same", "strides": 2}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "valid", "strides": 2}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "padding": "same", "strides": 3}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "same", "strides": 2, "output_padding": 0},
     (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "valid", "strides": (2, 3),
                         "output_padding": (1, 2)}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "padding": "same", "dilation_rate": 2}, (2, 5, 5, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2}, (2, 7, 6, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (2, 6, 5, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    ("AveragePooling1D", {"pool_size": 2, "padding": "same"}, (2, 7, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (2, 4, 3, 5)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}, (2, 3, 4, 2)),
    ("Cropping2D", {"cropping": ((1, 0), (1, 2))}, (2, 4, 5, 2)),
]
LAYERS = {**vars(convolutional), **vars(pooling), **vars(reshaping_image)}


@pytest.mark.parametrize(("name", "kwargs", "shape"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_keras(name, kwargs, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs(x)
    for w in theirs.weights:
        w.assign(rng.uniform(-1, 1, w.shape).astype("float32"))
    ours = LAYERS[name](**kwargs)
    ours(sd.Tensor(x))
    ours.set_weights([w.numpy() for w in theirs.weights])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y_ref = theirs(xt)
        r = rng.standard_normal(y_ref.shape).astype("float32")
        loss = tf.reduce_sum(y_ref * r)
    xs = sd.Tensor(x, requires_grad=True)
    y = ours(xs)
    (y * sd.Tensor(r)).sum().backward()
    assert y.shape == tuple(y_ref.shape)
    np.testing.assert_allclose(y.numpy(), y_ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(xs.grad.numpy(), tape.gradient(loss, xt).numpy(), atol=1e-4)
    assert set(ours.get_config()) == set(theirs.get_config())
