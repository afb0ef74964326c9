"""Flatten, Reshape, Permute, RepeatVector: the harness, Keras shapes and the error for impossible targets."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import layers

from .harness import check_layer, random_inputs


def test_flatten():
    check_layer(layers.Flatten, input_shape=(2, 3, 4), expected_output_shape=(2, 12))
    check_layer(layers.Flatten, input_shape=(2,), expected_output_shape=(2, 1))
    assert layers.Flatten().compute_output_shape((None, None, 4)) == (None, None)


def test_flatten_channels_first_orders_features_as_keras():
    x = random_inputs((2, 3, 4, 5))
    y = layers.Flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(y, x.transpose(0, 2, 3, 1).reshape(2, -1))
    with pytest.raises(ValueError, match="data_format"):
        layers.Flatten(data_format="nchw")


def test_reshape_with_and_without_minus_one():
    check_layer(layers.Reshape, {"target_shape": (3, 4)}, input_shape=(2, 12), expected_output_shape=(2, 3, 4))
    check_layer(layers.Reshape, {"target_shape": (-1, 2)}, input_shape=(2, 3, 4), expected_output_shape=(2, 6, 2))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert layers.Reshape((-1, 2))(layers.Input((3, 4))).shape == (None, 6, 2)


def test_reshape_impossible_target_names_layer_input_and_target():
    layer = layers.Reshape((5,), name="to_five")
    with pytest.raises(ValueError, match=r"Reshape 'to_five'.*\(None, 2, 3\).*\(5,\)"):
        layer(layers.Input((2, 3)))
    with pytest.raises(ValueError, match=r"Reshape 'bad'.*\(None, 6\).*\(-1, 4\)"):
        layers.Reshape((-1, 4), name="bad")(np.zeros((4, 6), np.float32))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_permute():
    check_layer(layers.Permute, {"dims": (2, 1)}, input_shape=(2, 3, 4), expected_output_shape=(2, 4, 3))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((1, 3))


def test_repeat_vector():
    layer = check_layer(layers.RepeatVector, {"n": 3}, input_shape=(2, 4), expected_output_shape=(2, 3, 4))
    x = random_inputs((2, 4))
    y = layer(x).numpy()
    assert all(np.array_equal(y[:, i], x) for i in range(3))
