"""The `shendu` command: train saves a model and prints its accuracy; evaluate, predict and summary read it."""

import os

import pytest

from shendu.cli import main

needs_mnist = pytest.mark.skipif(not os.environ.get("SHENDU_DATA_DIR"), reason="SHENDU_DATA_DIR not set")


@needs_mnist
def test_train_then_evaluate_predict_summary(tmp_path, capsys):
    path = str(tmp_path / "mlp.shendu")
    assert main(["train", "mlp", "--epochs", "1", "--batch-size", "128", "--seed", "0", "--verbose", "0",
                 "--output", path]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.9 and os.path.exists(path)

    assert main(["evaluate", path, "--verbose", "0"]) == 0
    assert f"test accuracy {accuracy:.4f}" in capsys.readouterr().out

    assert main(["predict", path, "--count", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("image 0: predicted ")

    assert main(["summary", path]) == 0
    assert "Total params: 109,386" in capsys.readouterr().out


def test_missing_model_file_is_a_clear_error(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "nope.shendu")]) == 1
    assert "no file at" in capsys.readouterr().err


def test_unknown_architecture_is_refused():
    with pytest.raises(SystemExit):
        main(["train", "transformer9000"])


def test_version_prints_the_package_version(capsys):
    from shendu import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shendu {__version__}"
