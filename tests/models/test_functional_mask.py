"""`model(x, mask=m)` on functional models: the mask is attached to the (adapted) input before the graph runs,
as Keras 3's Functional.call does, for one input or several (a list or a dict by name)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.keras_mask import get_keras_mask

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 2)).astype("float32")
MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)


def test_a_mask_given_to_the_model_reaches_its_lstm():
    inputs = layers.Input((None, 2))
    lstm = layers.LSTM(4)
    model = sd.models.Model(inputs, lstm(inputs))
    want = lstm(X, mask=MASK).numpy()
    assert not np.allclose(model(X).numpy(), want, atol=1e-3)  # the mask changes the result
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model's output has no mask: nothing is lost, nothing to warn about
        np.testing.assert_allclose(model(X, mask=MASK).numpy(), want, atol=1e-6)
    x = sd.Tensor(X)
    np.testing.assert_allclose(model.call(x, mask=sd.Tensor(MASK)).numpy(), want, atol=1e-6)
    np.testing.assert_allclose(model(X[:, :, :, None], mask=[MASK]).numpy(), want, atol=1e-6)  # adapted input
    assert get_keras_mask(x) is None  # the caller's tensor does not keep the mask
    np.testing.assert_allclose(model(x).numpy(), model(X).numpy())


def test_masks_of_several_inputs_by_position_and_by_name():
    a, b = layers.Input((None, 2), name="a"), layers.Input((None, 2), name="b")
    seq, gru = layers.LSTM(3, return_sequences=True), layers.GRU(2)
    model = sd.models.Model([a, b], [seq(a), gru(b)])
    other = MASK[::-1]
    by_position = model([X, X], mask=[MASK, None])
    np.testing.assert_allclose(by_position[0].numpy(), seq(X, mask=MASK).numpy(), atol=1e-6)
    np.testing.assert_array_equal(get_keras_mask(by_position[0]), MASK)  # passed on by return_sequences
    np.testing.assert_allclose(by_position[1].numpy(), model([X, X])[1].numpy(), atol=1e-6)
    by_name = model([X, X], mask={"b": other})
    np.testing.assert_allclose(by_name[0].numpy(), model([X, X])[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(by_name[1].numpy(), gru(X, mask=other).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match=r"2 inputs.*list of 2 masks"):
        model([X, X], mask=MASK)
    with pytest.raises(ValueError, match=r"unknown input\(s\) \['c'\]"):
        model([X, X], mask={"c": MASK})
