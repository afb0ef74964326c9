"""tf.nn: values against NumPy and PyTorch, gradients by finite differences, TensorFlow's argument conventions."""

import numpy as np
import pytest

import shendu as tf
from shendu import gradcheck

rng = np.random.default_rng(0)


def f64(*shape):
    return tf.constant(rng.standard_normal(shape))


# --- activations -------------------------------------------------------------------------------------------------
def test_activations_against_torch(torch):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    tx = torch.tensor(x)
    F = torch.nn.functional
    pairs = [
        (tf.nn.relu(x), F.relu(tx)), (tf.nn.relu6(x * 5), F.relu6(tx * 5)), (tf.nn.elu(x), F.elu(tx)),
        (tf.nn.selu(x), F.selu(tx)), (tf.nn.gelu(x), F.gelu(tx)),
        (tf.nn.gelu(x, approximate=True), F.gelu(tx, approximate="tanh")),
        (tf.nn.leaky_relu(x), F.leaky_relu(tx, 0.2)), (tf.nn.leaky_relu(x, alpha=0.1), F.leaky_relu(tx, 0.1)),
        (tf.nn.sigmoid(x), torch.sigmoid(tx)), (tf.nn.tanh(x), torch.tanh(tx)), (tf.nn.softmax(x), F.softmax(tx, -1)),
        (tf.nn.softmax(x, axis=0), F.softmax(tx, 0)), (tf.nn.log_softmax(x), F.log_softmax(tx, -1)),
        (tf.nn.silu(x), F.silu(tx)), (tf.nn.swish(x), F.silu(tx)),
        (tf.nn.silu(x, beta=2.0), tx * torch.sigmoid(2 * tx)),
        (tf.nn.softplus(x), F.softplus(tx)), (tf.nn.softsign(x), F.softsign(tx)),
    ]
    for ours, theirs in pairs:
        assert isinstance(ours, tf.Tensor)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", [tf.nn.relu6, tf.nn.elu, tf.nn.selu, tf.nn.gelu, tf.nn.leaky_relu, tf.nn.softsign,
                                lambda x: tf.nn.silu(x, beta=1.5), lambda x: tf.nn.log_softmax(x, axis=0)])
def test_activation_gradients(fn):
    assert gradcheck(lambda x: fn(x).sum(), [f64(3, 4)])


# --- losses ------------------------------------------------------------------------------------------------------
def test_sigmoid_cross_entropy_with_logits():
    x, z = rng.standard_normal((3, 4)) * 5, rng.random((3, 4))
    out = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    assert out.shape == (3, 4)  # element-wise, not reduced
    np.testing.assert_allclose(out.numpy(), np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x))))
    assert gradcheck(lambda t: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=t).sum(), [tf.constant(x)])
    with pytest.raises(ValueError, match=r"sigmoid_cross_entropy_with_logits: labels and logits must have the same"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z[0], logits=x)


def test_weighted_cross_entropy_with_logits(torch):
    x, z = rng.standard_normal((3, 4)), (rng.random((3, 4)) > 0.5).astype(np.float64)
    out = tf.nn.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=3.0)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(z),
                                                               pos_weight=torch.tensor(3.0), reduction="none")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    assert gradcheck(lambda t: tf.nn.weighted_cross_entropy_with_logits(z, t, 3.0).sum(), [tf.constant(x)])


def test_softmax_cross_entropy_with_logits(torch):
    x = rng.standard_normal((5, 3))
    t = rng.random((5, 3))
    t /= t.sum(axis=1, keepdims=True)
    out = tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=x)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    assert out.shape == (5,)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    along0 = tf.nn.softmax_cross_entropy_with_logits(labels=t.T, logits=x.T, axis=0)
    np.testing.assert_allclose(along0.numpy(), ref.numpy(), rtol=1e-10)
    assert gradcheck(lambda v: tf.nn.softmax_cross_entropy_with_logits(t.T, v, axis=0).sum(), [tf.constant(x.T)])


