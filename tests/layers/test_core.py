"""Dense, Activation, Dropout and Lambda: the common harness, PyTorch parity, Keras layout and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import activations, constraints, initializers, layers, regularizers

from .harness import check_layer, random_inputs


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax", "gelu", "elu"])
def test_dense_harness(activation):
    check_layer(layers.Dense, {"units": 3, "activation": activation}, input_shape=(4, 5), expected_output_shape=(4, 3))


def test_dense_harness_without_bias_and_rank3():
    layer = check_layer(layers.Dense, {"units": 2, "use_bias": False}, input_shape=(2, 3, 4),
                        expected_output_shape=(2, 3, 2))
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel"]


def test_dense_weights_are_kernel_then_bias_in_keras_layout():
    layer = layers.Dense(3)
    layer.build((None, 5))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 3), (3,)]
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    kernel = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    bias = np.array([1.0, -1.0, 0.5], np.float32)
    layer.set_weights([kernel, bias])
    x = random_inputs((4, 5))
    np.testing.assert_allclose(layer(x).numpy(), x @ kernel + bias, rtol=1e-6)


def test_dense_matches_torch_forward_and_gradients(torch):
    x = random_inputs((6, 7), dtype="float64")
    layer = layers.Dense(4, activation="relu", dtype="float64")
    out = layer(sd.Tensor(x, requires_grad=True))
    weight = torch.tensor(layer.kernel.numpy().T.copy(), requires_grad=True)
    bias = torch.tensor(layer.bias.numpy().copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.relu(torch.nn.functional.linear(xt, weight, bias))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(0).normal(size=out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(layer.kernel.grad.numpy(), weight.grad.numpy().T, rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.numpy(), bias.grad.numpy(), rtol=1e-10)


def test_dense_casts_inputs_to_its_dtype():
    layer = layers.Dense(2)
    assert layer(np.ones((2, 3), np.int64)).dtype == np.float32
    assert layer(sd.Tensor(np.ones((2, 3), np.float64))).dtype == np.float32


def test_dense_skips_input_gradient_when_not_needed():
    layer = layers.Dense(3)
    x = sd.Tensor(random_inputs((2, 4)))
    layer(x).sum().backward()
    assert x.grad is None and layer.kernel.grad is not None


def test_dense_softmax_and_sigmoid_end_in_the_ops_the_losses_fuse():
    x = random_inputs((2, 4))
    assert isinstance(layers.Dense(3, activation="softmax")(x).grad_fn, sd.ops.Softmax)
    assert isinstance(layers.Dense(1, activation="sigmoid")(x).grad_fn, sd.ops.Sigmoid)


def test_dense_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)
    layer = layers.Dense(3, name="head")
    layer(random_inputs((2, 4)))
    with pytest.raises(ValueError, match=r"Dense 'head'.*last axis is 4.*\(2, 5\)"):
        layer(random_inputs((2, 5)))
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.Dense(3).build((None,))


def test_dense_config_serializes_initializers_regularizers_constraints_as_keras():
    layer = layers.Dense(3, activation="relu", kernel_initializer="he_normal", kernel_regularizer=regularizers.L2(1e-3),
                         bias_constraint="non_neg", activity_regularizer="l1")
    config = layer.get_config()
    assert config["activation"] == "relu"
    assert config["kernel_initializer"] == {"class_name": "HeNormal", "config": {"seed": None}}
    assert config["bias_initializer"] == {"class_name": "Zeros", "config": {}}
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 1e-3}}
    assert config["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.01}}
    assert config["bias_constraint"] == {"class_name": "NonNeg", "config": {}}
    clone = layers.Dense.from_config(json.loads(json.dumps(config)))
    assert isinstance(clone.kernel_initializer, initializers.HeNormal)
    assert isinstance(clone.kernel_regularizer, regularizers.L2) and clone.kernel_regularizer.l2 == 1e-3
    assert isinstance(clone.bias_constraint, constraints.NonNeg)
    assert clone.activation is activations.relu


def test_dense_regularization_losses():
    layer = layers.Dense(2, kernel_regularizer=regularizers.L2(0.1), bias_regularizer=regularizers.L1(0.5),
                         activity_regularizer=regularizers.L1(0.01), bias_initializer="ones")
    x = random_inputs((3, 4))
    out = layer(x)
    kernel, bias = layer.get_weights()
    values = sorted(float(loss.item()) for loss in layer.losses)
    expected = sorted([0.1 * float((kernel**2).sum()), 0.5 * float(np.abs(bias).sum()),
                       0.01 * float(np.abs(out.numpy()).sum())])
    np.testing.assert_allclose(values, expected, rtol=1e-5)
    total = sum(layer.losses[1:], layer.losses[0])
    total.backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), 0.5 + 0.01 * np.sign(out.numpy()).sum(0), rtol=1e-5)


def test_dense_attaches_constraints_to_its_weights():
    layer = layers.Dense(2, kernel_constraint=constraints.MaxNorm(1.0))
    layer.build((None, 3))
    assert isinstance(layer.kernel.constraint, constraints.MaxNorm)
    assert layer.bias.constraint is None


def test_activation_layer():
    check_layer(layers.Activation, {"activation": "tanh"})
    layer = layers.Activation("softmax")
    np.testing.assert_allclose(layer(np.zeros((2, 4), np.float32)).numpy(), np.full((2, 4), 0.25))
    assert layer.get_config()["activation"] == "softmax"


def test_dropout_is_identity_unless_training():
    check_layer(layers.Dropout, {"rate": 0.5})
    x = np.ones((4, 5), np.float32)
    layer = layers.Dropout(0.5)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert not np.array_equal(layer(x, training=True).numpy(), x)


def test_dropout_scales_kept_units_and_backpropagates_the_mask():
    sd.random.seed(0)
    x = sd.Tensor(np.ones((200, 100), np.float32), requires_grad=True)
    y = layers.Dropout(0.3)(x, training=True)
    values = np.unique(y.numpy())
    np.testing.assert_allclose(values, [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y.numpy() == 0).mean() - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_dropout_gradcheck_with_a_fixed_mask():
    def f(x):
        return sd.ops.nn.Dropout.apply(x, rate=0.4, rng=np.random.default_rng(3))

    assert sd.gradcheck(f, [random_inputs((3, 4), "float64")])


def test_dropout_noise_shape_seed_and_rates():
    x = np.ones((3, 4, 5), np.float32)
    y = layers.Dropout(0.5, noise_shape=(None, 1, 5), seed=1)(x, training=True).numpy()
    assert all(np.array_equal(y[:, 0], y[:, i]) for i in range(4))
    a = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True).numpy(), 0 * x)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True).numpy(), x)
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\]"):
        layers.Dropout(1.5)


def test_dropout_is_repeatable_under_the_global_seed():
    x = np.ones((4, 6), np.float32)
    sd.random.seed(5)
    a = layers.Dropout(0.5)(x, training=True).numpy()
    sd.random.seed(5)
    b = layers.Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def square_plus_one(x):
    return x * x + 1.0


def scaled(x, factor=1.0):
    return x * factor


def test_lambda_with_a_named_function_round_trips_through_custom_objects():
    layer = layers.Lambda(square_plus_one)
    x = random_inputs((2, 3))
    np.testing.assert_allclose(layer(x).numpy(), x * x + 1, rtol=1e-6)
    config = layer.get_config()
    assert config["function"] == "square_plus_one"
    with pytest.raises(ValueError, match="register"):
        layers.Lambda.from_config(config)
    clone = layers.deserialize(layers.serialize(layer), custom_objects={"square_plus_one": square_plus_one})
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy())


def test_lambda_harness_with_a_registered_function_and_arguments():
    fn = layers.register_keras_serializable(package="Test")(scaled)
    check_layer(layers.Lambda, {"function": fn, "arguments": {"factor": 3.0}})
    assert layers.Lambda(fn).get_config()["function"] == "Test>scaled"


def test_lambda_with_a_builtin_activation_and_output_shape():
    layer = layers.Lambda(activations.relu, output_shape=(3,))
    assert layer.get_config()["function"] == "relu"
    assert layers.Lambda.from_config(layer.get_config()).function is activations.relu
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    inferred = layers.Lambda(lambda t: t.sum(axis=-1, keepdims=True))
    assert inferred(layers.Input((4, 5))).shape == (None, 4, 1)
