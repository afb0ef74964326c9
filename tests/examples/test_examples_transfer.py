"""examples/transfer_digits.py: the digits in MNIST's layout, the network it transfers, a tiny end-to-end run (table
and plot written) and the slow run at the documented settings."""

import importlib
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples"))
transfer = importlib.import_module("transfer_digits")
needs_mnist = pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_digits_are_upsampled_into_mnists_layout(sklearn):
    x, y = transfer.load_digits_28()
    assert x.shape == (1797, 28, 28, 1) and x.dtype == np.float32 and y.shape == (1797,)
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.9
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert np.all(x[:, border, 0] == 0)  # a 20x20 digit centred in 28x28, as MNIST's


def test_frozen_classifier_trains_the_head_only():
    base = transfer.feature_extractor()
    base.trainable = False
    model = transfer.classifier(base, training=False)
    assert [w.name.rsplit("/", 1)[-1] for w in model.trainable_weights] == ["kernel", "bias"]
    assert model.output_shape == (None, 10)


def test_markdown_table_has_a_row_per_label_count():
    results = {50: {m: [0.5, 0.7] for m in transfer.METHODS}, 100: {m: [0.9] for m in transfer.METHODS}}
    table = transfer.markdown_table([50, 100], results).splitlines()
    assert table[0] == "| labels | scratch | frozen | fine-tuned |"
    assert table[2] == "| 50 | 0.600 ± 0.100 | 0.600 ± 0.100 | 0.600 ± 0.100 |"
    assert table[3].startswith("| 100 | 0.900 ± 0.000")


@needs_mnist
def test_tiny_run_writes_table_and_plot(tmp_path, sklearn, matplotlib):
    results = transfer.main(["--output", str(tmp_path), "--pretrain-samples", "300", "--pretrain-epochs", "1",
                             "--labels", "20", "40", "--steps", "4", "--repeats", "1", "--test-size", "200"])
    assert set(results) == {20, 40}
    for scores in results.values():
        assert all(len(scores[m]) == 1 and 0 <= scores[m][0] <= 1 for m in transfer.METHODS)
    assert (tmp_path / "transfer_digits.md").read_text(encoding="utf-8").startswith("| labels |")
    assert (tmp_path / "transfer_digits.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
@needs_mnist
def test_documented_run_transfer_helps_with_few_labels(tmp_path, sklearn):
    """The documented settings: fine-tuning the MNIST-pretrained network beats training from scratch at 50 labels."""
    results = transfer.main(["--output", str(tmp_path), "--labels", "50", "--repeats", "3"])
    assert np.mean(results[50]["fine-tuned"]) > np.mean(results[50]["scratch"])
