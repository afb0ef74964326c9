"""Losses: values and gradients against PyTorch and NumPy, finite differences in float64, the fused
softmax/sigmoid + cross-entropy path, Keras's reductions and sample weights, label checks, lookup and configs."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu as sd
from shendu import losses, ops
from shendu.keras_mask import set_keras_mask

rng = np.random.default_rng(7)
N, C = 6, 4


def probs(n=N, c=C):
    e = np.exp(rng.normal(size=(n, c)))
    return e / e.sum(axis=1, keepdims=True)


def onehot(labels, c=C):
    return np.eye(c)[labels]


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Each test sees the once-per-loss warnings afresh."""
    monkeypatch.setattr(losses.inputs, "_warned", set())


def grad_of(loss_fn, y_true, pred, transform=None):
    """(loss value, d loss / d pred) in shendu, pred given as a float64 array."""
    x = sd.tensor(pred, requires_grad=True)
    out = loss_fn(y_true, transform(x) if transform else x)
    out.backward()
    return out.item(), x.grad.numpy()


@pytest.fixture
def nnf(torch):
    """torch.nn.functional (the test skips without PyTorch)."""
    return torch.nn.functional


def torch_grad(torch, fn, pred):
    x = torch.tensor(pred, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


def assert_same(ours, theirs, rtol=1e-6, atol=1e-9):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=atol)


# --- parity with PyTorch: value and gradient with respect to y_pred, reduced over the batch ------------

REGRESSION = rng.normal(size=(N, 3))
TARGET = rng.normal(size=(N, 3))


@pytest.mark.parametrize(("loss", "torch_fn"), [
    (losses.MeanSquaredError(), lambda nnf, p, t: nnf.mse_loss(p, t)),
    (losses.MeanAbsoluteError(), lambda nnf, p, t: nnf.l1_loss(p, t)),
    (losses.Huber(), lambda nnf, p, t: nnf.huber_loss(p, t, delta=1.0)),
    (losses.Huber(delta=0.3), lambda nnf, p, t: nnf.huber_loss(p, t, delta=0.3)),
    (losses.LogCosh(), lambda nnf, p, t: (p - t).cosh().log().mean()),
    (losses.CosineSimilarity(), lambda nnf, p, t: -nnf.cosine_similarity(p, t, dim=-1).mean()),
])
def test_regression_losses_match_torch(loss, torch_fn, torch, nnf):
    t = torch.tensor(TARGET)
    assert_same(grad_of(loss, TARGET, REGRESSION), torch_grad(torch, lambda p: torch_fn(nnf, p, t), REGRESSION))


def test_mape_msle_poisson_match_numpy_and_torch(torch, nnf):
    p, t = rng.uniform(0.1, 3, size=(N, 3)), rng.uniform(0.1, 3, size=(N, 3))
    value, _ = grad_of(losses.MeanAbsolutePercentageError(), t, p)
    np.testing.assert_allclose(value, np.mean(100 * np.abs(t - p) / np.abs(t)), rtol=1e-7)
    value, _ = grad_of(losses.MeanSquaredLogarithmicError(), t, p)
    np.testing.assert_allclose(value, np.mean((np.log1p(p) - np.log1p(t)) ** 2), rtol=1e-7)
    tt = torch.tensor(t)
    assert_same(grad_of(losses.Poisson(), t, p),
                torch_grad(torch, lambda x: nnf.poisson_nll_loss(x, tt, log_input=False, eps=1e-7), p))


def test_hinge_losses_match_torch(torch, nnf):
    p = rng.normal(size=(N, 3))
    labels01 = rng.integers(0, 2, size=(N, 3)).astype(np.float64)
    signed = torch.tensor(2 * labels01 - 1)
    assert_same(grad_of(losses.Hinge(), labels01, p), torch_grad(torch, lambda x: nnf.relu(1 - signed * x).mean(), p))
    assert_same(grad_of(losses.SquaredHinge(), labels01, p),
                torch_grad(torch, lambda x: (nnf.relu(1 - signed * x) ** 2).mean(), p))
    t = onehot(rng.integers(0, 3, N), 3)
    tt = torch.tensor(t)

    def cat_hinge(x):
        return nnf.relu(((1 - tt) * x).amax(-1) - (tt * x).sum(-1) + 1).mean()

    assert_same(grad_of(losses.CategoricalHinge(), t, p), torch_grad(torch, cat_hinge, p))


