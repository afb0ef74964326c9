"""The `shendu` command never ends in a traceback: bad arguments exit 2, failures exit 1, one line on stderr each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from shendu import cli
from shendu.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def fake_data(monkeypatch):
    """A few random 28x28 images in place of a dataset, so that training takes no download and little time."""
    rng = np.random.default_rng(0)

    def load(dataset: str):
        x, y = rng.random((48, 28, 28), dtype=np.float32), rng.integers(0, 10, 48)
        return (x, y), (x[:16], y[:16])

    monkeypatch.setattr(cli, "_load", load)


@pytest.fixture
def no_data(monkeypatch):
    """Fails the test if the command gets as far as loading a dataset."""
    def load(dataset: str):
        raise AssertionError("the arguments should have been refused before loading the data")

    monkeypatch.setattr(cli, "_load", load)


@pytest.mark.parametrize(("argv", "shown"), [
    (["train", "mlp", "--epochs", "-2"], "argument --epochs: expected a positive integer, got -2"),
    (["train", "mlp", "--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    (["train", "mlp", "--epochs", "2.5"], "argument --epochs: expected a positive integer, got '2.5'"),
    (["train", "mlp", "--batch-size", "-1"], "argument --batch-size: expected a positive integer, got -1"),
    (["train", "mlp", "--validation-split", "1.5"], "argument --validation-split: expected a number in [0, 1)"),
    (["train", "mlp", "--validation-split", "nan"], "argument --validation-split: expected a number in [0, 1)"),
    (["train", "mlp", "--dataset", "__name__"], "argument --dataset: invalid choice: '__name__'"),
    (["train", "mlp", "--optimizer", "nope"], "argument --optimizer: optimizers: unknown optimizer 'nope'"),
    (["train", "transformer9000"], "argument model: invalid choice"),
    (["predict", "m.shendu", "--count", "-3"], "argument --count: expected a positive integer, got -3"),
    (["evaluate", "m.shendu", "--dataset", "cifar10"], "argument --dataset: invalid choice: 'cifar10'"),
    (["summary"], "the following arguments are required: path"),
])
def test_bad_arguments_exit_2_with_one_line(argv, shown, no_data, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert shown in _one_line_error(capsys)


def test_output_that_is_a_directory_is_refused_before_training(tmp_path, no_data, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "mlp", "--output", str(tmp_path)])
    assert exc.value.code == 2
    assert f"--output {tmp_path} is a directory" in _one_line_error(capsys)


def test_output_without_a_model_file_extension_is_refused_before_training(tmp_path, no_data, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "mlp", "--output", str(tmp_path / "model.foo")])
    assert exc.value.code == 2
    assert "model.foo must end in one of .keras, .h5, .hdf5, .shendu" in _one_line_error(capsys)
    assert not (tmp_path / "model.foo").exists()


@pytest.mark.parametrize("below", ["m.shendu", os.path.join("x", "y", "m.shendu")])
def test_output_under_a_file_is_refused_before_training(tmp_path, below, no_data, capsys):
    (tmp_path / "afile").write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["train", "mlp", "--output", str(tmp_path / "afile" / below)])
    assert exc.value.code == 2
    assert f"{tmp_path / 'afile'} is a file, not a directory" in _one_line_error(capsys)


def _model_file_with(path, config: str | None) -> None:
    """A real model file whose config.json is replaced by `config` (left out when None)."""
    from shendu.keras import Sequential, layers

    Sequential([layers.Dense(3, input_shape=(5,))]).save(str(path))
    with zipfile.ZipFile(path) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            if name != "config.json":
                zf.writestr(name, data)
            elif config is not None:
                zf.writestr(name, config)


MALFORMED = {
    "garbage": os.urandom(256),
    "empty zip": None,
    "config missing": None,
    "config a list": "[]",
    "config not json": "{not json",
    "config not utf-8": b"\xff\xfe{}",
    "config too deep": "[" * 100_000 + "]" * 100_000,
    "config unknown class": json.dumps({"class_name": "NoSuchModel", "config": {}}),
    "config without class_name": json.dumps({"config": {}}),
}


@pytest.mark.parametrize("command", ["summary", "evaluate", "predict"])
@pytest.mark.parametrize("kind", ["missing", "directory", "truncated", *MALFORMED])
def test_malformed_or_missing_model_files_exit_1_with_one_line(tmp_path, command, kind, no_data, capsys):
    path = tmp_path / "m.shendu"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(MALFORMED[kind])
    elif kind == "empty zip":
        zipfile.ZipFile(path, "w").close()
    elif kind == "truncated":
        _model_file_with(path, json.dumps({"class_name": "Sequential", "config": {}}))
        path.write_bytes(path.read_bytes()[:200])
    elif kind != "missing":
        _model_file_with(path, MALFORMED[kind])
    assert main([command, str(path)]) == 1
    assert str(path) in _one_line_error(capsys)


def test_train_evaluate_predict_summary_run_clean(tmp_path, fake_data, capsys):
    path = str(tmp_path / "sub" / "mlp.shendu")
    assert main(["train", "mlp", "--epochs", "1", "--batch-size", "16", "--verbose", "0", "--output", path]) == 0
    assert "test accuracy " in capsys.readouterr().out and os.path.exists(path)
    assert main(["evaluate", path, "--verbose", "0"]) == 0
    assert capsys.readouterr().out.startswith("test accuracy ")
    assert main(["predict", path, "--count", "2"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_a_model_that_does_not_fit_the_data_is_one_line(tmp_path, fake_data, capsys):
    from shendu.keras import Sequential, layers

    model = Sequential([layers.Dense(3, input_shape=(5,))])
    path = str(tmp_path / "small.shendu")
    model.save(path)
    assert main(["predict", path]) == 1
    _one_line_error(capsys)
    assert main(["evaluate", path]) == 1
    assert "compile" in _one_line_error(capsys)


@pytest.mark.parametrize(("argv", "code"), [(["train", "mlp", "--epochs", "-2"], 2),
                                            (["summary", "garbage.shendu"], 1),
                                            (["predict", "missing.shendu"], 1)])
def test_the_command_itself_prints_no_traceback(tmp_path, argv, code):
    (tmp_path / "garbage.shendu").write_bytes(b"\x00" * 64)
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-m", "shendu.cli", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == code
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("shendu ")
