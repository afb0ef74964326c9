"""Merge layers: element-wise (with Keras's broadcasting), Concatenate, the functional forms and shape errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers

from .harness import check_layer, random_inputs

ELEMENTWISE = [
    (layers.Add, lambda a, b, c: a + b + c),
    (layers.Multiply, lambda a, b, c: a * b * c),
    (layers.Average, lambda a, b, c: (a + b + c) / 3),
    (layers.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (layers.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
]


@pytest.mark.parametrize(("cls", "reference"), ELEMENTWISE)
def test_elementwise_merge(cls, reference):
    data = random_inputs([(2, 3), (2, 3), (2, 3)])
    layer = check_layer(cls, input_data=data, expected_output_shape=(2, 3))
    np.testing.assert_allclose(layer(data).numpy(), reference(*data), rtol=1e-6)


def test_subtract_takes_exactly_two_inputs():
    data = random_inputs([(2, 3), (2, 3)])
    layer = check_layer(layers.Subtract, input_data=data)
    np.testing.assert_allclose(layer(data).numpy(), data[0] - data[1], rtol=1e-6)
    with pytest.raises(ValueError, match=r"Subtract .*exactly 2 inputs, got 3"):
        layers.Subtract()(random_inputs([(2, 3)] * 3))


def test_merge_broadcasts_like_keras():
    data = random_inputs([(2, 3, 4), (2, 1, 4), (2, 4)])
    layer = check_layer(layers.Add, input_data=data, expected_output_shape=(2, 3, 4))
    np.testing.assert_allclose(layer(data).numpy(), data[0] + data[1] + data[2][:, None, :], rtol=1e-6)


def test_merge_shape_errors_show_the_shapes():
    with pytest.raises(ValueError, match=r"incompatible shapes .*\(None, 3\).*\(None, 4\)"):
        layers.add([layers.Input((3,)), layers.Input((4,))])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32)])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(np.zeros((2, 3), np.float32))


def test_concatenate():
    data = random_inputs([(2, 3), (2, 5)])
    layer = check_layer(layers.Concatenate, input_data=data, expected_output_shape=(2, 8))
    np.testing.assert_array_equal(layer(data).numpy(), np.concatenate(data, axis=-1))
    data = random_inputs([(2, 3, 4), (2, 1, 4)])
    check_layer(layers.Concatenate, {"axis": 1}, input_data=data, expected_output_shape=(2, 4, 4))


def test_concatenate_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"Concatenate 'join'.*except the concatenation axis -1.*\(None, 3, 4\)"):
        layers.Concatenate(name="join")([layers.Input((3, 4)), layers.Input((2, 5))])
    with pytest.raises(ValueError, match="same rank"):
        layers.concatenate([layers.Input((3,)), layers.Input((3, 4))])
    assert layers.Concatenate().compute_output_shape([(None, 2), (None, None)]) == (None, None)


def test_functional_forms_build_symbolic_graphs():
    a, b = layers.Input((4,)), layers.Input((4,))
    for fn in (layers.add, layers.subtract, layers.multiply, layers.average, layers.maximum, layers.minimum):
        out = fn([a, b], name=f"{fn.__name__}_merge")
        assert out.shape == (None, 4) and out.node.layer.name == f"{fn.__name__}_merge"
    assert layers.concatenate([a, b], axis=1).shape == (None, 8)


def test_merge_gradients_reach_every_input():
    xs = [sd.Tensor(v, requires_grad=True) for v in random_inputs([(2, 3), (2, 3)])]
    layers.Average()(xs).sum().backward()
    for x in xs:
        np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 0.5))