def test_kl_divergence_matches_torch_batchmean(torch, nnf):
    p, t = probs(), probs()
    tt = torch.tensor(t)
    assert_same(grad_of(losses.KLDivergence(), t, p),
                torch_grad(torch, lambda x: nnf.kl_div(torch.log(x), tt, reduction="batchmean"), p))


def test_binary_crossentropy_probabilities_and_logits_match_torch(torch, nnf):
    t = rng.integers(0, 2, size=(N, 3)).astype(np.float64)
    tt = torch.tensor(t)
    p = rng.uniform(0.05, 0.95, size=(N, 3))
    assert_same(grad_of(losses.BinaryCrossentropy(), t, p),
                torch_grad(torch, lambda x: nnf.binary_cross_entropy(x, tt), p))
    z = rng.normal(size=(N, 3)) * 3
    assert_same(grad_of(losses.BinaryCrossentropy(from_logits=True), t, z),
                torch_grad(torch, lambda x: nnf.binary_cross_entropy_with_logits(x, tt), z))
    smooth = torch.tensor(t * 0.8 + 0.1)
    assert_same(grad_of(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), t, z),
                torch_grad(torch, lambda x: nnf.binary_cross_entropy_with_logits(x, smooth), z))


def test_categorical_crossentropy_matches_torch_with_label_smoothing(torch, nnf):
    labels = rng.integers(0, C, N)
    z = rng.normal(size=(N, C)) * 2
    for ls in (0.0, 0.1):
        expected = torch_grad(torch, lambda x, ls=ls: nnf.cross_entropy(x, torch.tensor(labels), label_smoothing=ls), z)
        loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=ls)
        assert_same(grad_of(loss, onehot(labels), z), expected)
        assert_same(grad_of(losses.CategoricalCrossentropy(label_smoothing=ls), onehot(labels), z,
                            lambda x: x.softmax()), expected)
    soft = probs()  # soft targets
    assert_same(grad_of(losses.CategoricalCrossentropy(from_logits=True), soft, z),
                torch_grad(torch, lambda x: nnf.cross_entropy(x, torch.tensor(soft)), z))


def test_categorical_crossentropy_from_probabilities_matches_torch(torch, nnf):
    p, labels = probs(), rng.integers(0, C, N)
    expected = torch_grad(torch, lambda x: nnf.nll_loss((x / x.sum(-1, keepdim=True)).log(), torch.tensor(labels)), p)
    assert_same(grad_of(losses.CategoricalCrossentropy(), onehot(labels), p), expected)
    assert_same(grad_of(losses.SparseCategoricalCrossentropy(), labels, p), expected)


def test_sparse_categorical_crossentropy_matches_torch(torch, nnf):
    labels, z = rng.integers(0, C, N), rng.normal(size=(N, C)) * 2
    expected = torch_grad(torch, lambda x: nnf.cross_entropy(x, torch.tensor(labels)), z)
    assert_same(grad_of(losses.SparseCategoricalCrossentropy(from_logits=True), labels, z), expected)
    assert_same(grad_of(losses.SparseCategoricalCrossentropy(), labels, z, lambda x: x.softmax()), expected)


def test_sparse_ignore_class_matches_torch_ignore_index(torch, nnf):
    labels, z = rng.integers(0, C, N), rng.normal(size=(N, C))
    labels[[1, 4]] = -1
    expected = torch_grad(torch, lambda x: nnf.cross_entropy(x, torch.tensor(labels), ignore_index=-1), z)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    assert_same(grad_of(loss, labels, z), expected)
    per = losses.sparse_categorical_crossentropy(labels, z, from_logits=True, ignore_class=-1).numpy()
    assert per[1] == per[4] == 0 and np.all(per[[0, 2, 3, 5]] > 0)


