"""BatchNormalization, LayerNormalization, GroupNormalization: the common harness, PyTorch parity of values,
gradients and moving statistics, Keras weight layout and semantics, gradchecks in float64, and errors.

PyTorch conversions: torch momentum = 1 - Keras momentum; torch keeps the *unbiased* batch variance in
running_var, Keras (and shendu) the biased one, so moving variances are compared after undoing that factor.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import constraints, layers, regularizers
from shendu.layers.normalization import BatchNormalization, GroupNormalization, LayerNormalization

from .harness import call_with_weights, check_layer, random_inputs

SCOPE = {c.__name__: c for c in (BatchNormalization, LayerNormalization, GroupNormalization)}


def harness(cls, kwargs, **options):
    with layers.custom_object_scope(SCOPE):
        return check_layer(cls, kwargs, **options)


# --- BatchNormalization ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, shape", [
    ({}, (4, 3, 3, 5)),
    ({"axis": 1}, (4, 3, 2, 2)),
    ({"axis": -1}, (6, 4)),
    ({"center": False}, (5, 3, 4)),
    ({"scale": False, "axis": 2}, (3, 2, 4, 2)),
    ({"center": False, "scale": False}, (4, 3)),
])
def test_batch_norm_harness_in_training(kwargs, shape):
    harness(BatchNormalization, kwargs, input_shape=shape, expected_output_shape=shape,
            call_kwargs={"training": True})


def test_batch_norm_weights_are_gamma_beta_moving_mean_moving_variance():
    layer = BatchNormalization()
    layer.build((None, 5, 5, 3))
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.trainable for w in layer.weights] == [True, True, False, False]
    assert layer.trainable_weights == layer.weights[:2] and layer.non_trainable_weights == layer.weights[2:]
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(3))
    assert [tuple(w.shape) for w in layer.weights] == [(3,)] * 4
    only_mean = BatchNormalization(center=False, scale=False)
    only_mean.build((None, 4))
    assert [w.name.split("/")[-1] for w in only_mean.weights] == ["moving_mean", "moving_variance"]


def test_batch_norm_inference_uses_moving_statistics_and_training_none_is_inference():
    layer = BatchNormalization(epsilon=1e-3)
    x = random_inputs((6, 2, 2, 3))
    gamma, beta = np.array([1.5, 0.5, 2.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32)
    mean, var = np.array([0.2, -0.1, 0.4], np.float32), np.array([0.5, 2.0, 1.5], np.float32)
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, var])
    want = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    for training in (None, False):
        np.testing.assert_allclose(layer(x, training=training).numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mean)  # inference leaves the statistics alone
    np.testing.assert_array_equal(layer.moving_variance.numpy(), var)


def test_batch_norm_training_normalizes_with_batch_statistics_and_updates_moving_ones():
    layer = BatchNormalization(momentum=0.9)
    x = random_inputs((16, 3, 3, 4)) * 3 + 2
    y = layer(x, training=True).numpy()
    axes = (0, 1, 2)
    np.testing.assert_allclose(y.mean(axes), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axes), x.var(axes) / (x.var(axes) + 1e-3), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(axes), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * x.var(axes), rtol=1e-5)  # biased var


def torch_bn(torch, x_nhwc, keras_momentum, eps, gamma, beta):
    bn = torch.nn.BatchNorm2d(x_nhwc.shape[-1], eps=eps, momentum=1 - keras_momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    return bn


def test_batch_norm_matches_torch_in_training_values_gradients_and_moving_statistics(torch):
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (8, 5, 5, 4))
    gamma, beta, g = rng.uniform(0.5, 1.5, 4), rng.normal(size=4), rng.normal(size=x.shape)
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([gamma, beta, np.zeros(4), np.ones(4)])
    bn = torch_bn(torch, x, 0.9, 1e-3, gamma, beta)

    xs = sd.Tensor(x, requires_grad=True)
    y = layer(xs, training=True)
    y.backward(g)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)  # NHWC -> NCHW
    yt = bn(xt)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))

    np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), bn.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(layer.beta.grad.numpy(), bn.bias.grad.numpy(), rtol=1e-9)

    for _ in range(2):
        layer(sd.Tensor(x * 0.5), training=True)
        bn(torch.tensor(x.transpose(0, 3, 1, 2) * 0.5))
    n = x.size // 4
    np.testing.assert_allclose(layer.moving_mean.numpy(), bn.running_mean.numpy(), rtol=1e-10)
    # torch adds (1 - m) * var * n / (n - 1) each step; Keras (1 - m) * var: the same recursion on a rescaled var
    keras_var = np.ones(4)
    for batch in (x, x * 0.5, x * 0.5):
        keras_var = 0.9 * keras_var + 0.1 * batch.var(axis=(0, 1, 2))
    np.testing.assert_allclose(layer.moving_variance.numpy(), keras_var, rtol=1e-10)
    torch_var = bn.running_var.numpy()
    assert not np.allclose(torch_var, keras_var, rtol=1e-3)  # the conventions really differ
    unbiased = np.ones(4)
    for batch in (x, x * 0.5, x * 0.5):
        unbiased = 0.9 * unbiased + 0.1 * batch.var(axis=(0, 1, 2)) * n / (n - 1)
    np.testing.assert_allclose(torch_var, unbiased, rtol=1e-10)

    bn.eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor(layer.moving_variance.numpy()))
    want = bn(torch.tensor(x.transpose(0, 3, 1, 2))).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(layer(sd.Tensor(x)).numpy(), want, rtol=1e-10, atol=1e-12)


def test_batch_norm_float32_on_a_conv_sized_batch_matches_torch_float64(torch):
    """float32 statistics over 43,264 values per channel stay accurate (blocked sums added in float64); torch's
    own float32 kernel is off by ~3e-4 here, so the reference is torch in float64."""
    rng = np.random.default_rng(1)
    x = np.maximum(rng.normal(0.3, 1.0, (64, 26, 26, 32)), 0).astype(np.float32)
    g = rng.normal(size=x.shape).astype(np.float32)
    layer = BatchNormalization()
    xs = sd.Tensor(x, requires_grad=True)
    y = layer(xs, training=True)
    y.backward(g)
    bn = torch.nn.BatchNorm2d(32, eps=1e-3, momentum=0.01).double()
    xt = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2).requires_grad_()
    yt = bn(xt)
    yt.backward(torch.tensor(g, dtype=torch.float64).permute(0, 3, 1, 2))
    np.testing.assert_allclose(y.numpy(), yt.detach().permute(0, 2, 3, 1).numpy(), atol=1e-5)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.permute(0, 2, 3, 1).numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), bn.weight.grad.numpy(), rtol=1e-4)
    np.testing.assert_allclose(layer.beta.grad.numpy(), bn.bias.grad.numpy(), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), bn.running_mean.numpy(), rtol=1e-6)


def test_batch_norm_on_channels_first_axis_1_matches_torch_directly(torch):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3, 4, 4))
    layer = BatchNormalization(axis=1, dtype="float64")
    y = layer(sd.Tensor(x), training=True).numpy()
    bn = torch.nn.BatchNorm2d(3, eps=1e-3).double()
    np.testing.assert_allclose(y, bn(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_inference_gradcheck_for_input_and_weights():
    layer = BatchNormalization(dtype="float64", axis=2)
    x = random_inputs((3, 2, 4, 2), dtype="float64")
    layer.build(x.shape)
    rng = np.random.default_rng(3)
    layer.set_weights([rng.uniform(0.5, 1.5, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)])
    weights = [w.data for w in layer.trainable_weights]
    assert sd.gradcheck(lambda x, g, b: call_with_weights(layer, x, [g, b]), [x, *weights])


def test_batch_norm_trainable_false_freezes_and_runs_in_inference_mode():
    layer = BatchNormalization()
    x = random_inputs((8, 3, 3, 2)) * 2 + 1
    layer(x, training=True)
    frozen_mean, frozen_var = layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    xs = sd.Tensor(x, requires_grad=True)
    y = layer(xs, training=True)
    np.testing.assert_allclose(y.numpy(), layer(x, training=False).numpy())
    np.testing.assert_array_equal(layer.moving_mean.numpy(), frozen_mean)
    np.testing.assert_array_equal(layer.moving_variance.numpy(), frozen_var)
    y.sum().backward()
    assert xs.grad is not None and layer.gamma.grad is None and layer.beta.grad is None


def test_batch_norm_keras_weights_load_and_config_round_trip_with_regularizer_and_constraint():
    layer = BatchNormalization(axis=-1, momentum=0.95, epsilon=1e-5, gamma_regularizer=regularizers.L2(0.1),
                               beta_constraint=constraints.NonNeg(), moving_variance_initializer="zeros")
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.zeros(3))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["momentum"] == 0.95 and config["epsilon"] == 1e-5 and config["axis"] == -1
    clone = BatchNormalization.from_config(config)
    assert clone.get_config() == config
    assert isinstance(clone.gamma_regularizer, regularizers.L2)
    assert isinstance(clone.beta_constraint, constraints.NonNeg)
    assert layer.beta.constraint is layer.beta_constraint
    layer.set_weights([np.full(3, 2.0), np.zeros(3), np.zeros(3), np.ones(3)])
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.1 * 12)


def test_batch_norm_float64_layer_keeps_float64():
    layer = BatchNormalization(dtype="float64")
    out = layer(sd.Tensor(random_inputs((4, 3), dtype="float64")), training=True)
    assert out.dtype == np.float64 and layer.moving_mean.dtype == np.float64


def test_batch_norm_errors_name_the_layer_and_shapes():
    layer = BatchNormalization(name="bn")
    layer(random_inputs((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"bn.*\(\?, \?, \?, 3\).*\(2, 4, 4, 5\)"):
        layer(random_inputs((2, 4, 4, 5)))
    with pytest.raises(ValueError, match="bn"):
        layer(random_inputs((2, 3)))
    with pytest.raises(ValueError, match="known size"):
        BatchNormalization().build((None, 4, None))
    with pytest.raises(ValueError, match="out of range"):
        BatchNormalization(axis=3).build((None, 4))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)


# --- LayerNormalization ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, shape", [
    ({}, (3, 5)),
    ({"axis": [1, 2]}, (2, 3, 4)),
    ({"axis": 1, "center": False}, (2, 3, 4)),
    ({"rms_scaling": True}, (3, 6)),
])
def test_layer_norm_harness(kwargs, shape):
    harness(LayerNormalization, kwargs, input_shape=shape, expected_output_shape=shape)


def test_layer_norm_matches_torch_values_and_gradients(torch):
    rng = np.random.default_rng(4)
    x, g = rng.normal(2, 3, (4, 3, 5)), rng.normal(size=(4, 3, 5))
    gamma, beta = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    layer = LayerNormalization(axis=[-2, -1], dtype="float64")
    layer.build(x.shape)
    layer.set_weights([gamma, beta])
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "beta"]
    xs = sd.Tensor(x, requires_grad=True)
    layer(xs).backward(g)
    xt, gt, bt = (torch.tensor(v, requires_grad=True) for v in (x, gamma, beta))
    torch.nn.functional.layer_norm(xt, (3, 5), gt, bt, eps=1e-3).backward(torch.tensor(g))
    np.testing.assert_allclose(layer(sd.Tensor(x)).numpy(), torch.nn.functional.layer_norm(
        torch.tensor(x), (3, 5), torch.tensor(gamma), torch.tensor(beta), eps=1e-3).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), gt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.beta.grad.numpy(), bt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_layer_norm_rms_scaling_matches_torch_rms_norm(torch):
    x = np.random.default_rng(5).normal(1, 2, (3, 8))
    layer = LayerNormalization(rms_scaling=True, dtype="float64")
    layer.build(x.shape)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma"]
    gamma = np.linspace(0.5, 2, 8)
    layer.set_weights([gamma])
    want = torch.nn.functional.rms_norm(torch.tensor(x), (8,), torch.tensor(gamma), eps=1e-3).numpy()
    np.testing.assert_allclose(layer(sd.Tensor(x)).numpy(), want, rtol=1e-10)


# --- GroupNormalization ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, shape", [
    ({"groups": 2}, (2, 3, 3, 4)),
    ({"groups": -1}, (2, 5, 3)),
    ({"groups": 3, "axis": 1, "scale": False}, (2, 6, 2)),
])
def test_group_norm_harness(kwargs, shape):
    harness(GroupNormalization, kwargs, input_shape=shape, expected_output_shape=shape)


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm_matches_torch_values_and_gradients(torch, groups):
    rng = np.random.default_rng(6)
    x, g = rng.normal(1, 2, (3, 4, 5, 4)), rng.normal(size=(3, 4, 5, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    layer = GroupNormalization(groups=groups, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([gamma, beta])
    xs = sd.Tensor(x, requires_grad=True)
    y = layer(xs)
    y.backward(g)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    yt = torch.nn.functional.group_norm(xt, groups, gt, bt, eps=1e-3)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), gt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(layer.beta.grad.numpy(), bt.grad.numpy(), rtol=1e-9)


def test_group_norm_rejects_groups_that_do_not_divide_the_channels():
    with pytest.raises(ValueError, match=r"gn.*6 channels.*4 equal groups"):
        GroupNormalization(groups=4, name="gn").build((None, 3, 6))
    with pytest.raises(ValueError, match="batch axis"):
        GroupNormalization(groups=1, axis=0).build((4, 3))
    assert GroupNormalization().groups == 32  # Keras's default
