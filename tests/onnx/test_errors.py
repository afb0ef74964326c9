"""What the export refuses, and how it says so."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import shendu as sd
import shendu.onnx
from shendu.keras import Input, Model, Sequential, layers


def _model():
    sd.random.seed(0)
    return Sequential([layers.Input((3,)), layers.Dense(2)])


def test_without_onnx_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with pytest.raises(ImportError) as info:
        shendu.onnx.export(_model(), tmp_path / "m.onnx")
    assert str(info.value) == "ONNX export needs the onnx package: pip install 'shendu[onnx]'"
    assert not (tmp_path / "m.onnx").exists()


def test_model_export_needs_format_onnx(tmp_path):
    with pytest.raises(ValueError, match="format='onnx'"):
        _model().export(tmp_path / "saved_model")


def test_an_unsupported_layer_names_itself(onnx, tmp_path):
    x = Input((3,))
    y = layers.Lambda(lambda t: t * 2.0, name="doubler")(layers.Dense(3)(x))
    with pytest.raises(shendu.onnx.ExportError, match=r"layer 'doubler' \(Lambda\) cannot be exported"):
        shendu.onnx.export(Model(x, y), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_an_unsupported_activation_names_the_layer(onnx, tmp_path):
    model = Sequential([layers.Input((3,)), layers.Dense(2, activation=lambda t: t * 3.0, name="odd")])
    with pytest.raises(shendu.onnx.ExportError, match="layer 'odd' \\(Dense\\)"):
        shendu.onnx.export(model, tmp_path / "m.onnx")


def test_a_subclassed_model_is_refused(onnx, tmp_path):
    class Twice(sd.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x) * 2

    model = Twice()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(shendu.onnx.ExportError, match="subclassed"):
        shendu.onnx.export(model, tmp_path / "m.onnx")


@pytest.mark.parametrize("opset", [9, 1000, "17"])
def test_a_bad_opset(onnx, tmp_path, opset):
    with pytest.raises(ValueError, match="opset must be an integer"):
        shendu.onnx.export(_model(), tmp_path / "m.onnx", opset=opset)


def test_a_failed_export_keeps_the_old_file(onnx, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    x = Input((3,))
    with pytest.raises(shendu.onnx.ExportError):
        shendu.onnx.export(Model(x, layers.Lambda(lambda t: t)(x)), path)
    assert path.read_bytes() == b"old"


def test_stateful_rnn_is_refused(onnx, tmp_path):
    model = Sequential([layers.Input((4, 2), batch_size=2), layers.LSTM(3, stateful=True, name="memo")])
    with pytest.raises(shendu.onnx.ExportError, match="layer 'memo' \\(LSTM\\) is stateful"):
        shendu.onnx.export(model, tmp_path / "m.onnx")