def test_sequence_sparse_crossentropy_averages_over_all_positions(torch, nnf):
    labels, z = rng.integers(0, C, (2, 5)), rng.normal(size=(2, 5, C))
    expected = torch_grad(torch, lambda x: nnf.cross_entropy(x.reshape(-1, C), torch.tensor(labels.reshape(-1))), z)
    assert_same(grad_of(losses.SparseCategoricalCrossentropy(from_logits=True), labels, z), expected)


def test_categorical_crossentropy_along_another_axis(torch, nnf):
    labels, z = rng.integers(0, C, N), rng.normal(size=(C, N))
    expected = torch_grad(torch, lambda x: nnf.cross_entropy(x.T, torch.tensor(labels)), z)
    loss = losses.CategoricalCrossentropy(from_logits=True, axis=0)
    assert_same(grad_of(loss, onehot(labels).T, z), expected)
    assert_same(grad_of(losses.CategoricalCrossentropy(axis=0), onehot(labels).T, z,
                        lambda x: x.softmax(axis=0)), expected)


# --- the fused path and its stability ----------------------------------------------------------------------


def test_softmax_output_takes_the_fused_logits_path(torch, nnf):
    x = sd.tensor(rng.normal(size=(N, 5)), requires_grad=True)
    w = sd.tensor(rng.normal(size=(5, C)), requires_grad=True)
    labels = rng.integers(0, C, N)
    loss = losses.get("sparse_categorical_crossentropy")(labels, (x @ w).softmax())
    assert isinstance(loss.grad_fn, ops.losses.SparseSoftmaxCrossEntropy)
    loss.backward()
    tx, tw = torch.tensor(x.data, requires_grad=True), torch.tensor(w.data, requires_grad=True)
    expected = nnf.cross_entropy(tx @ tw, torch.tensor(labels))
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9)


def test_sigmoid_output_takes_the_fused_logits_path(torch, nnf):
    z = sd.tensor(rng.normal(size=(N, 1)), requires_grad=True)
    t = rng.integers(0, 2, N)
    loss = losses.BinaryCrossentropy()(t, z.sigmoid())
    assert isinstance(loss.grad_fn, ops.losses.SigmoidCrossEntropy)
    loss.backward()
    tz = torch.tensor(z.data, requires_grad=True)
    nnf.binary_cross_entropy_with_logits(tz, torch.tensor(t[:, None], dtype=torch.float64)).backward()
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), rtol=1e-9)


def test_saturated_softmax_keeps_exact_loss_and_gradient():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 50.0, 0.0]], dtype=np.float32)
    labels = np.array([2, 1])
    x = sd.tensor(z, requires_grad=True)
    loss = losses.sparse_categorical_crossentropy(labels, x.softmax())
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [2000.0, 0.0], atol=1e-5)
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy()[0], [1, 0, -1], atol=1e-6)


def test_without_graph_probabilities_are_clipped_like_keras():
    with sd.no_grad():
        p = sd.tensor(np.array([[40.0, 0.0, 0.0]], dtype=np.float32), requires_grad=True).softmax()  # [1, 0, 0]
        value = losses.SparseCategoricalCrossentropy()(np.array([1]), p).item()
        bce = losses.BinaryCrossentropy()(np.array([[1.0]]), np.array([[0.0]], dtype=np.float32)).item()
    assert p.grad_fn is None
    # Keras: clip to [1e-7, 1 - 1e-7], renormalize, -log: -log(1e-7 / (1 - 1e-7 + 2e-7)) ~= 16.118
    np.testing.assert_allclose(value, -np.log(1e-7 / (1 + 1e-7)), rtol=1e-4)
    np.testing.assert_allclose(bce, -np.log(1e-7), rtol=1e-4)


def test_no_grad_values_equal_graph_values():
    z = rng.normal(size=(N, C)).astype(np.float32)
    labels = rng.integers(0, C, N)
    with_graph = losses.sparse_categorical_crossentropy(labels, sd.tensor(z, requires_grad=True).softmax())
    with sd.no_grad():
        without = losses.sparse_categorical_crossentropy(labels, sd.tensor(z).softmax())
    np.testing.assert_allclose(with_graph.numpy(), without.numpy(), rtol=1e-5)


