"""int8 models (`model.quantize("int8")`, weights only and calibrated) exported in QDQ form and run in ONNX Runtime
against shendu's predict: to float rounding as the graph says (optimizations off), to int8 steps with ONNX Runtime's
own int8 kernels (its default optimizations)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import shendu as sd
import shendu.onnx
from shendu.keras import Sequential, layers
from tests.onnx.harness import token_ids


def _cnn():
    """The test CNN, its layers named here: the names are stored in the files, so the file sizes do not depend on
    how many layers the tests before made."""
    sd.random.seed(0)
    return Sequential([
        layers.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu", name="conv_a"),
        layers.MaxPooling2D(2, name="pool_a"), layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_b"),
        layers.Flatten(name="flat"), layers.Dense(32, activation="relu", name="dense_a"),
        layers.Dropout(0.2, name="drop"), layers.Dense(10, name="dense_b"),
    ], name="cnn")


def _x(batch=24, seed=0):
    return np.random.default_rng(seed).random((batch, 12, 12, 1), dtype=np.float32)


def _session(onnxruntime, path, optimize=True):
    options = onnxruntime.SessionOptions()
    if not optimize:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(session, x):
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _check(model, x, onnx, onnxruntime, path):
    """The file is valid, holds the kernels as int8, and ONNX Runtime computes shendu's int8 predictions."""
    shendu.onnx.export(model, path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    int8 = {i.name for i in proto.graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) > 1}
    assert len(int8) == sum(hasattr(layer, "quantized_weights") for layer in model.layers)
    floats = [i for i in proto.graph.initializer if i.data_type == onnx.TensorProto.FLOAT]
    assert all(np.prod(i.dims) <= 64 for i in floats)  # biases and scales only: no float copy of a kernel
    dq = [n for n in proto.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8]
    assert len(dq) == len(int8) and all(a.name == "axis" for n in dq for a in n.attribute)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(_run(_session(onnxruntime, path, optimize=False), x), expected, rtol=1e-5, atol=1e-5)
    fast = _run(_session(onnxruntime, path), x)  # ONNX Runtime may swap in int8 kernels of its own rounding
    assert np.abs(fast - expected).max() <= 0.02 * np.abs(expected).max()
    assert np.mean(fast.argmax(1) == expected.argmax(1)) >= 0.9
    return proto


def test_int8_weights_export(onnx, onnxruntime, tmp_path):
    model = _cnn()
    model.quantize("int8")
    proto = _check(model, _x(), onnx, onnxruntime, tmp_path / "int8.onnx")
    assert not any(n.op_type == "QuantizeLinear" for n in proto.graph.node)  # float inputs: weight-only


def test_calibrated_int8_export_rounds_the_inputs(onnx, onnxruntime, tmp_path):
    model = _cnn()
    model.quantize("int8", calibration_data=_x(64, seed=1))
    proto = _check(model, _x(), onnx, onnxruntime, tmp_path / "calibrated.onnx")
    quantize = [n for n in proto.graph.node if n.op_type == "QuantizeLinear"]
    assert len(quantize) == 4
    steps = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    dense = model.layers[4]
    assert steps[f"{dense.name}/input_step"] == pytest.approx(1.0 / float(dense.inputs_scale.data), rel=1e-6)


def test_file_is_about_four_times_smaller(onnx, onnxruntime, tmp_path):
    model = _cnn()
    shendu.onnx.export(model, tmp_path / "float.onnx")
    model.quantize("int8")
    shendu.onnx.export(model, tmp_path / "int8.onnx")
    ratio = os.path.getsize(tmp_path / "float.onnx") / os.path.getsize(tmp_path / "int8.onnx")
    assert 3.3 < ratio < 4.1


def test_conv1d_and_embedding(onnx, onnxruntime, tmp_path):
    sd.random.seed(1)
    model = Sequential([layers.Input((9,), dtype="int64"), layers.Embedding(30, 6, mask_zero=True),
                        layers.Conv1D(5, 3, padding="causal", activation="tanh"), layers.GlobalAveragePooling1D(),
                        layers.Dense(3)], name="text")
    ids = token_ids(9, 30)(16)[0]
    model.quantize("int8", calibration_data=ids)
    expected = model.predict(ids, verbose=0)
    shendu.onnx.export(model, tmp_path / "text.onnx")
    for optimize in (False, True):
        got = _run(_session(onnxruntime, tmp_path / "text.onnx", optimize), ids)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 if optimize else 1e-5)
