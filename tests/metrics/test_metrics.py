"""Metrics: values against hand computations (with sample weights and several batches), Keras's resolution of
'accuracy', confusion counts and AUC against direct threshold-by-threshold formulas, lookup and configs."""

import numpy as np
import pytest

import shendu as sd
from shendu import losses, metrics
from shendu.keras_mask import set_keras_mask

rng = np.random.default_rng(3)
N, C = 64, 10


def softmax_rows(n=N, c=C):
    e = np.exp(rng.normal(size=(n, c)) * 2)
    return e / e.sum(axis=1, keepdims=True)


def weighted_mean(values, w):
    return (values * w).sum() / w.sum()


# --- accuracy and its resolution -------------------------------------------------------------------------


@pytest.mark.parametrize(("y_true", "y_pred", "cls"), [
    (np.zeros((N, 1)), np.zeros((N, 1)), metrics.BinaryAccuracy),
    (np.zeros(N), np.zeros((N, 1)), metrics.BinaryAccuracy),
    (np.zeros(N), np.zeros(N), metrics.BinaryAccuracy),
    (np.zeros(N, dtype=int), np.zeros((N, C)), metrics.SparseCategoricalAccuracy),
    (np.zeros((N, 1)), np.zeros((N, C)), metrics.SparseCategoricalAccuracy),
    (np.zeros((2, 7)), np.zeros((2, 7, C)), metrics.SparseCategoricalAccuracy),
    (np.zeros((N, C)), np.zeros((N, C)), metrics.CategoricalAccuracy),
])
def test_accuracy_resolves_like_keras(y_true, y_pred, cls):
    for name in ("accuracy", "acc"):
        m = metrics.get(name, y_true=y_true, y_pred=y_pred)
        assert type(m) is cls and m.name == name


def test_accuracy_without_samples_resolves_on_first_batch():
    labels, p = rng.integers(0, C, N), softmax_rows()
    m = metrics.get("accuracy")
    assert m.name == "accuracy" and m.result() == 0.0
    m.update_state(labels, p)
    assert type(m.metric) is metrics.SparseCategoricalAccuracy
    assert m.result() == pytest.approx(np.mean(p.argmax(1) == labels))
    m.reset_state()
    assert m.result() == 0.0
    assert metrics.serialize(m)["class_name"] == "SparseCategoricalAccuracy"
    ce = metrics.get("crossentropy", y_true=np.eye(C)[labels], y_pred=p)
    assert type(ce) is metrics.CategoricalCrossentropy


def test_accuracies_match_hand_computation_over_batches_with_weights():
    labels, p, w = rng.integers(0, C, N), softmax_rows(), rng.uniform(0, 2, N)
    hit = (p.argmax(1) == labels).astype(float)
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state(labels[:40], p[:40], sample_weight=w[:40])
    sparse.update_state(labels[40:, None], p[40:], sample_weight=w[40:])
    assert sparse.result() == pytest.approx(weighted_mean(hit, w))
    cat = metrics.CategoricalAccuracy()
    cat.update_state(np.eye(C)[labels], p)
    assert cat.result() == pytest.approx(hit.mean())
    binary = metrics.BinaryAccuracy(threshold=0.3)
    t01, s = rng.integers(0, 2, N), rng.uniform(size=(N, 1))
    binary.update_state(t01, s)
    assert binary.result() == pytest.approx(np.mean((s[:, 0] > 0.3) == t01))
    exact = metrics.Accuracy()
    exact.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert exact.result() == pytest.approx(0.75)


def test_top_k_counts_boundary_ties_as_hits():
    p = np.array([[0.1, 0.5, 0.2, 0.2], [0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([2, 3, 3], p, k=2), [1, 0, 1])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(4)[[0, 1, 2]], p, k=1), [0, 0, 1])
    labels, q = rng.integers(0, C, N), softmax_rows()
    rank = (q > q[np.arange(N), labels][:, None]).sum(1)
    m = metrics.SparseTopKCategoricalAccuracy(k=3)
    m.update_state(labels, q)
    assert m.result() == pytest.approx(np.mean(rank < 3))
    m5 = metrics.TopKCategoricalAccuracy()
    m5.update_state(np.eye(C)[labels], q)
    assert m5.result() == pytest.approx(np.mean(rank < 5))