def test_from_logits_on_softmax_output_warns_once_and_uses_the_logits(torch, nnf):
    z = sd.tensor(rng.normal(size=(N, C)), requires_grad=True)
    labels = rng.integers(0, C, N)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.warns(UserWarning, match="was produced by a Softmax activation and thus does not represent logits"):
        value = loss(labels, z.softmax())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(labels, z.softmax())
    np.testing.assert_allclose(value.item(), nnf.cross_entropy(torch.tensor(z.data), torch.tensor(labels)).item())
    with pytest.warns(UserWarning, match="produced by a Sigmoid activation"):
        losses.binary_crossentropy(np.ones((N, 1)), z[:, :1].sigmoid(), from_logits=True)


def test_from_logits_on_probability_values_warns():
    with pytest.warns(UserWarning, match="looks like probabilities"):
        losses.categorical_crossentropy(onehot(rng.integers(0, C, N)), probs(), from_logits=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses.categorical_crossentropy(onehot(rng.integers(0, C, N)), rng.normal(size=(N, C)), from_logits=True)


def test_binary_logits_in_zero_one_do_not_warn():
    """A fresh GAN discriminator's logits often all lie in [0, 1]: ordinary logits, not probabilities."""
    logits = np.full((8, 1), 0.03) + rng.uniform(0, 0.01, (8, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = losses.BinaryCrossentropy(from_logits=True)(np.ones((8, 1)), logits)
    np.testing.assert_allclose(value.item(), np.logaddexp(0, -logits).mean(), rtol=1e-6)


# --- reductions, sample weights, shapes ------------------------------------------------------------------


def test_sample_weight_and_reductions_follow_keras(torch, nnf):
    labels, z = rng.integers(0, C, N), rng.normal(size=(N, C))
    w = rng.uniform(0, 2, N)
    per = nnf.cross_entropy(torch.tensor(z), torch.tensor(labels), reduction="none").numpy()
    for transform in (lambda x: x, lambda x: x.softmax()):
        x = transform(sd.tensor(z, requires_grad=True))
        from_logits = x.grad_fn is None
        make = lambda r, fl=from_logits: losses.SparseCategoricalCrossentropy(from_logits=fl, reduction=r)  # noqa: E731
        np.testing.assert_allclose(make("sum_over_batch_size")(labels, x, w).item(), (per * w).sum() / N)
        np.testing.assert_allclose(make("sum")(labels, x, w).item(), (per * w).sum())
        np.testing.assert_allclose(make("mean_with_sample_weight")(labels, x, w).item(), (per * w).sum() / w.sum())
        np.testing.assert_allclose(make("none")(labels, x, w).numpy(), per * w)
        np.testing.assert_allclose(make(None)(labels, x).numpy(), per)
        np.testing.assert_allclose(make("sum_over_batch_size")(labels, x, w[:, None]).item(), (per * w).sum() / N)


def test_weighted_gradient_of_composed_loss(torch, nnf):
    p, t, w = rng.normal(size=(N, 3)), rng.normal(size=(N, 3)), rng.uniform(0, 2, N)
    x = sd.tensor(p, requires_grad=True)
    losses.Huber()(t, x, sample_weight=w).backward()
    tx = torch.tensor(p, requires_grad=True)
    (nnf.huber_loss(tx, torch.tensor(t), reduction="none").mean(-1) * torch.tensor(w)).mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9)


def test_labels_of_shape_n_or_n1_and_any_dtype_agree():
    labels, z = rng.integers(0, C, N), rng.normal(size=(N, C)).astype(np.float32)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    ref = loss(labels, z).item()
    for y in (labels[:, None], labels.astype(np.uint8), labels.astype(np.float32), labels[:, None].astype(float),
              sd.tensor(labels)):
        assert loss(y, z).item() == pytest.approx(ref)


def test_y_true_rank_is_matched_to_y_pred():
    p, t = rng.normal(size=(N, 1)), rng.normal(size=N)
    per = losses.mean_squared_error(t, p)
    assert per.shape == (N,)
    np.testing.assert_allclose(per.numpy(), (p[:, 0] - t) ** 2)
    assert losses.binary_crossentropy(t > 0, sd.tensor(p).sigmoid()).shape == (N,)
    # 1-D predictions: the last axis is the batch, so the "per-sample" value is the batch mean, as in Keras
    np.testing.assert_allclose(losses.mean_squared_error(t[:, None], p[:, 0]).item(), np.mean((p[:, 0] - t) ** 2))


def test_per_sample_regression_losses_average_the_last_axis():
    p, t = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(losses.mean_absolute_error(t, p).numpy(), np.abs(p - t).mean(-1))
    assert losses.MeanSquaredError()(t, sd.tensor(p)).item() == pytest.approx(((p - t) ** 2).mean())


def test_out_of_range_label_names_loss_label_and_classes():
    z = rng.normal(size=(3, 10))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: label 10 is out of range for 10 classes"):
        losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([1, 10, 2]), z)
    with pytest.raises(ValueError, match="label -3 is out of range for 10 classes"):
        losses.sparse_categorical_crossentropy(np.array([1, -3, 2]), sd.tensor(z).softmax())
    with pytest.raises(ValueError, match=r"expected integer labels of shape \(3,\)"):
        losses.sparse_categorical_crossentropy(np.array([1, 2]), z)


def test_shape_mismatches_are_explained():
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*use sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([1, 2, 0]), rng.normal(size=(3, 4)))
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true of shape \(5,\) does not match"):
        losses.mean_squared_error(np.zeros(5), rng.normal(size=(3, 1)))
    with pytest.raises(ValueError, match="sample_weight of shape"):
        losses.MeanSquaredError()(np.zeros((3, 1)), rng.normal(size=(3, 1)), sample_weight=np.ones(4))
    with pytest.raises(ValueError, match="unknown reduction"):
        losses.MeanSquaredError(reduction="average")


