"""Constraints: Keras's projections on arrays and Tensors, get/serialize."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import constraints

W = np.array([[3.0, 0.1], [4.0, -0.2]])  # column norms 5 and ~0.224


def test_max_norm_rescales_only_long_columns():
    out = constraints.MaxNorm(2.0)(W)
    norms = np.linalg.norm(out, axis=0)
    np.testing.assert_allclose(norms, [2.0, np.linalg.norm(W[:, 1])], rtol=1e-6)
    np.testing.assert_allclose(out[:, 0] / out[1, 0], W[:, 0] / W[1, 0])
    rows = constraints.MaxNorm(1.0, axis=1)(W)
    assert np.all(np.linalg.norm(rows, axis=1) <= 1.0 + 1e-6)


def test_unit_min_max_and_non_neg():
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm()(W), axis=0), [1.0, 1.0], rtol=1e-6)
    out = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(W)
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [0.5 * 2 + 0.5 * 5, 0.5 * 1 + 0.5 * 0.2236068], rtol=1e-5)
    np.testing.assert_array_equal(constraints.NonNeg()(W), np.where(W >= 0, W, 0))


def test_tensors_in_tensors_out():
    t = sd.Tensor(W.astype(np.float32))
    out = constraints.MaxNorm(1.0)(t)
    assert isinstance(out, sd.Tensor) and out.dtype == np.float32 and not out.requires_grad
    assert isinstance(constraints.NonNeg()(W), np.ndarray)


def test_get_serialize():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    config = constraints.serialize(constraints.MaxNorm(3.0, axis=[0, 1]))
    assert config == {"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": [0, 1]}}
    assert constraints.get(config).max_value == 3.0
    for cls in (constraints.MaxNorm, constraints.MinMaxNorm, constraints.NonNeg, constraints.UnitNorm):
        assert type(constraints.deserialize(constraints.serialize(cls()))) is cls
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.get("positive")