def test_sparse_softmax_cross_entropy_with_logits(torch):
    x, labels = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3))
    out = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x).permute(0, 2, 1), torch.tensor(labels), reduction="none")
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    assert gradcheck(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels, t).sum(), [tf.constant(x)])
    with pytest.raises(ValueError, match=r"label value of 4, outside the valid range \[0, 4\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(np.array([[0, 4, 1], [0, 0, 0]]), x)
    with pytest.raises(ValueError, match=r"labels must be integers"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels.astype(float), x)
    with pytest.raises(ValueError, match=r"shape of logits without its last axis"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels[0], x)


def test_l2_loss_and_compute_average_loss():
    x = f64(3, 2)
    np.testing.assert_allclose(tf.nn.l2_loss(x).numpy(), (x.numpy() ** 2).sum() / 2)
    assert gradcheck(lambda t: tf.nn.l2_loss(t), [x])
    per = tf.constant([1.0, 2.0, 3.0, 6.0])
    assert tf.nn.compute_average_loss(per).item() == 3.0
    assert tf.nn.compute_average_loss(per, global_batch_size=8).item() == 1.5
    assert tf.nn.compute_average_loss(per, sample_weight=[1, 0, 0, 1]).item() == 1.75


# --- dropout and lookups -----------------------------------------------------------------------------------------
def test_dropout_scales_kept_values_and_is_always_applied():
    x = tf.Variable(np.ones((200, 50)))
    y = tf.nn.dropout(x, rate=0.25)
    y.sum().backward()
    v = y.numpy()
    assert set(np.unique(v)) == {0.0, 1 / 0.75} and abs((v == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(x.grad.numpy(), v)  # the gradient is the mask
    shared = tf.nn.dropout(tf.ones([6, 40]), 0.5, noise_shape=[6, 1]).numpy()
    assert all(len(set(row)) == 1 for row in shared)  # one draw per row
    tf.random.set_seed(2)
    a = tf.nn.dropout(tf.ones([30]), 0.5, seed=5).numpy()
    tf.random.set_seed(2)
    np.testing.assert_array_equal(tf.nn.dropout(tf.ones([30]), 0.5, seed=5).numpy(), a)
    with pytest.raises(ValueError, match=r"tf.nn.dropout: rate must be in \[0, 1\)"):
        tf.nn.dropout(x, 1.0)


def test_embedding_lookup():
    table = f64(5, 3)
    ids = np.array([[0, 4], [4, 2]])
    out = tf.nn.embedding_lookup(table, ids)
    np.testing.assert_array_equal(out.numpy(), table.numpy()[ids])
    assert gradcheck(lambda t: (tf.nn.embedding_lookup(t, ids) ** 2).sum(), [table])
    cube = f64(4, 2, 3)
    np.testing.assert_array_equal(tf.nn.embedding_lookup([cube], [3, 1]).numpy(), cube.numpy()[[3, 1]])
    with pytest.raises(ValueError, match=r"id 5 is outside the table's rows \[0, 5\)"):
        tf.nn.embedding_lookup(table, [1, 5])
    with pytest.raises(NotImplementedError, match="max_norm"):
        tf.nn.embedding_lookup(table, [1], max_norm=1.0)


# --- convolutions and pooling ------------------------------------------------------------------------------------
def _nchw(torch, x):
    return torch.tensor(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))))


def _nhwc(t):
    return np.transpose(t.detach().numpy(), (0, 2, 3, 1))


def _torch_kernel(torch, k):
    return torch.tensor(np.ascontiguousarray(np.transpose(k, (3, 2, 0, 1))))


@pytest.mark.parametrize("strides,padding,dilations,torch_pad", [
    (1, "VALID", None, 0), ([1, 1, 1, 1], "SAME", None, 1), (1, [[0, 0], [1, 1], [2, 2], [0, 0]], [1, 2], (1, 2)),
    ([1, 2, 2, 1], [[0, 0], [1, 1], [1, 1], [0, 0]], None, 1), (2, "VALID", 2, 0),
])
def test_conv2d_against_torch(torch, strides, padding, dilations, torch_pad):
    x, k = rng.standard_normal((2, 7, 8, 3)), rng.standard_normal((3, 3, 3, 4))
    ours = tf.nn.conv2d(x, k, strides, padding, dilations=dilations).numpy()
    s = strides if isinstance(strides, int) else strides[1]
    d = 1 if dilations is None else dilations
    ref = torch.nn.functional.conv2d(_nchw(torch, x), _torch_kernel(torch, k), stride=s, padding=torch_pad,
                                     dilation=d)
    np.testing.assert_allclose(ours, _nhwc(ref), rtol=1e-10, atol=1e-12)


def test_conv2d_same_stride_2_nchw_groups_and_gradient():
    x, k = rng.standard_normal((1, 6, 5, 4)), rng.standard_normal((3, 3, 2, 6))
    y = tf.nn.conv2d(x, k, 2, "SAME")  # 4 channels on 2 in-channels: 2 groups
    assert y.shape == (1, 3, 3, 6)
    y_cf = tf.nn.conv2d(np.transpose(x, (0, 3, 1, 2)), k, [1, 1, 2, 2], "SAME", data_format="NCHW")
    np.testing.assert_allclose(np.transpose(y_cf.numpy(), (0, 2, 3, 1)), y.numpy(), rtol=1e-12)
    assert gradcheck(lambda a, b: tf.nn.conv2d(a, b, 2, "SAME").sum(), [f64(1, 5, 5, 2), f64(3, 3, 2, 3)])
    with pytest.raises(ValueError, match=r"tf\.nn\.conv2d: strides"):
        tf.nn.conv2d(x, k, [2, 2, 2, 2], "SAME")
    with pytest.raises(ValueError, match=r"tf\.nn\.conv2d: padding must be"):
        tf.nn.conv2d(x, k, 1, "FULL")
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.conv2d(x, k, 1, "SAME", data_format="HWCN")


