"""The int8 layers' fast path: the dequantized kernel kept until the int8 weights change, and an int8 Conv2D
fused with the MaxPooling2D after it, computing what the layer-by-layer path computes."""

import numpy as np
import pytest

import shendu as sd
from shendu.compression import QuantizedConv2D, calibrate
from shendu.keras import Sequential, layers
from shendu.models import sequential


def _cnn():
    sd.random.seed(0)
    model = Sequential([
        layers.Conv2D(6, 3, activation="relu", input_shape=(10, 10, 2)), layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2, padding="same"),
        layers.Flatten(), layers.Dense(5),
    ])
    model.compile("adam", sd.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.quantize("int8")
    return model


def _x():
    return np.random.default_rng(0).normal(size=(9, 10, 10, 2)).astype(np.float32)


def _one_by_one(model, x):
    """The layers' own calls in turn: the readable path, no fusion."""
    y = sd.constant(x)
    for layer in model.layers:
        y = layer(y)
    return y.numpy()


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the Conv+MaxPool pairs (and the layers fused after them) that Sequential ran as one op."""
    taken = []

    def spy(conv, following, inputs):
        out = call_fused(conv, following, inputs)
        taken.append((conv.name, out is not None))
        return out

    call_fused = sequential.call_fused
    monkeypatch.setattr(sequential, "call_fused", spy)
    return taken


def test_dequantized_kernel_is_kept_until_the_int8_weights_are_assigned(tmp_path):
    model = _cnn()
    conv = model.layers[0]
    kernel = conv.kernel
    assert conv.kernel is kernel and not kernel.data.flags.writeable
    q, scale = conv.quantized_weights()
    np.testing.assert_allclose(kernel.data, q / scale, rtol=1e-6)
    conv._scale.assign(scale * 2)
    assert conv.kernel is not kernel
    np.testing.assert_allclose(conv.kernel.data, q / (scale * 2), rtol=1e-6)
    new_q = np.random.default_rng(1).integers(-127, 128, q.shape).astype(np.int8)
    values = {"kernel": new_q, "kernel_scale": scale, "bias": conv.bias.numpy()}
    conv.set_weights([values[w.name.rsplit("/", 1)[-1]] for w in conv.weights])
    np.testing.assert_allclose(conv.kernel.data, new_q / scale, rtol=1e-6)
    model.save(tmp_path / "int8.shendu")
    loaded = sd.keras.models.load_model(tmp_path / "int8.shendu")
    np.testing.assert_allclose(loaded.layers[0].kernel.data, new_q / scale, rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(_x(), verbose=0), model.predict(_x(), verbose=0))


def test_int8_conv_takes_the_fused_path_and_matches_the_layer_calls(fused_calls):
    model, x = _cnn(), _x()
    assert isinstance(model.layers[0], QuantizedConv2D)
    assert [fuse is not None for _, _, fuse in model._plan] == [True, False, True, False, False, False]
    fused = model.predict(x, verbose=0)
    assert fused_calls == [(model.layers[0].name, True), (model.layers[2].name, True)]
    np.testing.assert_allclose(fused, _one_by_one(model, x), rtol=1e-5, atol=1e-6)


def test_calibrated_int8_conv_rounds_its_inputs_on_the_fused_path(fused_calls):
    model, x = _cnn(), _x()
    ranges = calibrate(model, x)
    assert all(taken for _, taken in fused_calls)  # calibration ran through the fused path and saw the inputs
    assert ranges[model.layers[0].name] == pytest.approx(float(np.abs(x).max()))
    fused = model.predict(x, verbose=0)
    np.testing.assert_allclose(fused, _one_by_one(model, x), rtol=1e-5, atol=1e-6)
    conv = model.layers[0]
    s_x = float(conv.inputs_scale.data)
    rounded = np.clip(np.round(x * s_x), -127, 127) / s_x
    pool = model.layers[1]
    expected = pool(layers.Conv2D.call(conv, sd.constant(rounded))).numpy()  # float conv of the rounded inputs
    got = sequential.call_fused(conv, (pool,), sd.constant(x))[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_fine_tuning_a_quantized_model_leaves_the_int8_kernel_alone():
    model, x = _cnn(), _x()
    q = model.layers[0].quantized_weights()[0].copy()
    bias = model.layers[0].bias.numpy()
    model.fit(x, np.arange(9) % 5, epochs=2, batch_size=3, verbose=0)
    np.testing.assert_array_equal(model.layers[0].quantized_weights()[0], q)
    assert not np.array_equal(model.layers[0].bias.numpy(), bias)
