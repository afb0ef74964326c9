"""examples/tuning_mnist.py: the MLP it tunes, its cross-validation with and without scikit-learn (Dataset.shard
folds) on small synthetic data, a tiny end-to-end run on MNIST, and the slow run at the documented settings."""

import importlib
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples"))
tuning = importlib.import_module("tuning_mnist")
needs_mnist = pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_mlp_has_the_asked_width_depth_and_dropout():
    model = tuning.mlp(units=64, layers=3, dropout=0.3)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout"] * 3 + ["Dense"]
    assert model.count_params() == 784 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10
    assert model.layers[1].rate == 0.3


def synthetic(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = (x[:, :392].sum(1) > x[:, 392:].sum(1)).astype(int)
    return x[:80], y[:80], x[80:], y[80:]


def test_cross_validation_without_sklearn_uses_shard_folds(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.model_selection", None)  # import fails as if sklearn were missing
    params = {"model__units": 8, "model__layers": 1, "model__classes": 2, "batch_size": 20}
    scores = tuning.cross_validate(synthetic(), params, folds=4, epochs=1, seed=0)
    assert scores.shape == (4,) and ((scores >= 0) & (scores <= 1)).all()
    data = synthetic()
    x, y = np.concatenate([data[0], data[2]]), np.concatenate([data[1], data[3]])
    test, train = np.arange(1, 100, 4), np.setdiff1d(np.arange(100), np.arange(1, 100, 4))  # fold 1 of 4
    clf = tuning.classifier(1, 0, **params).fit(x[train], y[train])
    assert scores[1] == pytest.approx(clf.score(x[test], y[test]))


def test_cross_validation_with_sklearn(sklearn):
    params = {"model__units": 8, "model__layers": 1, "model__classes": 2}
    scores = tuning.cross_validate(synthetic(), params, folds=3, epochs=1, seed=0)
    assert scores.shape == (3,) and ((scores >= 0) & (scores <= 1)).all()


@needs_mnist
def test_tiny_run_prints_the_tables_and_writes_the_figure(tmp_path, optuna, capsys):
    report = tuning.main(["--train", "300", "--val", "100", "--epochs", "1", "--trials", "2", "--folds", "2",
                          "--output", str(tmp_path)])
    assert "| learning rate | batch 32 | batch 128 | batch 512 |" in report
    assert all(f"\n| {rate:g} | " in report for rate in tuning.RATES)
    assert "\n| 0 | " in report and "\n| 1 | " in report  # the two trials
    assert "2-fold cross-validation" in report and "test accuracy" in report
    out = capsys.readouterr().out
    if "no figures" not in out:
        assert (tmp_path / "tuning_mnist.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
@needs_mnist
def test_documented_run_tunes_to_a_good_mlp(tmp_path, optuna):
    report = tuning.main(["--output", str(tmp_path)])
    accuracy = float(report.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.93  # 10,000 images, 3 epochs: 0.9496 with seed 0