def test_conv1d_against_torch(torch):
    x, k = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 5))
    ours = tf.nn.conv1d(x, k, stride=2, padding="VALID").numpy()
    ref = torch.nn.functional.conv1d(torch.tensor(x).permute(0, 2, 1), torch.tensor(k).permute(2, 1, 0), stride=2)
    np.testing.assert_allclose(ours, ref.permute(0, 2, 1).numpy(), rtol=1e-10)
    assert tf.nn.conv1d(x, k, 1, "SAME").shape == (2, 9, 5)


@pytest.mark.parametrize("padding,strides,out_hw", [("SAME", 2, (8, 10)), ("VALID", 2, (9, 11)), ("SAME", 1, (4, 5)),
                                                     ("SAME", 2, (7, 9))])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(padding, strides, out_hw):
    """<conv2d(z), g> = <z, conv2d_transpose(g)>, TensorFlow's definition of the transposed convolution."""
    k = f64(3, 3, 2, 4)  # (kh, kw, out channels of conv2d_transpose = in of conv2d, in channels)
    z = f64(2, *out_hw, 2)
    g = tf.nn.conv2d(z, k, strides, padding)  # its shape is conv2d_transpose's input shape
    g = tf.constant(rng.standard_normal(g.shape))
    t = tf.nn.conv2d_transpose(g, k, [2, *out_hw, 2], strides, padding)
    assert t.shape == (2, *out_hw, 2)
    lhs = (tf.nn.conv2d(z, k, strides, padding) * g).numpy().sum()
    np.testing.assert_allclose(lhs, (z * t).numpy().sum(), rtol=1e-10)
    assert gradcheck(lambda a: tf.nn.conv2d_transpose(a, k, [2, *out_hw, 2], strides, padding).sum(), [g])


def test_conv2d_transpose_against_torch_and_errors(torch):
    x, k = rng.standard_normal((1, 3, 4, 5)), rng.standard_normal((3, 3, 2, 5))
    ours = tf.nn.conv2d_transpose(x, k, [1, 7, 9, 2], 2, "VALID").numpy()
    ref = torch.nn.functional.conv_transpose2d(_nchw(torch, x), torch.tensor(np.transpose(k, (3, 2, 0, 1)).copy()),
                                               stride=2)
    np.testing.assert_allclose(ours, _nhwc(ref), rtol=1e-10)
    with pytest.raises(ValueError, match=r"is not one whose conv2d gives the input's size"):
        tf.nn.conv2d_transpose(x, k, [1, 9, 9, 2], 2, "VALID")


def test_depthwise_and_separable_conv2d(torch):
    x, k = rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 3, 3, 2))
    ours = tf.nn.depthwise_conv2d(x, k, [1, 1, 1, 1], "SAME")
    w = torch.tensor(np.transpose(k, (2, 3, 0, 1)).reshape(6, 1, 3, 3).copy())  # channel c m + k
    ref = torch.nn.functional.conv2d(_nchw(torch, x), w, padding=1, groups=3)
    np.testing.assert_allclose(ours.numpy(), _nhwc(ref), rtol=1e-10)
    p = rng.standard_normal((1, 1, 6, 4))
    sep = tf.nn.separable_conv2d(x, k, p, [1, 1, 1, 1], "SAME")
    np.testing.assert_allclose(sep.numpy(), ours.numpy() @ p[0, 0], rtol=1e-10)
    assert gradcheck(lambda a, b: tf.nn.depthwise_conv2d(a, b, 1, "VALID").sum(), [f64(1, 4, 4, 2), f64(2, 2, 2, 1)])


