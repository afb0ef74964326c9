"""SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, ActivityRegularization: identity outside training,
the documented noise in training, gradients, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)

from .harness import check_layer

CLASSES = (ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
SCOPE = {c.__name__: c for c in CLASSES}


@pytest.mark.parametrize("cls, kwargs, shape", [
    (SpatialDropout1D, {"rate": 0.5}, (2, 5, 3)),
    (SpatialDropout2D, {"rate": 0.3, "seed": 1}, (2, 3, 3, 4)),
    (SpatialDropout2D, {"rate": 0.3, "data_format": "channels_first"}, (2, 4, 3, 3)),
    (SpatialDropout3D, {"rate": 0.2}, (2, 2, 2, 2, 3)),
    (GaussianNoise, {"stddev": 0.5}, (3, 4)),
    (GaussianDropout, {"rate": 0.4}, (3, 4)),
    (ActivityRegularization, {"l1": 0.1, "l2": 0.01}, (3, 4)),
])
def test_harness(cls, kwargs, shape):
    with layers.custom_object_scope(SCOPE):
        check_layer(cls, kwargs, input_shape=shape, expected_output_shape=shape)


@pytest.mark.parametrize("layer, shape", [
    (SpatialDropout2D(0.5), (4, 3, 3, 2)),
    (GaussianNoise(1.0), (4, 3)),
    (GaussianDropout(0.5), (4, 3)),
])
def test_noise_layers_are_identity_outside_training(layer, shape):
    x = sd.Tensor(np.random.default_rng(0).normal(size=shape).astype(np.float32))
    for training in (None, False):
        assert layer(x, training=training) is x


@pytest.mark.parametrize("cls, shape, channels_first", [
    (SpatialDropout1D, (64, 7, 8), False),
    (SpatialDropout2D, (64, 5, 6, 8), False),
    (SpatialDropout2D, (64, 8, 5, 6), True),
    (SpatialDropout3D, (64, 2, 3, 4, 8), False),
])
def test_spatial_dropout_drops_whole_channels_and_scales_the_rest(cls, shape, channels_first):
    kwargs = {"data_format": "channels_first"} if channels_first else {}
    x = np.random.default_rng(0).uniform(1, 2, shape).astype(np.float32)
    y = cls(0.25, seed=0, **kwargs)(x, training=True).numpy()
    ratio = np.moveaxis(y / x, 1, -1) if channels_first else y / x  # channels last
    per_map = ratio.reshape(shape[0], -1, ratio.shape[-1])
    np.testing.assert_allclose(per_map, np.broadcast_to(per_map[:, :1], per_map.shape), rtol=1e-6)  # one draw
    kept = per_map[:, 0, :]
    assert np.all((kept == 0) | np.isclose(kept, 1 / 0.75, rtol=1e-6))
    assert 0.15 < (kept == 0).mean() < 0.35


def test_spatial_dropout_backward_uses_the_same_mask():
    x = sd.Tensor(np.ones((4, 3, 3, 5), np.float32), requires_grad=True)
    y = SpatialDropout2D(0.5, seed=2)(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_gaussian_noise_adds_noise_of_the_given_stddev():
    x = np.zeros((200, 100), np.float32)
    y = GaussianNoise(0.5, seed=0)(x, training=True).numpy()
    assert y.dtype == np.float32
    assert abs(y.mean()) < 0.01 and abs(y.std() - 0.5) < 0.01


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    x = np.full((200, 100), 2.0, np.float32)
    y = GaussianDropout(0.2, seed=0)(x, training=True).numpy() / 2
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01


@pytest.mark.parametrize("cls, kwargs", [
    (SpatialDropout2D, {"rate": 0.5}),
    (GaussianNoise, {"stddev": 0.3}),
    (GaussianDropout, {"rate": 0.3}),
])
def test_training_mode_gradcheck_with_a_fixed_draw(cls, kwargs):
    layer = cls(**kwargs, dtype="float64")
    x = np.random.default_rng(1).normal(size=(3, 2, 2, 3))

    def f(t):
        layer._rng = np.random.default_rng(9)
        return layer(t, training=True)

    assert sd.gradcheck(f, [x])


def test_activity_regularization_adds_the_keras_penalty_and_passes_the_input():
    x = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    layer = ActivityRegularization(l1=0.1, l2=0.01)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), x)
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.1 * 6.5 + 0.01 * 14.25, rel=1e-6)
    assert ActivityRegularization()(x) is not None and ActivityRegularization().losses == []


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"sd2.*rank 4.*\(2, 3, 4\)"):
        SpatialDropout2D(0.5, name="sd2")(np.zeros((2, 3, 4), np.float32), training=True)
    with pytest.raises(ValueError, match=r"rate.*\[0, 1\]"):
        SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.1, data_format="nhwc")
