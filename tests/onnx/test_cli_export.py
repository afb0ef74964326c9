"""`shendu export model.shendu model.onnx [--opset N]`: the file it writes runs in ONNX Runtime; bad arguments are
one line and exit status 2, failures one line and exit status 1."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.cli import main
from shendu.keras import Sequential, layers
from tests.onnx.harness import run_onnx


def _saved(tmp_path):
    sd.random.seed(0)
    model = Sequential([layers.Input((6,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    path = tmp_path / "m.shendu"
    model.save(path)
    return model, path


def test_export_writes_a_file_onnxruntime_runs(onnx, onnxruntime, tmp_path, capsys):
    model, path = _saved(tmp_path)
    out = tmp_path / "m.onnx"
    assert main(["export", str(path), str(out), "--opset", "18"]) == 0
    assert "opset 18" in capsys.readouterr().out
    assert onnx.load(str(out)).opset_import[0].version == 18
    x = np.random.default_rng(0).standard_normal((3, 6)).astype("float32")
    np.testing.assert_allclose(run_onnx(onnxruntime, out, [x])[0], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_an_opset_too_old_is_a_bad_argument(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path / "m.shendu"), str(tmp_path / "m.onnx"), "--opset", "9"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--opset" in err and "14" in err


def test_an_output_in_a_missing_place_is_a_bad_argument(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path / "m.shendu"), str(blocker / "m.onnx")])
    assert exit_info.value.code == 2
    assert "is a file, not a directory" in capsys.readouterr().err


def test_a_missing_model_file_is_a_failure(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nothing.shendu"), str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("shendu export: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "m.onnx").exists()
