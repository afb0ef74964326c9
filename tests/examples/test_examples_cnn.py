"""The tutorial CNN: the CLI's `cnn` architecture (fast structural checks), and slow end-to-end runs of
`shendu train cnn` and of examples/mnist_cnn.py / mnist_cnn_best.py for one epoch on MNIST."""

import os
import subprocess
import sys

import numpy as np
import pytest

from shendu.cli import ARCHITECTURES, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
needs_mnist = pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_cli_cnn_is_the_tutorial_network():
    model = ARCHITECTURES["cnn"]()
    assert model.count_params() == 225_034
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout",
                     "Dense"]
    assert [w.shape for w in model.get_weights()] == [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (1600, 128),
                                                      (128,), (128, 10), (10,)]
    probabilities = model.predict(np.random.default_rng(0).random((3, 28, 28), dtype=np.float32), verbose=0)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def accuracy_in(output: str) -> float:
    return float(output.split("test accuracy ")[1].split()[0].rstrip(","))


@pytest.mark.slow
@needs_mnist
def test_cli_trains_the_cnn_for_one_epoch_and_reads_it_back(tmp_path, capsys):
    path = str(tmp_path / "cnn.shendu")
    assert main(["train", "cnn", "--epochs", "1", "--seed", "0", "--verbose", "0", "--output", path]) == 0
    accuracy = accuracy_in(capsys.readouterr().out)
    assert accuracy > 0.97
    assert main(["evaluate", path, "--verbose", "0"]) == 0
    assert f"test accuracy {accuracy:.4f}" in capsys.readouterr().out
    assert main(["summary", path]) == 0
    assert "Total params: 225,034" in capsys.readouterr().out


def run_example(name: str, out, *args: str) -> str:
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), "--output", str(out), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
@needs_mnist
def test_mnist_cnn_example_one_epoch_writes_figures_and_model(tmp_path):
    out = run_example("mnist_cnn.py", tmp_path, "--epochs", "1")
    assert accuracy_in(out) > 0.97
    assert (tmp_path / "mnist_cnn.shendu").stat().st_size > 225_034 * 4
    if "no figures" not in out:
        for png in ("history.png", "predictions.png", "mistakes.png"):
            assert (tmp_path / png).read_bytes()[:8] == PNG_MAGIC, png


@pytest.mark.slow
@needs_mnist
def test_mnist_cnn_best_example_one_epoch(tmp_path):
    out = run_example("mnist_cnn_best.py", tmp_path, "--epochs", "1")
    assert accuracy_in(out) > 0.95  # one epoch of augmented data; the moving BatchNorm statistics still lag
    assert (tmp_path / "mnist_cnn_best.shendu").exists()
