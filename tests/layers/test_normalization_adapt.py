"""Normalization as tutorials use it: `mean` and `variance` after adapt (broadcast shape, as Keras), axis=None on
1-D data, invert=True, mean/variance given at construction, inside a Sequential model fed 1-D data."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers import Normalization

HORSEPOWER = np.array([130.0, 165.0, 150.0, 140.0, 198.0])


def test_mean_and_variance_after_adapt_have_the_broadcast_shape():
    data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], np.float32)
    layer = Normalization(axis=-1)
    layer.adapt(data)
    assert layer.mean.shape == (1, 3) and layer.mean.dtype == np.float32
    np.testing.assert_allclose(layer.mean.numpy(), [[1.0, 8.0, 5.0]])
    np.testing.assert_allclose(layer.variance.numpy(), [[1.0, 1.0, 1.0]])
    with pytest.raises(AttributeError, match="adapt"):
        _ = Normalization().mean


def test_axis_none_on_1d_data_as_the_regression_tutorial():
    layer = Normalization(input_shape=[1], axis=None)
    layer.adapt(HORSEPOWER)
    np.testing.assert_allclose(layer.mean.numpy().ravel(), [HORSEPOWER.mean()], rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy().ravel(), [HORSEPOWER.var()], rtol=1e-6)
    expected = (HORSEPOWER - HORSEPOWER.mean()) / HORSEPOWER.std()
    np.testing.assert_allclose(layer(HORSEPOWER).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(layer(HORSEPOWER[:, None]).numpy().ravel(), expected, rtol=1e-5)
    model = sd.models.Sequential([layer, layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(HORSEPOWER, HORSEPOWER / 100, epochs=1, verbose=0)
    assert model.predict(HORSEPOWER[:3], verbose=0).shape == (3, 1)


def test_invert_maps_back():
    data = np.random.default_rng(0).normal(5.0, 3.0, (50, 2)).astype(np.float32)
    forward = Normalization()
    forward.adapt(data)
    inverse = Normalization(invert=True)
    inverse.adapt(data)
    np.testing.assert_allclose(inverse(forward(data)).numpy(), data, rtol=1e-5, atol=1e-5)


def test_given_mean_and_variance():
    layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    out = layer(np.array([[3.0, 5.0]], np.float32))
    np.testing.assert_allclose(out.numpy(), [[1.0, 1.0]])
    np.testing.assert_allclose(layer.mean.numpy(), [[1.0, 2.0]])
    np.testing.assert_allclose(layer.variance.numpy(), [[4.0, 9.0]])
    back = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(back(out).numpy(), [[3.0, 5.0]])
