"""examples/explain_mnist.py end to end with tiny settings: both models trained briefly, the figures written."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")
def test_explain_example_writes_its_figures(matplotlib, tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "explain_mnist.py"), "--output",
                             str(tmp_path), "--train", "600", "--sentences", "500", "--epochs", "1", "--digits", "2",
                             "--show", "2", "--steps", "8", "--samples", "2"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("explain_mnist.png", "explain_tokens.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC, name
    html = (tmp_path / "explain_tokens.html").read_text(encoding="utf-8")
    assert html.count("<p>") == 2 and "P(positive)" in html
    assert "completeness error" in result.stdout
