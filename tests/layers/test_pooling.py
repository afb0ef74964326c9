"""Pooling layers: the common harness, Keras defaults and sizes, PyTorch parity, masks, errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers import pooling
from shendu.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

from .harness import check_layer, random_inputs


def check(cls, kwargs, input_shape, expected, **extra):
    with layers.custom_object_scope({cls.__name__: cls}):
        return check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected, **extra)


def distinct(shape, seed=0):
    """Values all different (no ties), so that max pooling is differentiable everywhere for gradcheck."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05).reshape(shape).astype(np.float32)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, (2, 3, 2, 3)),
    ({"pool_size": 3, "strides": 1}, (2, 5, 3, 3)),
    ({"pool_size": (2, 3), "strides": (2, 1), "padding": "same"}, (2, 4, 5, 3)),
])
def test_pooling2d_harness(cls, kwargs, expected):
    check(cls, kwargs, (2, 7, 5, 3), expected, input_data=distinct((2, 7, 5, 3)))


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, (2, 3, 3)),
    ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 4, 3)),
])
def test_pooling1d_harness(cls, kwargs, expected):
    check(cls, kwargs, (2, 7, 3), expected, input_data=distinct((2, 7, 3)))


@pytest.mark.parametrize(("cls", "shape", "expected"), [
    (GlobalMaxPooling2D, (2, 4, 3, 5), (2, 5)),
    (GlobalAveragePooling2D, (2, 4, 3, 5), (2, 5)),
    (GlobalMaxPooling1D, (2, 4, 5), (2, 5)),
    (GlobalAveragePooling1D, (2, 4, 5), (2, 5)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_harness(cls, shape, expected, keepdims):
    if keepdims:
        expected = (shape[0], *(1,) * (len(shape) - 2), shape[-1])
    check(cls, {"keepdims": keepdims}, shape, expected, input_data=distinct(shape))


def test_global_pooling_values():
    x = random_inputs((2, 4, 3, 5))
    np.testing.assert_allclose(GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))
    np.testing.assert_allclose(GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-6)


def test_global_average_pooling1d_mask_averages_unmasked_steps():
    x = random_inputs((2, 4, 3))
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    xs = sd.Tensor(x, requires_grad=True)
    out = GlobalAveragePooling1D()(xs, mask=mask)
    np.testing.assert_allclose(out.numpy(), [x[0, :2].mean(axis=0), x[1].mean(axis=0)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy()[0, :, 0], [0.5, 0.5, 0, 0])


def test_max_pooling2d_matches_torch(torch):
    x = random_inputs((2, 7, 6, 3), dtype="float64")
    xs = sd.Tensor(x, requires_grad=True)
    out = MaxPooling2D(3, strides=2, padding="same", dtype="float64")(xs)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    ref = torch.nn.functional.max_pool2d(torch.nn.functional.pad(xt, (0, 1, 1, 1), value=-np.inf), 3, 2)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy().transpose(0, 2, 3, 1))
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy().transpose(0, 2, 3, 1))


def test_tutorial_pooling_shapes_and_defaults():
    layer = MaxPooling2D((2, 2))
    assert layer.strides == (2, 2) and layer.padding == "valid"
    assert layer.compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert layer.compute_output_shape((None, 11, 11, 64)) == (None, 5, 5, 64)
    assert MaxPooling1D().pool_size == (2,)
    assert pooling.MaxPool2D is MaxPooling2D and pooling.GlobalAvgPool2D is GlobalAveragePooling2D
    config = AveragePooling2D(3, strides=(1, 2), padding="same").get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ([3, 3], [1, 2], "same")


def test_pooling_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'p'.*rank 4.*\(None, 4, 4\)"):
        MaxPooling2D(name="p")(random_inputs((2, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPooling2D 'q'.*\(None, 1, 4, 2\).*smaller than pool_size \(2, 2\)"):
        MaxPooling2D(name="q")(random_inputs((2, 1, 4, 2)))
    with pytest.raises(ValueError, match="channels_first"):
        AveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="pool_size must be"):
        MaxPooling2D(pool_size=0)
    with pytest.raises(ValueError, match=r"GlobalAveragePooling2D '.*'.*rank 4"):
        GlobalAveragePooling2D()(random_inputs((2, 5, 3)))
