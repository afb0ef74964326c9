"""Post-training int8 quantization: the round-trip bound, int8 in the file (about 4x smaller), calibration."""

import os

import numpy as np
import pytest

import shendu as sd
from shendu.compression import QuantizedConv2D, QuantizedDense, QuantizedEmbedding, calibrate
from shendu.keras import Sequential, layers
from shendu.ops.fake_quant import abs_max_quantize


def _cnn(units=64):
    sd.random.seed(0)
    model = Sequential([
        layers.Conv2D(16, 3, activation="relu", input_shape=(12, 12, 1)), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(units, activation="relu"), layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _x():
    return np.random.default_rng(0).random((16, 12, 12, 1), dtype=np.float32)


def test_abs_max_quantize_matches_keras_formula_and_half_step_bound():
    w = np.random.default_rng(1).normal(size=(30, 7)).astype(np.float32)
    q, scale = abs_max_quantize(w, axis=0)
    expected_scale = 127 / (np.abs(w).max(axis=0, keepdims=True) + 1e-7)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-6)
    assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127
    assert np.all(np.abs(w - q / scale) <= 0.5 / scale * (1 + 1e-5))


def test_quantized_model_round_trip_bound_and_predictions():
    model, x = _cnn(), _x()
    floats = {layer.name: layer.kernel.data.copy() for layer in model.layers if hasattr(layer, "kernel")}
    before = model.predict(x, verbose=0)
    model.quantize("int8")
    assert [type(layer).__name__ for layer in model.layers] == [
        "QuantizedConv2D", "MaxPooling2D", "Flatten", "QuantizedDense", "QuantizedDense"]
    for layer in model.layers:
        if layer.name in floats:
            q, scale = layer.quantized_weights()
            assert q.dtype == np.int8
            step = 1.0 / scale  # per output channel
            error = np.abs(floats[layer.name] - layer.kernel.data)
            assert np.all(error <= 0.5 * step * (1 + 1e-5))
    np.testing.assert_allclose(model.predict(x, verbose=0), before, atol=2e-3)


def test_int8_file_is_about_four_times_smaller_and_loads(tmp_path):
    model, x = _cnn(units=256), _x()  # 104k weights: the config and scales are a small part of the file
    model.save(tmp_path / "float.shendu")
    model.quantize("int8")
    model.save(tmp_path / "int8.shendu")
    ratio = os.path.getsize(tmp_path / "float.shendu") / os.path.getsize(tmp_path / "int8.shendu")
    assert 3.5 < ratio < 4.1
    loaded = sd.keras.models.load_model(tmp_path / "int8.shendu")
    assert isinstance(loaded.layers[0], QuantizedConv2D) and isinstance(loaded.layers[3], QuantizedDense)
    assert loaded.layers[3].quantized_weights()[0].dtype == np.int8
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_calibration_quantizes_inputs_to_static_int8_steps(tmp_path):
    model, x = _cnn(), _x()
    model.quantize("int8")
    weight_only = model.predict(x, verbose=0)
    ranges = calibrate(model, x)
    assert ranges[model.layers[0].name] == pytest.approx(float(x.max()))
    dense = model.layers[3]
    hidden = sd.keras.Model(model.inputs, model.layers[2].output).predict(x, verbose=0)
    s_x = float(dense.inputs_scale.data)
    q, s_w = dense.quantized_weights()
    x_q = np.clip(np.round(hidden * s_x), -127, 127)
    integer = x_q.astype(np.int64) @ q.astype(np.int64)  # what an int8 engine accumulates in int32
    expected = np.maximum(integer / (s_x * s_w) + dense.bias.data, 0)
    got = sd.keras.Model(model.inputs, dense.output).predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    full_int8 = model.predict(x, verbose=0)
    assert 0 < np.abs(full_int8 - weight_only).max() < 5e-3
    model.save(tmp_path / "calibrated.shendu")
    loaded = sd.keras.models.load_model(tmp_path / "calibrated.shendu")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), full_int8)


def test_embedding_rows_and_errors():
    sd.random.seed(3)
    model = Sequential([layers.Embedding(20, 6, input_shape=(5,)), layers.Flatten(), layers.Dense(2)])
    ids = np.random.default_rng(3).integers(0, 20, (4, 5))
    table = model.layers[0].embeddings.data.copy()
    before = model.predict(ids, verbose=0)
    model.quantize("int8")
    emb = model.layers[0]
    assert isinstance(emb, QuantizedEmbedding)
    q, scale = emb.quantized_weights()
    assert scale.shape == (20,)
    assert np.all(np.abs(table - q / scale[:, None]) <= 0.5 / scale[:, None] * (1 + 1e-5))
    np.testing.assert_allclose(model.predict(ids, verbose=0), before, atol=1e-2)
    with pytest.raises(ValueError, match="mode must be one of"):
        model.quantize("int4")
    with pytest.raises(ValueError, match="no Dense, Conv1D, Conv2D or Embedding"):
        Sequential([layers.Flatten(input_shape=(2, 2))]).quantize("int8")
