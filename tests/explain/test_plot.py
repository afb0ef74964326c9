"""plot_attributions and plot_token_attributions: files written and read back."""

import sys

import numpy as np
import pytest

from shendu import explain
from shendu.explain.plot import normalize
from tests.explain.models import images, small_cnn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_heatmaps_over_images_written_as_png(matplotlib, tmp_path):
    model, x = small_cnn(), images(3)
    maps = {"saliency": explain.saliency(model, x), "Grad-CAM": explain.grad_cam(model, x)}
    path = tmp_path / "maps.png"
    figure = explain.plot_attributions(x, maps, path, labels=["a", "b", "c"])
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert len(figure.axes) == 3 * 3
    from matplotlib.image import imread

    assert imread(path).shape[:2] == (int(1.8 * 3 * 80 + 0.3 * 80), int(1.8 * 3 * 80))
    with pytest.raises(ValueError, match="'saliency' has 3 maps for 2 images"):
        explain.plot_attributions(x[:2], maps)
    with pytest.raises(ValueError, match="does not match the image's"):
        explain.plot_attributions(x, {"small": explain.grad_cam(model, x, upsample=None)})


def test_normalize_clips_outliers_and_keeps_signs():
    a = np.linspace(-1, 1, 101)
    a[-1] = 100.0
    assert normalize(a, "absolute_value").max() == 1 and normalize(a, "absolute_value").min() >= 0
    signed = normalize(a, "all")
    assert signed.min() < -0.9 and signed[-2] > 0.9  # the outlier does not squash the rest
    np.testing.assert_array_equal(normalize(a, "positive")[:50], 0)
    with pytest.raises(ValueError, match="sign must be one of"):
        normalize(a, "both")


def test_tokens_as_html_without_matplotlib(tmp_path):
    path = tmp_path / "tokens.html"
    text = explain.plot_token_attributions([["a", "<b>", "film"], ["dull"]], [[0.5, -1.0, 0.0, 9.0], [-2.0]], path,
                                           labels=["pos", "neg"])
    assert path.read_text(encoding="utf-8") == text
    assert "&lt;b&gt;" in text and text.count("<span") == 4
    assert 'title="-1.000" style="background: rgba(216,25,25,0.80)' in text  # the strongest, against
    assert 'title="+0.500" style="background: rgba(25,153,25,0.40)' in text


def test_tokens_as_png(matplotlib, tmp_path):
    path = tmp_path / "tokens.png"
    explain.plot_token_attributions(["a", "fine", "film"] * 30, np.linspace(-1, 1, 90), path)
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_one_line_error_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"^plot_attributions needs matplotlib: pip install 'shendu\[plot\]'$"):
        explain.plot_attributions(images(1), np.zeros((1, 8, 8)), tmp_path / "x.png")