def test_tensors_are_accepted():
    labels, p = rng.integers(0, C, N), softmax_rows()
    m = metrics.get("accuracy", labels, p)
    m.update_state(sd.tensor(labels), sd.tensor(p, requires_grad=True).softmax())
    assert m.result() == pytest.approx(np.mean(p.argmax(1) == labels))


# --- Mean, Sum, wrappers, loss metrics -----------------------------------------------------------------------


def test_mean_and_sum_with_sample_weights():
    v, w = rng.normal(size=N), rng.uniform(0, 2, N)
    mean, total = metrics.Mean(), metrics.Sum()
    for lo, hi in ((0, 10), (10, N)):
        mean.update_state(v[lo:hi], sample_weight=w[lo:hi])
        total.update_state(v[lo:hi], sample_weight=w[lo:hi])
    assert mean.result() == pytest.approx(weighted_mean(v, w))
    assert total.result() == pytest.approx((v * w).sum())
    assert isinstance(mean.result(), float)
    per_sample = metrics.Mean()
    per_sample.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=np.array([1.0, 3.0]))
    assert per_sample.result() == pytest.approx((2.0 * 1 + 6.0 * 3) / 4)
    mean.reset_state()
    assert mean.result() == 0.0 and mean.count == 0


def test_mean_metric_wrapper_and_functions():
    def error_count(y_true, y_pred):
        return (np.abs(y_true - y_pred) > 0.5).astype(float)

    m = metrics.get(error_count)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "error_count"
    m.update_state(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.1, 2.0, 2.0, 5.0]))
    assert m.result() == pytest.approx(0.5)
    assert m(np.array([0.0]), np.array([1.0])) == pytest.approx(0.6)
    assert type(metrics.get(metrics.binary_accuracy)) is metrics.BinaryAccuracy


def test_loss_metrics_average_per_sample_losses_over_all_samples():
    labels, p = rng.integers(0, C, N), softmax_rows()
    per = -np.log(p[np.arange(N), labels])
    m = metrics.get("sparse_categorical_crossentropy")
    assert m.name == "sparse_categorical_crossentropy"
    m.update_state(labels[:10], p[:10])
    m.update_state(labels[10:], p[10:])
    assert m.result() == pytest.approx(per.mean(), rel=1e-6)
    t, y = rng.normal(size=(N, 3)), rng.normal(size=(N, 3))
    for name, expected in (("mse", ((y - t) ** 2).mean()), ("mae", np.abs(y - t).mean())):
        metric = metrics.get(name)
        assert metric.name == name
        metric.update_state(t, y)
        assert metric.result() == pytest.approx(expected)
    bce = metrics.get("binary_crossentropy")
    t01, s, w = rng.integers(0, 2, N), rng.uniform(0.05, 0.95, (N, 1)), rng.uniform(0, 2, N)
    bce.update_state(t01, s, sample_weight=w)
    per = -(t01 * np.log(s[:, 0]) + (1 - t01) * np.log(1 - s[:, 0]))
    assert bce.result() == pytest.approx(weighted_mean(per, w), rel=1e-6)


def test_averaging_metrics_leave_out_the_masked_steps_of_y_pred():
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    t, p = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    w = np.array([2.0, 1.0, 0.5])
    y_pred = sd.tensor(p)
    set_keras_mask(y_pred, mask)
    sq = ((p - t) ** 2).mean(-1)
    step_w = w[:, None] * mask
    weighted = (sq * step_w).sum() / step_w.sum()
    for metric, sample_weight, expected in (
            (metrics.MeanSquaredError(), None, sq[mask].mean()),
            (metrics.MeanSquaredError(), w, weighted),
            (metrics.MeanMetricWrapper(lambda a, b: ((b - a) ** 2).mean(-1)), w[:, None], weighted),
            (metrics.get("accuracy"), None, (np.argmax(p, -1) == np.argmax(t, -1))[mask].mean())):
        for half in (slice(0, 2), slice(2, 3)):  # two batches
            part = sd.tensor(p[half])
            set_keras_mask(part, mask[half])
            metric.update_state(t[half], part, None if sample_weight is None else sample_weight[half])
        assert metric.result() == pytest.approx(expected)
    unmasked = metrics.MeanSquaredError()
    unmasked.update_state(t, p)
    assert unmasked.result() == pytest.approx(sq.mean())