def test_pooling_against_torch(torch):
    x = rng.standard_normal((2, 6, 7, 3))
    tx = _nchw(torch, x)
    F = torch.nn.functional
    np.testing.assert_allclose(tf.nn.max_pool2d(x, 2, 2, "VALID").numpy(), _nhwc(F.max_pool2d(tx, 2, 2)))
    np.testing.assert_allclose(tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "VALID").numpy(),
                               _nhwc(F.max_pool2d(tx, 3, 2)))
    np.testing.assert_allclose(tf.nn.avg_pool2d(x, 3, 1, "VALID").numpy(), _nhwc(F.avg_pool2d(tx, 3, 1)),
                               rtol=1e-12)
    # 'SAME' with stride 1 and a 3x3 window pads one pixel each side; the average counts only real pixels
    np.testing.assert_allclose(tf.nn.avg_pool(x, 3, 1, "SAME").numpy(),
                               _nhwc(F.avg_pool2d(tx, 3, 1, padding=1, count_include_pad=False)), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.max_pool2d(x, 3, 1, "SAME").numpy(), _nhwc(F.max_pool2d(tx, 3, 1, padding=1)))
    seq = rng.standard_normal((2, 9, 4))
    ref = F.max_pool1d(torch.tensor(seq).permute(0, 2, 1), 2, 2).permute(0, 2, 1).numpy()
    np.testing.assert_allclose(tf.nn.max_pool(seq, 2, 2, "VALID").numpy(), ref)
    np.testing.assert_allclose(tf.nn.avg_pool1d(seq, 3, 3, "VALID").numpy(),
                               F.avg_pool1d(torch.tensor(seq).permute(0, 2, 1), 3, 3).permute(0, 2, 1).numpy())
    assert tf.nn.max_pool2d(x, 2, 2, "SAME", data_format="NCHW").shape == (2, 6, 4, 2)
    assert gradcheck(lambda a: tf.nn.avg_pool2d(a, 2, 1, "SAME").sum() + tf.nn.max_pool2d(a, 2, 2, "VALID").sum(),
                     [f64(1, 4, 4, 2)])
    with pytest.raises(ValueError, match=r"tf\.nn\.avg_pool2d: padding must be 'SAME' or 'VALID'"):
        tf.nn.avg_pool2d(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(NotImplementedError, match=r"tf\.nn\.max_pool"):
        tf.nn.max_pool(np.zeros((1, 2, 2, 2, 1)), 2, 2, "VALID")


def test_bias_add():
    x, b = f64(2, 3, 4), f64(4)
    np.testing.assert_allclose(tf.nn.bias_add(x, b).numpy(), x.numpy() + b.numpy())
    c = f64(3)
    np.testing.assert_allclose(tf.nn.bias_add(x, c, data_format="NCHW").numpy(), x.numpy() + c.numpy()[:, None])
    assert gradcheck(lambda u, v: tf.nn.bias_add(u, v).sum(), [x, b])
    with pytest.raises(ValueError, match=r"tf\.nn\.bias_add: bias must be 1\-D with one value per channel"):
        tf.nn.bias_add(x, c)


# --- normalization -----------------------------------------------------------------------------------------------
def test_moments_and_batch_normalization():
    x = f64(4, 3, 2)
    mean, var = tf.nn.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), x.numpy().mean(axis=(0, 1)))
    np.testing.assert_allclose(var.numpy(), x.numpy().var(axis=(0, 1)))
    assert tf.nn.moments(x, [0], keepdims=True)[1].shape == (1, 3, 2)
    assert gradcheck(lambda t: tf.nn.moments(t, [0, 1])[1].sum(), [x])
    offset, scale = f64(2), f64(2)
    y = tf.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    ref = (x.numpy() - mean.numpy()) / np.sqrt(var.numpy() + 1e-3) * scale.numpy() + offset.numpy()
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12)
    assert gradcheck(lambda a, m, v, o, s: tf.nn.batch_normalization(a, m, v, o, s, 1e-3).sum(),
                     [x, f64(2), tf.constant(rng.random(2) + 0.5), offset, scale])
    plain = tf.nn.batch_normalization(x, 0.0, 1.0, None, None, 0.0)
    np.testing.assert_allclose(plain.numpy(), x.numpy())


def test_normalize_moments():
    x = rng.standard_normal((10, 3))
    mean, var = tf.nn.normalize_moments(10.0, x.sum(axis=0), (x ** 2).sum(axis=0), None)
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=0))
    np.testing.assert_allclose(var.numpy(), x.var(axis=0), rtol=1e-10)
    shifted, _ = tf.nn.normalize_moments(10.0, (x - 1).sum(axis=0), ((x - 1) ** 2).sum(axis=0), 1.0)
    np.testing.assert_allclose(shifted.numpy(), x.mean(axis=0))


# --- selection ---------------------------------------------------------------------------------------------------
def test_in_top_k_and_top_k():
    pred = np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.0, 0.3, np.nan]])
    np.testing.assert_array_equal(tf.nn.in_top_k([2, 3], pred, 1).numpy(), [True, False])  # a tie counts in
    np.testing.assert_array_equal(tf.nn.in_top_k([3, 2], pred, 2).numpy(), [False, True])
    np.testing.assert_array_equal(tf.nn.in_top_k([3, 2], pred, 3).numpy(), [True, True])
    _, indices = tf.nn.top_k(pred[:1], k=2)
    np.testing.assert_array_equal(indices.numpy(), [[1, 2]])