# --- Keras masks on y_pred ------------------------------------------------------------------------------

STEP_MASK = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], bool)


def masked(values):
    """A Tensor of values (3, 4, ...) carrying STEP_MASK, as the output of Embedding(mask_zero=True) would."""
    x = sd.tensor(values, requires_grad=True)
    set_keras_mask(x, STEP_MASK)
    return x


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.Huber(), losses.MeanAbsoluteError()])
def test_a_masked_output_counts_only_its_real_steps(loss):
    p, t = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    w = np.array([1.0, 3.0, 0.5])
    per = loss.call(t, sd.tensor(p)).numpy()
    weighted = per * w[:, None] * STEP_MASK
    x = masked(p)
    value = loss(t, x, sample_weight=w)
    assert value.item() == pytest.approx(weighted.sum() / STEP_MASK.sum())  # Keras's apply_mask
    value.backward()
    assert np.all(x.grad.numpy()[~STEP_MASK] == 0) and np.any(x.grad.numpy()[STEP_MASK] != 0)
    p_other = np.where(STEP_MASK[..., None], p, 100.0)  # what the padded steps hold does not matter
    assert loss(t, masked(p_other), sample_weight=w).item() == pytest.approx(value.item())
    cls = type(loss)
    assert cls(reduction="sum")(t, masked(p), w).item() == pytest.approx(weighted.sum())
    mean_w = cls(reduction="mean_with_sample_weight")(t, masked(p), w).item()
    assert mean_w == pytest.approx(weighted.sum() / (w[:, None] * STEP_MASK).sum())
    np.testing.assert_allclose(cls(reduction="none")(t, masked(p), w).numpy(), weighted)


def test_a_mask_and_ignore_class_both_drop_steps():
    z = rng.normal(size=(3, 4, C))
    labels = rng.integers(0, C, (3, 4))
    labels[2, 1] = -1
    per = losses.sparse_categorical_crossentropy(np.where(labels < 0, 0, labels), z, from_logits=True).numpy()
    keep = STEP_MASK & (labels >= 0)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    assert loss(labels, masked(z)).item() == pytest.approx((per * keep).sum() / keep.sum())
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4\) does not match the losses of shape \(3, 2\)"):
        losses.MeanSquaredError()(np.zeros((3, 2, 1)), masked(np.zeros((3, 2, 1))))


# --- finite differences in float64 -------------------------------------------------------------------


def softmax_input(loss, y):
    return lambda x: loss(y, x.softmax())