def test_loss_metric_does_not_touch_the_graph():
    z = sd.tensor(rng.normal(size=(N, C)), requires_grad=True)
    m = metrics.CategoricalCrossentropy()
    m.update_state(np.eye(C)[rng.integers(0, C, N)], z.softmax())
    assert m.result() > 0 and z.grad is None


def test_rmse_and_cosine_similarity():
    t, y, w = rng.normal(size=(N, 3)), rng.normal(size=(N, 3)), rng.uniform(0, 2, N)
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(t, y, sample_weight=w)
    assert rmse.result() == pytest.approx(np.sqrt(weighted_mean(((y - t) ** 2).mean(1), w)))
    cos = metrics.CosineSimilarity()
    cos.update_state(t, y)
    expected = (t * y).sum(1) / np.linalg.norm(t, axis=1) / np.linalg.norm(y, axis=1)
    assert cos.result() == pytest.approx(expected.mean())
    np.testing.assert_allclose(-losses.cosine_similarity(t, y).numpy(), expected)


# --- confusion-matrix metrics ------------------------------------------------------------------------------


def direct_counts(t, p, w, thr):
    """tp, fp, tn, fn at one threshold, element by element."""
    pos, lab = p > thr, t != 0
    return [(w * (pos & lab)).sum(), (w * (pos & ~lab)).sum(), (w * (~pos & ~lab)).sum(), (w * (~pos & lab)).sum()]


def test_precision_recall_and_counts_match_direct_formulas():
    t, p, w = rng.integers(0, 2, (N, 3)), rng.uniform(size=(N, 3)), rng.uniform(0, 2, N)
    wb = np.broadcast_to(w[:, None], (N, 3))
    for thr in (0.5, 0.2):
        tp, fp, tn, fn = direct_counts(t, p, wb, thr)
        prec, rec = metrics.Precision(thresholds=thr), metrics.Recall(thresholds=thr)
        counts = [metrics.TruePositives(thr), metrics.FalsePositives(thr), metrics.TrueNegatives(thr),
                  metrics.FalseNegatives(thr)]
        for m in (prec, rec, *counts):
            m.update_state(t[:20], p[:20], sample_weight=w[:20])
            m.update_state(t[20:], p[20:], sample_weight=w[20:])
        assert prec.result() == pytest.approx(tp / (tp + fp))
        assert rec.result() == pytest.approx(tp / (tp + fn))
        assert [m.result() for m in counts] == pytest.approx([tp, fp, tn, fn])
    several = metrics.Precision(thresholds=[0.3, 0.7])
    several.update_state(t, p)
    expected = [direct_counts(t, p, 1.0, thr) for thr in (0.3, 0.7)]
    np.testing.assert_allclose(several.result(), [c[0] / (c[0] + c[1]) for c in expected])
    assert metrics.Precision().result() == 0.0


def test_precision_top_k_and_class_id():
    t, p = rng.integers(0, 2, (N, 5)), rng.uniform(size=(N, 5))
    top2 = np.argsort(-p, axis=1)[:, :2]
    predicted = np.zeros_like(t, dtype=bool)
    np.put_along_axis(predicted, top2, True, axis=1)
    m = metrics.Precision(top_k=2)
    m.update_state(t, p)
    assert m.result() == pytest.approx((predicted & (t == 1)).sum() / predicted.sum())
    r = metrics.Recall(class_id=3)
    r.update_state(t, p)
    assert r.result() == pytest.approx(((p[:, 3] > 0.5) & (t[:, 3] == 1)).sum() / (t[:, 3] == 1).sum())


def test_confusion_metrics_reject_logits():
    with pytest.raises(ValueError, match=r"precision: predictions must be in \[0, 1\]"):
        metrics.Precision().update_state([0, 1], [-2.0, 3.0])
    with pytest.raises(ValueError, match="from_logits=True"):
        metrics.AUC().update_state([0, 1], [-2.0, 3.0])


