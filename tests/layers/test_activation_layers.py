"""ReLU, LeakyReLU, PReLU, ELU and Softmax layers: the harness, Keras formulas and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import layers

from .harness import check_layer, random_inputs


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 1.5}, {"negative_slope": 0.1}, {"threshold": 0.5},
                                    {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.3}])
def test_relu_harness(kwargs):
    data = random_inputs((3, 4))
    for v in (0.3, 1.0, 1.5):  # keep finite differences off the kinks
        data[np.abs(data - v) < 0.02] += 0.05
    check_layer(layers.ReLU, kwargs, input_data=data)


def test_relu_follows_keras_formula():
    x = np.array([[-2.0, -0.5, 0.2, 0.7, 3.0]], np.float32)
    y = layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)(x).numpy()
    expected = np.where(x > 0.5, np.minimum(x, 2.0), 0.1 * (x - 0.5))
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_relu_matches_torch_relu6(torch):
    x = random_inputs((4, 5), low=-8, high=8)
    np.testing.assert_allclose(layers.ReLU(max_value=6)(x).numpy(), torch.nn.functional.relu6(torch.tensor(x)).numpy())


def test_relu_rejects_negative_arguments():
    for kwargs in ({"max_value": -1}, {"negative_slope": -0.1}, {"threshold": -1}):
        with pytest.raises(ValueError, match="ReLU"):
            layers.ReLU(**kwargs)


def test_leaky_relu_default_and_keras2_alpha():
    check_layer(layers.LeakyReLU)
    x = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), [[-0.3, 2.0]], rtol=1e-6)
    layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    np.testing.assert_allclose(layer(x).numpy(), [[-0.1, 2.0]], rtol=1e-6)
    assert layer.get_config()["negative_slope"] == 0.1


def test_prelu_learns_alpha():
    check_layer(layers.PReLU, {"alpha_initializer": "ones"}, input_shape=(3, 4, 2))
    layer = check_layer(layers.PReLU, {"shared_axes": [1]}, input_shape=(3, 4, 2))
    assert layer.alpha.shape == (1, 2)
    x = np.array([[-2.0, 3.0]], np.float32)
    prelu = layers.PReLU()
    np.testing.assert_allclose(prelu(x).numpy(), [[0.0, 3.0]])
    prelu.set_weights([np.array([0.25, 0.5], np.float32)])
    np.testing.assert_allclose(prelu(x).numpy(), [[-0.5, 3.0]])


def test_elu_layer():
    check_layer(layers.ELU, {"alpha": 0.5})
    np.testing.assert_allclose(layers.ELU(0.5)(np.array([[-1.0, 1.0]], np.float32)).numpy(),
                               [[0.5 * (np.exp(-1) - 1), 1.0]], rtol=1e-6)


def test_softmax_layer_axis_and_mask():
    check_layer(layers.Softmax)
    check_layer(layers.Softmax, {"axis": 1}, input_shape=(2, 3, 4))
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    mask = np.array([[True, False, True]])
    y = layers.Softmax()(x, mask=mask).numpy()
    e = np.exp([1.0, 3.0])
    np.testing.assert_allclose(y, [[e[0] / e.sum(), 0.0, e[1] / e.sum()]], rtol=1e-6)