LABELS = rng.integers(0, C, 5)
W = rng.uniform(0.2, 2, 5)
SOFT = probs(5)
GRADCHECKS = [
    (lambda x: losses.MeanSquaredError()(TARGET[:5], x, W), REGRESSION[:5]),
    (lambda x: losses.MeanAbsoluteError(reduction="sum")(TARGET[:5], x, W), REGRESSION[:5]),
    (lambda x: losses.Huber(delta=0.5)(TARGET[:5], x), REGRESSION[:5]),
    (lambda x: losses.log_cosh(TARGET[:5], x), REGRESSION[:5]),
    (lambda x: losses.mean_absolute_percentage_error(TARGET[:5], x), REGRESSION[:5]),
    (lambda x: losses.mean_squared_logarithmic_error(TARGET[:5] ** 2, x), REGRESSION[:5] ** 2 + 0.1),
    (lambda x: losses.poisson(TARGET[:5] ** 2, x), REGRESSION[:5] ** 2 + 0.1),
    (lambda x: losses.kl_divergence(SOFT, x), probs(5)),
    (lambda x: losses.hinge(np.sign(TARGET[:5]), x), REGRESSION[:5]),
    (lambda x: losses.squared_hinge(np.sign(TARGET[:5]), x), REGRESSION[:5]),
    (lambda x: losses.categorical_hinge(onehot(LABELS), x), rng.normal(size=(5, C))),
    (lambda x: losses.cosine_similarity(TARGET[:5], x), REGRESSION[:5]),
    (lambda x: losses.BinaryCrossentropy(label_smoothing=0.1)(TARGET[:5] > 0, x, W), rng.uniform(0.1, 0.9, (5, 3))),
    (lambda x: losses.BinaryCrossentropy(from_logits=True)(TARGET[:5] > 0, x), REGRESSION[:5]),
    (lambda x: losses.BinaryCrossentropy()(TARGET[:5] > 0, x.sigmoid(), W), REGRESSION[:5]),
    (lambda x: losses.CategoricalCrossentropy()(SOFT, x), probs(5) + 0.1),
    (lambda x: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(SOFT, x, W),
     rng.normal(size=(5, C))),
    (softmax_input(losses.CategoricalCrossentropy(reduction="none"), SOFT), rng.normal(size=(5, C))),
    (lambda x: losses.SparseCategoricalCrossentropy()(LABELS, x, W), probs(5) + 0.1),
    (lambda x: losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")(LABELS, x, W),
     rng.normal(size=(5, C))),
    (softmax_input(losses.SparseCategoricalCrossentropy(ignore_class=0), LABELS), rng.normal(size=(5, C))),
    (softmax_input(losses.SparseCategoricalCrossentropy(reduction="none"), LABELS), rng.normal(size=(5, C))),
]


@pytest.mark.parametrize(("f", "x"), GRADCHECKS)
def test_gradcheck_float64(f, x):
    assert sd.gradcheck(f, [x])