# --- AUC ---------------------------------------------------------------------------------------------


def keras_thresholds(n=200):
    return np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])


def direct_auc(t, p, w, curve="ROC", method="interpolation", n=200):
    """Keras's Riemann sum, from counts made threshold by threshold."""
    tp, fp, tn, fn = np.array([direct_counts(t, p, w, thr) for thr in keras_thresholds(n)]).T
    recall = tp / np.maximum(tp + fn, 1e-300)
    if curve == "ROC":
        x, y = fp / np.maximum(fp + tn, 1e-300), recall
    else:
        x, y = recall, np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0)
    pick = {"interpolation": lambda a, b: (a + b) / 2, "minoring": np.minimum, "majoring": np.maximum}[method]
    return np.sum((x[:-1] - x[1:]) * pick(y[:-1], y[1:]))


def mann_whitney(t, s):
    """The exact area under the ROC curve: P(score of a positive > score of a negative)."""
    pos, neg = s[t == 1], s[t == 0]
    return np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])


def test_auc_counts_and_roc_area_match_direct_computation():
    t, p, w = rng.integers(0, 2, 500), rng.beta(2, 2, 500), rng.uniform(0, 2, 500)
    p = np.clip(p + 0.3 * t, 0, 1)
    p[:5] = [0.0, 1.0, 0.5, 0.25, 1.0]  # the ends and exact thresholds
    auc = metrics.AUC()
    auc.update_state(t[:100], p[:100], sample_weight=w[:100])
    auc.update_state(t[100:], p[100:], sample_weight=w[100:])
    direct = np.array([direct_counts(t, p, w, thr) for thr in keras_thresholds()]).T
    np.testing.assert_allclose(auc.counts[:, :, 0], direct, atol=1e-9)
    assert auc.result() == pytest.approx(direct_auc(t, p, w), rel=1e-9)
    plain = metrics.AUC()
    plain.update_state(t, p)
    assert plain.result() == pytest.approx(mann_whitney(t, p), abs=5e-3)


def direct_pr_auc(t, s, n):
    """Area under the PR curve with positives interpolated linearly between thresholds (Davis & Goadrich),
    integrated numerically interval by interval."""
    tp, fp, _, fn = np.array([direct_counts(t, s, 1.0, thr) for thr in keras_thresholds(n)]).T
    area = 0.0
    for i in range(n - 1):
        dtp = tp[i] - tp[i + 1]
        if dtp > 0:
            x = tp[i + 1] + dtp * (np.arange(4000) + 0.5) / 4000
            p_hi, p_lo = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            area += np.mean(x / (p_lo + (x - tp[i + 1]) * (p_hi - p_lo) / dtp)) * dtp / (tp[0] + fn[0])
    return area


def test_auc_summation_methods_and_pr_curve():
    t, s = rng.integers(0, 2, 300), rng.uniform(size=300)
    s = np.clip(s + 0.4 * t, 0, 1)
    results = {}
    for method in ("interpolation", "minoring", "majoring"):
        for curve in ("ROC", "PR"):
            m = metrics.AUC(curve=curve, summation_method=method, num_thresholds=50)
            m.update_state(t, s)
            results[curve, method] = m.result()
            if (curve, method) != ("PR", "interpolation"):
                assert m.result() == pytest.approx(direct_auc(t, s, 1.0, curve, method, 50), rel=1e-9)
    for curve in ("ROC", "PR"):
        assert results[curve, "minoring"] <= results[curve, "interpolation"] <= results[curve, "majoring"]
    assert results["PR", "interpolation"] == pytest.approx(direct_pr_auc(t, s, 50), rel=1e-6)


def test_auc_weights_equal_repeated_samples_and_logits_equal_sigmoid():
    t, s = rng.integers(0, 2, 100), rng.uniform(size=100)
    reps = rng.integers(1, 4, 100)
    weighted, repeated = metrics.AUC(), metrics.AUC()
    weighted.update_state(t, s, sample_weight=reps)
    repeated.update_state(np.repeat(t, reps), np.repeat(s, reps))
    assert weighted.result() == pytest.approx(repeated.result(), rel=1e-12)
    z = rng.normal(size=100)
    from_logits, from_probs = metrics.AUC(from_logits=True), metrics.AUC()
    from_logits.update_state(t, z)
    from_probs.update_state(t, 1 / (1 + np.exp(-z)))
    assert from_logits.result() == pytest.approx(from_probs.result())


