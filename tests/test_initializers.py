"""Initializers: Keras's formulas checked on sample statistics, fans of conv kernels, seeds, get/serialize."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shendu as sd
from shendu import initializers

SHAPE = (400, 300)  # fan_in 400, fan_out 300: 120,000 samples, so the statistics are tight


def test_compute_fans_like_keras():
    assert initializers.compute_fans(()) == (1, 1)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans((5, 3)) == (5, 3)
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((5, 8, 4)) == (40, 20)


@pytest.mark.parametrize(("name", "limit"), [
    ("glorot_uniform", math.sqrt(6 / 700)), ("he_uniform", math.sqrt(6 / 400)), ("lecun_uniform", math.sqrt(3 / 400)),
])
def test_uniform_variance_scaling(name, limit):
    w = initializers.get(name)(SHAPE)
    assert w.dtype == np.float32 and w.shape == SHAPE
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize(("name", "stddev"), [
    ("glorot_normal", math.sqrt(2 / 700)), ("he_normal", math.sqrt(2 / 400)), ("lecun_normal", math.sqrt(1 / 400)),
])
def test_truncated_normal_variance_scaling(name, stddev):
    w = initializers.get(name)(SHAPE)
    # the draw is cut at 2 sigma of a normal with stddev / 0.8796, which restores the target stddev
    assert w.std() == pytest.approx(stddev, rel=0.02)
    assert np.abs(w).max() <= 2 * stddev / 0.87962566103423978 + 1e-7


def test_conv_kernel_fans_set_the_scale():
    w = initializers.HeUniform()((3, 3, 16, 32))
    assert np.abs(w).max() <= math.sqrt(6 / 144)
    assert w.std() == pytest.approx(math.sqrt(2 / 144), rel=0.05)


def test_variance_scaling_untruncated_and_fan_out():
    w = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="untruncated_normal")(SHAPE)
    assert w.std() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    assert np.abs(w).max() > 3 * math.sqrt(2 / 300)
    for bad in ({"scale": 0}, {"mode": "fan_mid"}, {"distribution": "cauchy"}):
        with pytest.raises(ValueError, match="VarianceScaling"):
            initializers.VarianceScaling(**bad)


def test_random_and_constant_initializers_use_keras_defaults():
    n = initializers.RandomNormal()(SHAPE)
    assert n.std() == pytest.approx(0.05, rel=0.02)
    u = initializers.RandomUniform()(SHAPE)
    assert u.min() >= -0.05 and u.max() < 0.05 and u.std() == pytest.approx(0.1 / math.sqrt(12), rel=0.02)
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.1)(SHAPE)
    assert t.min() >= 0.8 and t.max() <= 1.2 and t.mean() == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(initializers.get("ones")((2,)), np.ones(2, np.float32))
    np.testing.assert_array_equal(initializers.Constant(0.5)((2, 2), dtype="float64"), np.full((2, 2), 0.5))


def test_orthogonal_gives_orthonormal_rows_or_columns(torch):
    for shape in [(6, 4), (4, 6), (3, 3, 2, 8)]:
        w = initializers.Orthogonal(gain=2.0, seed=1)(shape, dtype="float64")
        flat = w.reshape(-1, shape[-1])
        small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-10)
        ref = torch.empty(shape[-1], math.prod(shape[:-1]), dtype=torch.float64)
        torch.nn.init.orthogonal_(ref, gain=2.0)  # same property in torch's (out, in) layout
        np.testing.assert_allclose(np.linalg.svd(flat, compute_uv=False), np.linalg.svd(ref.numpy(), compute_uv=False))
    with pytest.raises(ValueError, match="at least two dimensions"):
        initializers.Orthogonal()((3,))


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3.0 * np.eye(2, 3, dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        initializers.get("identity")((2, 2, 2))


def test_seeds():
    seeded = initializers.GlorotUniform(seed=3)
    np.testing.assert_array_equal(seeded((5, 4)), seeded((5, 4)))
    np.testing.assert_array_equal(seeded((5, 4)), initializers.GlorotUniform(seed=3)((5, 4)))
    unseeded = initializers.GlorotUniform()
    assert not np.array_equal(unseeded((5, 4)), unseeded((5, 4)))
    sd.random.seed(11)
    a = unseeded((5, 4))
    sd.random.seed(11)
    np.testing.assert_array_equal(a, unseeded((5, 4)))
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")


def test_dtype_follows_argument_then_floatx():
    assert initializers.HeNormal()((3, 2), dtype="float64").dtype == np.float64
    sd.set_floatx("float64")
    try:
        assert initializers.HeNormal()((3, 2)).dtype == np.float64
    finally:
        sd.set_floatx("float32")


def test_get_serialize_and_deserialize():
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    inst = initializers.RandomNormal(stddev=0.2, seed=4)
    assert initializers.get(inst) is inst
    config = initializers.serialize(inst)
    assert config == {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.2, "seed": 4}}
    np.testing.assert_array_equal(initializers.deserialize(config)((3,)), inst((3,)))
    assert initializers.get({"class_name": "VarianceScaling", "config": {"scale": 2.0}}).scale == 2.0

    def fn(shape, dtype=None):
        return np.zeros(shape)

    assert initializers.get(fn) is fn
    for cls in initializers._CLASSES:
        obj = cls()
        again = initializers.deserialize(initializers.serialize(obj))
        assert type(again) is cls and again.get_config() == obj.get_config()
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        initializers.get("glorot")