# --- lookup and serialization --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cls"), [
    ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError), ("MeanSquaredError", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("mape", losses.MeanAbsolutePercentageError),
    ("msle", losses.MeanSquaredLogarithmicError), ("huber", losses.Huber), ("log_cosh", losses.LogCosh),
    ("logcosh", losses.LogCosh), ("kld", losses.KLDivergence), ("kl_divergence", losses.KLDivergence),
    ("binary_crossentropy", losses.BinaryCrossentropy), ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy), ("hinge", losses.Hinge),
    ("squared_hinge", losses.SquaredHinge), ("categorical_hinge", losses.CategoricalHinge),
    ("cosine_similarity", losses.CosineSimilarity), ("poisson", losses.Poisson),
])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_get_accepts_instances_classes_functions_and_configs():
    inst = losses.Huber(delta=2.0)
    assert losses.get(inst) is inst
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)
    assert isinstance(losses.get(losses.mean_squared_error), losses.MeanSquaredError)
    assert losses.get(None) is None

    def my_loss(y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum(axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "my_loss"
    p, t = rng.normal(size=(N, 3)), rng.normal(size=(N,))
    np.testing.assert_allclose(wrapped(t[:, None] * np.ones(3), p).item(), ((p - t[:, None]) ** 2).sum(-1).mean())
    with pytest.raises(ValueError, match="Unknown loss 'msee'"):
        losses.get("msee")
    with pytest.raises(ValueError, match="could not interpret"):
        losses.get(3)


def test_serialize_round_trip_keeps_the_config():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum", name="cce")
    d = losses.serialize(loss)
    assert d == {"class_name": "CategoricalCrossentropy", "config": {
        "name": "cce", "reduction": "sum", "from_logits": True, "label_smoothing": 0.1, "axis": -1}}
    back = losses.deserialize(d)
    assert type(back) is losses.CategoricalCrossentropy and back.get_config() == loss.get_config()
    assert losses.get(d).label_smoothing == 0.1
    assert losses.SparseCategoricalCrossentropy(ignore_class=-1).get_config()["ignore_class"] == -1


def test_function_wrapper_round_trip_with_custom_objects():
    def scaled(y_true, y_pred, scale=1.0):
        return ((y_pred - y_true) * scale).abs().mean(axis=-1)

    loss = losses.LossFunctionWrapper(scaled, scale=3.0)
    d = losses.serialize(loss)
    assert d["config"]["fn"] == "scaled" and d["config"]["scale"] == 3.0
    back = losses.deserialize(d, custom_objects={"scaled": scaled})
    p, t = rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    assert back(t, p).item() == pytest.approx(loss(t, p).item())
    assert losses.serialize(scaled) == "scaled" and losses.serialize(losses.mse) == "mean_squared_error"
    assert type(losses.deserialize("scaled", custom_objects={"scaled": scaled})) is losses.LossFunctionWrapper
    builtin = losses.deserialize(losses.serialize(losses.LossFunctionWrapper(losses.mae)))
    assert builtin(t, p).item() == pytest.approx(np.abs(p - t).mean())
    with pytest.raises(ValueError, match="Unknown loss class 'Nope'"):
        losses.deserialize({"class_name": "Nope", "config": {}})


def test_subclassed_loss_is_reduced_with_weights():
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_true - y_pred) ** 2).mean(axis=-1)

    p, t, w = rng.normal(size=(N, 3)), rng.normal(size=(N, 3)), rng.uniform(0, 2, N)
    x = sd.tensor(p, requires_grad=True)
    loss = MyLoss()
    value = loss(t, x, sample_weight=w)
    value.backward()
    assert loss.name == "my_loss"
    assert value.item() == pytest.approx((((p - t) ** 2).mean(-1) * w).sum() / N)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (p - t) / 3 * w[:, None] / N)


def test_default_names_follow_keras():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.MeanSquaredError().reduction == "sum_over_batch_size"
    assert losses.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"


def test_float32_stays_float32():
    z = sd.tensor(rng.normal(size=(N, C)).astype(np.float32), requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy()(rng.integers(0, C, N), z.softmax())
    assert loss.dtype == np.float32
    loss.backward()
    assert z.grad.dtype == np.float32
    assert losses.MeanSquaredError()(np.ones((N, C)), z, sample_weight=np.ones(N)).dtype == np.float32


# --- property-based: the fused ops' gradients on random shapes, weights and reductions --------------------

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(2, 4), t=st.integers(1, 2), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), seed=st.integers(0, 2**31))
def test_fused_cross_entropies_gradcheck(n, c, t, reduction, weighted, seed):
    r = np.random.default_rng(seed)
    shape = (n, t, c) if t > 1 else (n, c)
    labels = r.integers(0, c, shape[:-1])
    soft = r.dirichlet(np.ones(c), shape[:-1])
    w = r.uniform(0.5, 2.0, n) if weighted else None
    z = r.normal(size=shape)
    sparse = losses.SparseCategoricalCrossentropy(reduction=reduction)
    dense = losses.CategoricalCrossentropy(from_logits=True, reduction=reduction, label_smoothing=0.1)
    binary = losses.BinaryCrossentropy(reduction=reduction)
    assert sd.gradcheck(lambda x: sparse(labels, x.softmax(), w), [z])
    assert sd.gradcheck(lambda x: dense(soft, x, w), [z])
    assert sd.gradcheck(lambda x: binary(soft > 0.3, x.sigmoid(), w), [z])