def test_auc_custom_thresholds_and_multi_label():
    t, s = rng.integers(0, 2, (80, 3)), rng.uniform(size=(80, 3))
    custom = metrics.AUC(thresholds=[0.1, 0.5, 0.6])
    custom.update_state(t, s)
    thr = np.array([-1e-7, 0.1, 0.5, 0.6, 1 + 1e-7])
    tp, fp, tn, fn = np.array([direct_counts(t, s, 1.0, x) for x in thr]).T
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    assert custom.result() == pytest.approx(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
    multi = metrics.AUC(multi_label=True, label_weights=[1.0, 2.0, 0.0])
    multi.update_state(t, s)
    per_label = [direct_auc(t[:, j], s[:, j], 1.0) for j in range(3)]
    assert multi.result() == pytest.approx((per_label[0] + 2 * per_label[1]) / 3)
    flat = metrics.AUC()
    flat.update_state(t, s)
    assert flat.result() == pytest.approx(direct_auc(t, s, 1.0))


def test_auc_config_round_trip():
    m = metrics.AUC(num_thresholds=50, curve="pr", name="pr_auc")
    back = metrics.deserialize(metrics.serialize(m))
    assert back.curve == "PR" and back.num_thresholds == 50 and back.evenly and back.name == "pr_auc"
    with pytest.raises(ValueError, match="curve must be"):
        metrics.AUC(curve="DET")


# --- lookup and configs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cls"), [
    ("binary_accuracy", metrics.BinaryAccuracy), ("categorical_accuracy", metrics.CategoricalAccuracy),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
    ("mse", metrics.MeanSquaredError), ("mean_absolute_error", metrics.MeanAbsoluteError),
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("kld", metrics.KLDivergence),
    ("AUC", metrics.AUC), ("Precision", metrics.Precision), ("recall", metrics.Recall),
])
def test_get_by_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls
    if name[0].islower():
        assert m.name == name


def test_get_accepts_classes_instances_and_configs():
    inst = metrics.Recall()
    assert metrics.get(inst) is inst
    assert type(metrics.get(metrics.AUC)) is metrics.AUC
    assert metrics.get(None) is None
    assert metrics.get("MeanSquaredError").name == "mean_squared_error"
    m = metrics.BinaryAccuracy(threshold=0.7, name="acc7")
    d = metrics.serialize(m)
    assert d == {"class_name": "BinaryAccuracy", "config": {"name": "acc7", "dtype": "float32", "threshold": 0.7}}
    back = metrics.get(d)
    assert type(back) is metrics.BinaryAccuracy and back.threshold == 0.7
    p = metrics.deserialize(metrics.serialize(metrics.Precision(thresholds=[0.2, 0.4], top_k=2)))
    assert p.top_k == 2 and p.init_thresholds == [0.2, 0.4]
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'; did you mean 'accuracy'"):
        metrics.get("acuracy")


def test_wrapper_config_round_trip_with_custom_objects():
    def within(y_true, y_pred, tol=0.1):
        return (np.abs(y_true - y_pred) < tol).astype(float)

    m = metrics.MeanMetricWrapper(within, tol=0.5)
    back = metrics.deserialize(metrics.serialize(m), custom_objects={"within": within})
    back.update_state(np.array([0.0, 1.0]), np.array([0.3, 2.0]))
    assert back.result() == pytest.approx(0.5) and back.name == "within"
    assert metrics.serialize(within) == "within"
    assert metrics.deserialize("within", custom_objects={"within": within}).name == "within"
    builtin = metrics.deserialize(metrics.serialize(metrics.MeanMetricWrapper(metrics.binary_accuracy)))
    builtin.update_state([1, 0], [0.9, 0.9])
    assert builtin.result() == pytest.approx(0.5)
