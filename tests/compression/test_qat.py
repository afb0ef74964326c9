"""Quantization-aware training: the fake-quant op's forward and straight-through gradient, and quantize_model."""

import numpy as np

import shendu as sd
from shendu import compression as c
from shendu.keras import Sequential, layers
from shendu.ops.fake_quant import FakeQuant, affine_params
from shendu.tensor import Tensor


def test_fake_quant_forward_rounds_to_steps_and_clips():
    x = np.array([-3.0, -1.26, -0.004, 0.0, 0.006, 0.5, 1.27, 2.0])
    y = FakeQuant.apply(Tensor(x), scale=100.0, zero_point=0.0, qmin=-127, qmax=127).data
    np.testing.assert_allclose(y, [-1.27, -1.26, 0.0, 0.0, 0.01, 0.5, 1.27, 1.27])


def test_fake_quant_gradient_is_straight_through_inside_the_range():
    """Gradcheck-style: the backward equals the derivative of the op's smooth surrogate clip(x, lo, hi), taken by
    central differences in float64 away from the range's ends."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(6, 5))
    scale, zero_point = affine_params(-1.0, 1.5)
    lo, hi = (-128 - zero_point) / scale, (127 - zero_point) / scale
    x[np.abs(x - lo) < 1e-3] += 0.01
    x[np.abs(x - hi) < 1e-3] += 0.01
    t = Tensor(x, requires_grad=True)
    upstream = rng.normal(size=x.shape)
    (FakeQuant.apply(t, scale=scale, zero_point=zero_point, qmin=-128, qmax=127) * Tensor(upstream)).sum().backward()
    eps = 1e-6
    numeric = (np.clip(x + eps, lo, hi) - np.clip(x - eps, lo, hi)) / (2 * eps) * upstream
    np.testing.assert_allclose(t.grad.data, numeric, atol=1e-6)
    assert np.any(t.grad.data == 0) and np.any(t.grad.data != 0)


def test_affine_params_make_zero_exact():
    scale, zero_point = affine_params(-0.7, 2.3)
    assert zero_point == np.round(zero_point) and (np.round(0.0 * scale) + zero_point - zero_point) / scale == 0.0
    assert (127 - zero_point) / scale >= 2.3 - 1 / scale and (-128 - zero_point) / scale <= -0.7 + 1 / scale


def test_quantize_model_trains_saves_and_converts_to_int8(tmp_path):
    sd.random.seed(0)
    model = Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), layers.MaxPooling2D(2),
                        layers.Flatten(), layers.Dense(3)])
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 8, 8, 1), dtype=np.float32), rng.random((32, 3), dtype=np.float32)
    qat = c.quantize_model(model)
    assert [type(layer).__name__ for layer in qat.layers] == ["QuantizeWrapper", "MaxPooling2D", "Flatten",
                                                             "QuantizeWrapper"]
    qat.compile("adam", "mse")
    losses = qat.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    out = qat.predict(x, verbose=0)
    scale, _ = affine_params(qat.layers[-1].output_min.data, qat.layers[-1].output_max.data)
    steps = out * scale  # outputs sit on the 8-bit grid of the learned range: whole numbers of steps
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
    assert len(np.unique(np.round(steps))) > 10
    qat.save(tmp_path / "qat.shendu")
    np.testing.assert_array_equal(sd.keras.models.load_model(tmp_path / "qat.shendu").predict(x, verbose=0), out)
    plain = c.strip_quantization(qat)
    kernel = plain.layers[-1].kernel.data.copy()
    plain.quantize("int8")
    np.testing.assert_allclose(plain.layers[-1].kernel.data, c.qat.fake_quant_per_channel(Tensor(kernel)).data,
                               rtol=1e-6)
