"""Activations: PyTorch parity of values and gradients in float64, gradchecks, Keras formulas, get/serialize."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shendu as sd
from shendu import activations
from shendu.ops.nn import erf


def _inputs(shape=(4, 6), low=-5.0, high=5.0, dtype="float64", seed=0):
    x = np.random.default_rng(seed).uniform(low, high, shape)
    for kink in (-3.0, 0.0, 3.0, 6.0):  # keep finite differences and tie-breaking off the kinks
        x[np.abs(x - kink) < 0.05] += 0.1
    return x.astype(dtype)


TORCH_REFERENCES = {
    "linear": lambda f, t: t,
    "relu": lambda f, t: f.relu(t),
    "leaky_relu": lambda f, t: f.leaky_relu(t, 0.2),
    "relu6": lambda f, t: f.relu6(t),
    "sigmoid": lambda f, t: f.sigmoid(t),
    "tanh": lambda f, t: f.tanh(t),
    "softmax": lambda f, t: f.softmax(t, dim=-1),
    "log_softmax": lambda f, t: f.log_softmax(t, dim=-1),
    "elu": lambda f, t: f.elu(t),
    "selu": lambda f, t: f.selu(t),
    "gelu": lambda f, t: f.gelu(t),
    "silu": lambda f, t: f.silu(t),
    "softplus": lambda f, t: f.softplus(t),
    "softsign": lambda f, t: f.softsign(t),
    "hard_sigmoid": lambda f, t: f.hardsigmoid(t),
    "hard_silu": lambda f, t: f.hardswish(t),
    "exponential": lambda f, t: t.exp(),
    "mish": lambda f, t: f.mish(t),
}


@pytest.mark.parametrize("name", sorted(TORCH_REFERENCES))
def test_matches_torch_values_and_gradients(torch, name):
    x = _inputs(low=-8, high=8)
    t = torch.tensor(x, requires_grad=True)
    ref = TORCH_REFERENCES[name](torch.nn.functional, t)
    xs = sd.Tensor(x, requires_grad=True)
    out = activations.get(name)(xs)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(1).normal(size=x.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    rtol = 1e-7 if name.startswith("hard_") else 1e-10  # torch's hard* backward uses a float32 1/6
    np.testing.assert_allclose(xs.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-13)


def test_gelu_tanh_approximation_matches_torch(torch):
    x = _inputs()
    ref = torch.nn.functional.gelu(torch.tensor(x), approximate="tanh").numpy()
    np.testing.assert_allclose(activations.gelu(x, approximate=True).numpy(), ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(activations._BUILTINS))
def test_gradcheck(name):
    fn = activations.get(name)
    assert sd.gradcheck(fn, [_inputs((3, 4), low=-4, high=4)])


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.1}, {"max_value": 2.0}, {"threshold": 1.0},
                                    {"negative_slope": 0.3, "max_value": 4.0, "threshold": -1.0}])
def test_relu_options_follow_keras_and_gradcheck(kwargs):
    x = _inputs()
    x[np.abs(x - 4.0) < 0.05] += 0.1
    x[np.abs(x - 2.0) < 0.05] += 0.1
    x[np.abs(x - 1.0) < 0.05] += 0.1
    x[np.abs(x + 1.0) < 0.05] += 0.1
    slope, top, thr = kwargs.get("negative_slope", 0.0), kwargs.get("max_value"), kwargs.get("threshold", 0.0)
    pos = np.where(x > thr, x, 0.0) if thr else np.maximum(x, 0)
    if top is not None:
        pos = np.clip(pos, 0, top)
    expected = pos - slope * np.maximum(thr - x, 0)
    np.testing.assert_allclose(activations.relu(x, **kwargs).numpy(), expected, rtol=1e-12)
    assert sd.gradcheck(lambda t: activations.relu(t, **kwargs), [x])


def test_erf_is_accurate_in_float64_and_float32():
    x = np.linspace(-7, 7, 20001)
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), ref, rtol=0, atol=3e-15)
    got32 = erf(x.astype(np.float32))
    assert got32.dtype == np.float32
    ref32 = np.array([math.erf(float(v)) for v in x.astype(np.float32)])
    np.testing.assert_allclose(got32, ref32, rtol=0, atol=1e-6)
    assert erf(np.array([np.inf, -np.inf, 0.0])).tolist() == [1.0, -1.0, 0.0]


def test_float32_stays_float32():
    x = _inputs(dtype="float32")
    for name in activations._BUILTINS:
        assert activations.get(name)(x).dtype == np.float32, name


def test_keras_formulas():
    x = np.array([-4.0, -1.0, 0.5, 2.0, 4.0])
    np.testing.assert_allclose(activations.hard_sigmoid(x).numpy(), np.clip(x + 3, 0, 6) / 6)
    np.testing.assert_allclose(activations.selu(x).numpy(),
                               1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)))
    np.testing.assert_allclose(activations.leaky_relu(x).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(activations.softplus(np.array([1000.0, -1000.0])).numpy(), [1000.0, 0.0])
    np.testing.assert_allclose(activations.elu(x, alpha=0.5).numpy(), np.where(x > 0, x, 0.5 * np.expm1(x)))


def test_softmax_and_sigmoid_use_the_ops_losses_detect():
    x = sd.Tensor(_inputs(), requires_grad=True)
    assert isinstance(activations.softmax(x).grad_fn, sd.ops.Softmax)
    assert isinstance(activations.get("sigmoid")(x).grad_fn, sd.ops.Sigmoid)
    assert activations.softmax(x, axis=0).numpy().sum(axis=0) == pytest.approx(np.ones(6))


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.serialize(activations.swish) == "silu"
    assert activations.get(np.tanh) is np.tanh
    for name in activations._BUILTINS:
        assert activations.serialize(activations.get(name)) == name
    assert activations.deserialize({"module": "keras.activations", "class_name": "function", "config": "relu",
                                    "registered_name": "relu"}) is activations.relu
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        activations.get("relux")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)


def test_layer_instances_serve_as_activations():
    from shendu import layers

    dense = layers.Dense(2, activation=layers.LeakyReLU(0.1))
    config = dense.get_config()
    assert config["activation"]["class_name"] == "LeakyReLU"
    clone = layers.Dense.from_config(config)
    assert isinstance(clone.activation, layers.LeakyReLU) and clone.activation.negative_slope == 0.1
