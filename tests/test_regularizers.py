"""Regularizers: penalty values and gradients in the graph, Keras defaults, get/serialize, layer losses."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers, regularizers
from shendu.variable import Variable


def _weight():
    return Variable(np.array([[1.0, -2.0], [0.5, -0.25]]), name="w")


def test_penalties_and_their_gradients():
    w = _weight()
    arr = w.numpy().copy()
    cases = [
        (regularizers.L1(0.1), 0.1 * np.abs(arr).sum(), 0.1 * np.sign(arr)),
        (regularizers.L2(0.2), 0.2 * (arr**2).sum(), 0.4 * arr),
        (regularizers.L1L2(l1=0.1, l2=0.2), 0.1 * np.abs(arr).sum() + 0.2 * (arr**2).sum(),
         0.1 * np.sign(arr) + 0.4 * arr),
    ]
    for reg, value, grad in cases:
        w.zero_grad()
        penalty = reg(w)
        assert isinstance(penalty, sd.Tensor) and penalty.shape == ()
        assert penalty.item() == pytest.approx(value)
        penalty.backward()
        np.testing.assert_allclose(w.grad.numpy(), grad)


def test_gradcheck():
    x = np.random.default_rng(0).uniform(0.2, 1.0, (3, 2)) * np.array([1, -1])
    for reg in (regularizers.L1(0.3), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.2)):
        assert sd.gradcheck(reg, [x])


def test_keras_defaults_and_aliases():
    assert regularizers.l2().l2 == 0.01 and regularizers.L1().l1 == 0.01
    assert regularizers.get("l2").l2 == 0.01
    both = regularizers.l1_l2()
    assert (both.l1, both.l2) == (0.01, 0.01)
    assert (regularizers.L1L2().l1, regularizers.L1L2().l2) == (0.0, 0.0)
    assert regularizers.L1L2()(_weight()).item() == 0.0
    assert isinstance(regularizers.l1(0.5), regularizers.L1)
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)


def test_get_serialize_deserialize():
    assert regularizers.get(None) is None
    reg = regularizers.L1L2(l1=0.001, l2=0.002)
    assert regularizers.get(reg) is reg
    config = regularizers.serialize(reg)
    assert config == {"class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.002}}
    again = regularizers.get(config)
    assert (again.l1, again.l2) == (0.001, 0.002)
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        regularizers.get("l3")


def test_callable_regularizers_and_layer_losses():
    def half_sum(w):
        return w.sum() * 0.5

    layer = layers.Dense(2, kernel_regularizer=half_sum, bias_regularizer="l2", bias_initializer="ones")
    layer.build((None, 3))
    values = [loss.item() for loss in layer.losses]
    assert values == pytest.approx([0.5 * layer.kernel.numpy().sum(), 0.01 * 2.0])
