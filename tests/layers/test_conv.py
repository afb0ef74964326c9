"""Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D: the common harness, Keras layouts and
sizes, PyTorch parity of the layers (weights converted from Keras's layout), errors naming layer and shapes."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from shendu.ops import conv as conv_ops

from .harness import check_layer, random_inputs


def check(cls, kwargs, input_shape, expected):
    with layers.custom_object_scope({cls.__name__: cls}):
        return check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"filters": 3, "kernel_size": 3}, (2, 5, 4, 3)),
    ({"filters": 3, "kernel_size": (3, 2), "strides": 2, "padding": "same", "activation": "relu"}, (2, 4, 3, 3)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1), "use_bias": False, "activation": "tanh"}, (2, 5, 5, 2)),
    ({"filters": 4, "kernel_size": 3, "groups": 2, "padding": "SAME"}, (2, 7, 6, 4)),
])
def test_conv2d_harness(kwargs, expected):
    check(Conv2D, kwargs, (2, 7, 6, 4), expected)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"filters": 3, "kernel_size": 3}, (2, 6, 3)),
    ({"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2, "activation": "relu"}, (2, 8, 2)),
    ({"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"}, (2, 3, 2)),
])
def test_conv1d_harness(kwargs, expected):
    check(Conv1D, kwargs, (2, 8, 3), expected)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"filters": 2, "kernel_size": 3}, (2, 5, 6, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}, (2, 6, 8, 2)),
    ({"filters": 3, "kernel_size": (3, 2), "strides": (2, 3), "output_padding": (1, 2)}, (2, 8, 13, 3)),
])
def test_conv2d_transpose_harness(kwargs, expected):
    check(Conv2DTranspose, kwargs, (2, 3, 4, 3), expected)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"kernel_size": 3}, (2, 4, 3, 3)),
    ({"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same", "activation": "relu"}, (2, 3, 3, 6)),
])
def test_depthwise_conv2d_harness(kwargs, expected):
    check(DepthwiseConv2D, kwargs, (2, 6, 5, 3), expected)


def test_separable_conv2d_harness():
    layer = check(SeparableConv2D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
                  (2, 5, 4, 3), (2, 5, 4, 4))
    assert [w.name.split("/")[-1] for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [w.shape for w in layer.weights] == [(3, 3, 3, 2), (1, 1, 6, 4), (4,)]


def test_weights_have_keras_names_layouts_and_defaults():
    conv = Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    conv.build((None, 28, 28, 1))
    assert [w.name.split("/")[-1] for w in conv.weights] == ["kernel", "bias"]
    assert [w.shape for w in conv.weights] == [(3, 3, 1, 32), (32,)]
    assert conv.strides == (1, 1) and conv.padding == "valid" and conv.dilation_rate == (1, 1) and conv.groups == 1
    assert np.all(conv.bias.numpy() == 0) and np.abs(conv.kernel.numpy()).max() <= np.sqrt(6 / (9 + 9 * 32))
    transpose = Conv2DTranspose(5, 2)
    transpose.build((None, 4, 4, 3))
    assert transpose.kernel.shape == (2, 2, 5, 3)
    depthwise = DepthwiseConv2D(3, depth_multiplier=2)
    depthwise.build((None, 6, 6, 4))
    assert [w.shape for w in depthwise.weights] == [(3, 3, 4, 2), (8,)]
    assert Conv1D(4, 5).get_config()["kernel_size"] == [5]


def nchw(torch, x):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)


def test_conv2d_layer_matches_torch_with_converted_weights(torch):
    x = random_inputs((2, 9, 8, 3), dtype="float64")
    layer = Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu", dtype="float64")
    xs = sd.Tensor(x, requires_grad=True)
    out = layer(xs)
    conv = torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1)))
        conv.bias.copy_(torch.tensor(layer.bias.numpy()))
    xt = nchw(torch, x)
    ref = torch.relu(conv(torch.nn.functional.pad(xt, (0, 1, 1, 1))))  # TF 'same': rows (1, 1), columns (0, 1)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.kernel.grad.numpy(), conv.weight.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.numpy(), conv.bias.grad.numpy(), rtol=1e-10)


def test_conv1d_causal_matches_torch_left_padding(torch):
    x = random_inputs((2, 10, 3), dtype="float64")
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    out = layer(sd.Tensor(x)).numpy()
    weight = torch.tensor(layer.kernel.numpy().transpose(2, 1, 0))  # (filters, channels, k)
    xt = torch.nn.functional.pad(torch.tensor(x.transpose(0, 2, 1)), (4, 0))
    ref = torch.nn.functional.conv1d(xt, weight, torch.tensor(layer.bias.numpy()), dilation=2)
    np.testing.assert_allclose(out, ref.numpy().transpose(0, 2, 1), rtol=1e-10, atol=1e-12)
    # causal: output t does not depend on inputs after t
    later = x.copy()
    later[:, 6:] += 1.0
    np.testing.assert_allclose(layer(sd.Tensor(later)).numpy()[:, :6], out[:, :6])


def test_conv2d_transpose_layer_upsamples_like_keras_same_padding(torch):
    x = random_inputs((1, 3, 3, 2), dtype="float64")
    layer = Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64")
    out = layer(sd.Tensor(x)).numpy()
    assert out.shape == (1, 6, 6, 2)
    weight = torch.tensor(layer.kernel.numpy().transpose(3, 2, 0, 1))  # (in, out, kh, kw)
    full = torch.nn.functional.conv_transpose2d(torch.tensor(x.transpose(0, 3, 1, 2)), weight, stride=2)  # 7x7
    np.testing.assert_allclose(out, full[:, :, :6, :6].numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)


def test_fused_relu_is_one_op_and_other_activations_follow():
    x = sd.Tensor(random_inputs((1, 5, 5, 2)), requires_grad=True)
    relu_out = Conv2D(3, 3, activation="relu")(x)
    assert type(relu_out.grad_fn).__name__ == "Conv2D" and relu_out.numpy().min() >= 0
    tanh_out = Conv2D(3, 3, activation="tanh")(x)
    assert type(tanh_out.grad_fn).__name__ == "Tanh"


def test_conv2d_runs_winograd_where_it_pays(compiled):
    """3x3 over 16 channels: Winograd tiles with the compiled loops, im2col without; the same values either way."""
    x = sd.Tensor(random_inputs((2, 6, 6, 16), dtype="float64"), requires_grad=True)
    layer = Conv2D(4, 3, padding="same", activation="relu", dtype="float64")
    y = layer(x)
    assert type(y.grad_fn).__name__ == ("Conv2DWinograd" if compiled else "Conv2D")
    xr, k, b = sd.Tensor(x.numpy(), requires_grad=True), sd.Tensor(layer.kernel.numpy()), sd.Tensor(layer.bias.numpy())
    reference = conv_ops.Conv2D.apply(xr, k, b, padding=((1, 1), (1, 1)), relu=True)
    np.testing.assert_allclose(y.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)
    y.backward(np.ones(y.shape))
    reference.backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad.numpy(), xr.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_regularizers_and_constraints_are_attached():
    layer = Conv2D(2, 3, kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l2",
                   kernel_constraint="max_norm")
    layer(random_inputs((1, 4, 4, 1)))
    assert len(layer.losses) == 3
    expected = 0.01 * (layer.kernel.numpy() ** 2).sum()
    np.testing.assert_allclose(layer.losses[0].numpy(), expected, rtol=1e-5)
    assert layer.kernel.constraint is not None
    assert layer.get_config()["kernel_regularizer"]["class_name"] == "L2"


def test_conv_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Conv2D 'c'.*rank 4.*\(None, 8, 8\).*Reshape\(\(8, 8, 1\)\)"):
        Conv2D(4, 3, name="c")(random_inputs((2, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2D 'small'.*\(None, 3, 3, 1\).*smaller than the kernel \(5, 5\)"):
        Conv2D(4, 5, name="small")(random_inputs((2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"smaller than the kernel \(5, 3\).*dilation_rate \(2, 1\)"):
        Conv2D(4, 3, dilation_rate=(2, 1))(random_inputs((2, 4, 4, 1)))
    built = Conv2D(4, 3, name="built")
    built(random_inputs((2, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"Conv2D 'built'.*3 channels.*\(2, 8, 8, 2\)"):
        built(random_inputs((2, 8, 8, 2)))
    with pytest.raises(ValueError, match="channels_first"):
        Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"Conv1D '.*'.*rank 3"):
        Conv1D(4, 3)(random_inputs((2, 8, 8, 1)))
    with pytest.raises(ValueError, match="padding must be one of"):
        Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2D(4, 3, groups=2)(random_inputs((1, 5, 5, 3)))
    with pytest.raises(ValueError, match="kernel_size must be"):
        Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"DepthwiseConv2D '.*'.*2 channels"):
        layer = DepthwiseConv2D(3)
        layer(random_inputs((1, 5, 5, 2)))
        layer(random_inputs((1, 5, 5, 4)))


def test_symbolic_tutorial_stack_shapes():
    inputs = layers.Input((28, 28, 1))
    x = Conv2D(32, (3, 3), activation="relu")(inputs)
    assert x.shape == (None, 26, 26, 32)
    x = Conv2D(64, (3, 3), activation="relu")(x)
    assert x.shape == (None, 24, 24, 64)
