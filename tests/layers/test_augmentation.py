"""Augmentation layers: identity outside training, the documented geometry in training (rotation by a quarter
turn is np.rot90, translation shifts by whole pixels, zoom scales about the centre, each fill mode), one draw
per image, seeds, gradients through the resampling, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.augmentation import RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom

from .harness import check_layer

SCOPE = {c.__name__: c for c in (RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom)}
LAYERS = [
    (RandomFlip, {}),
    (RandomRotation, {"factor": 0.2}),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.1, 0.3)}),
    (RandomZoom, {"height_factor": (-0.3, 0.2), "width_factor": 0.1}),
    (RandomContrast, {"factor": 0.5}),
]


def images(n: int = 2, h: int = 5, w: int = 5, c: int = 2) -> np.ndarray:
    return np.arange(n * h * w * c, dtype=np.float32).reshape(n, h, w, c)


@pytest.mark.parametrize("cls, kwargs", LAYERS)
def test_harness_in_inference(cls, kwargs):
    with layers.custom_object_scope(SCOPE):
        check_layer(cls, kwargs, input_shape=(2, 4, 5, 3), expected_output_shape=(2, 4, 5, 3))


@pytest.mark.parametrize("cls, kwargs", LAYERS)
def test_identity_outside_training_and_a_change_in_training(cls, kwargs):
    x = images(4)
    layer = cls(**kwargs, seed=3)
    for training in (None, False):
        out = layer(x, training=training)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.numpy(), x)
    out = layer(x, training=True)
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.allclose(out.numpy(), x)


@pytest.mark.parametrize("cls, kwargs", LAYERS)
def test_integer_images_come_out_float(cls, kwargs):
    x = images(2).astype(np.uint8)
    for training in (False, True):
        assert cls(**kwargs)(x, training=training).dtype == np.float32


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise(interpolation):
    x = images(3, 5, 5, 2)
    ccw = RandomRotation((0.25, 0.25), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(ccw, np.rot90(x, 1, axes=(1, 2)), atol=1e-4)
    cw = RandomRotation((-0.25, -0.25), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(cw, np.rot90(x, -1, axes=(1, 2)), atol=1e-4)
    half = RandomRotation((0.5, 0.5), interpolation=interpolation)(x[:, :4, :], training=True).numpy()
    np.testing.assert_allclose(half, x[:, :4, :][:, ::-1, ::-1], atol=1e-4)  # rectangular image, half turn


def test_rotation_draws_one_angle_per_image_within_the_factor():
    x = np.repeat(images(1, 9, 9, 1), 16, axis=0)
    out = RandomRotation(0.5, seed=0)(x, training=True).numpy()
    assert len({out[i].tobytes() for i in range(16)}) == 16
    small = RandomRotation((0.0, 1e-6), fill_mode="constant")(x, training=True).numpy()
    np.testing.assert_allclose(small, x, atol=1e-2)


@pytest.mark.parametrize("fill_mode, expected", [
    ("reflect", [1, 0, 0, 1, 2]),
    ("wrap", [3, 4, 0, 1, 2]),
    ("nearest", [0, 0, 0, 1, 2]),
    ("constant", [-1, -1, 0, 1, 2]),
])
def test_translation_right_by_two_pixels_in_each_fill_mode(fill_mode, expected):
    row = np.arange(5, dtype=np.float32).reshape(1, 1, 5, 1)
    layer = RandomTranslation(0.0, (0.4, 0.4), fill_mode=fill_mode, fill_value=-1.0, interpolation="nearest")
    np.testing.assert_array_equal(layer(row, training=True).numpy().ravel(), expected)
    bilinear = RandomTranslation(0.0, (0.4, 0.4), fill_mode=fill_mode, fill_value=-1.0)
    np.testing.assert_allclose(bilinear(row, training=True).numpy().ravel(), expected, atol=1e-6)


def test_translation_down_by_a_fraction_of_the_height_and_bilinear_half_pixels():
    x = images(1, 4, 3, 1)
    down = RandomTranslation((0.25, 0.25), 0.0, fill_mode="constant", interpolation="nearest")(x, training=True)
    np.testing.assert_array_equal(down.numpy()[0, 1:], x[0, :3])
    np.testing.assert_array_equal(down.numpy()[0, 0], 0)
    row = np.array([0.0, 2.0, 4.0, 6.0], np.float32).reshape(1, 1, 4, 1)
    half = RandomTranslation(0.0, (0.125, 0.125), fill_mode="nearest")(row, training=True)  # half a pixel right
    np.testing.assert_allclose(half.numpy().ravel(), [0.0, 1.0, 3.0, 5.0], atol=1e-6)


def test_zoom_out_and_in_about_the_centre():
    x = images(1, 5, 5, 1)
    out = RandomZoom((1.0, 1.0), fill_mode="constant", interpolation="nearest")(x, training=True).numpy()[0, ..., 0]
    # zoom out by 2: output pixel j samples input 2 j - 2 (the centre 2 stays); outside is the fill value 0
    want = np.zeros((5, 5), np.float32)
    want[1:4, 1:4] = x[0, 0:5:2, 0:5:2, 0]
    np.testing.assert_array_equal(out, want)
    inside = RandomZoom((-0.5, -0.5), interpolation="nearest")(x[:, :4, :4], training=True).numpy()[0, ..., 0]
    idx = [1, 1, 2, 2]  # zoom in by 2 on 4 pixels: input 0.5 j + 0.75, rounded
    np.testing.assert_array_equal(inside, x[0, :4, :4, 0][np.ix_(idx, idx)])


def test_zoom_width_factor_zooms_the_axes_independently():
    x = images(1, 5, 5, 1)
    out = RandomZoom((0.0, 0.0), (1.0, 1.0), fill_mode="constant", interpolation="nearest")(x, training=True)
    want = np.zeros((5, 5), np.float32)
    want[:, 1:4] = x[0, :, 0:5:2, 0]
    np.testing.assert_array_equal(out.numpy()[0, ..., 0], want)


def test_flip_modes_flip_whole_images_independently():
    x = np.repeat(images(1, 3, 4, 2), 32, axis=0)
    h = RandomFlip("horizontal", seed=1)(x, training=True).numpy()
    is_flipped = [bool((h[i] == x[0, :, ::-1]).all()) for i in range(32)]
    assert all(f or (h[i] == x[0]).all() for i, f in enumerate(is_flipped)) and 0 < sum(is_flipped) < 32
    v = RandomFlip("vertical", seed=1)(x, training=True).numpy()
    assert all((v[i] == x[0]).all() or (v[i] == x[0, ::-1]).all() for i in range(32))
    both = RandomFlip(seed=1)(x, training=True).numpy()
    kinds = {next(k for k, ref in enumerate([x[0], x[0, :, ::-1], x[0, ::-1], x[0, ::-1, ::-1]])
                  if (both[i] == ref).all()) for i in range(32)}
    assert kinds == {0, 1, 2, 3}


def test_contrast_scales_about_each_image_and_channel_mean_and_clips():
    x = np.random.default_rng(0).uniform(50, 200, (8, 4, 4, 3)).astype(np.float32)
    out = RandomContrast((0.5, 0.5), seed=0)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    ratio = (out - mean) / (x - mean)
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1, :1, :1], ratio.shape), rtol=1e-3)
    assert np.all((ratio[:, 0, 0, 0] >= 0.5) & (ratio[:, 0, 0, 0] <= 1.5)) and np.ptp(ratio[:, 0, 0, 0]) > 0
    np.testing.assert_allclose(out.mean(axis=(1, 2)), mean[:, 0, 0], rtol=1e-5)
    clipped = RandomContrast((0.0, 1.0), value_range=(0, 1), seed=0)(x / 255, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_seed_makes_draws_repeatable_and_shendu_random_seed_drives_unseeded_layers():
    x = images(4)
    a = RandomRotation(0.3, seed=7)(x, training=True).numpy()
    b = RandomRotation(0.3, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    sd.random.seed(11)
    c = RandomZoom(0.3)(x, training=True).numpy()
    sd.random.seed(11)
    d = RandomZoom(0.3)(x, training=True).numpy()
    np.testing.assert_array_equal(c, d)


def test_unbatched_and_channels_first_images():
    x = images(1, 5, 5, 2)
    quarter = RandomRotation((0.25, 0.25))
    np.testing.assert_allclose(quarter(x[0], training=True).numpy(), np.rot90(x[0], 1), atol=1e-4)
    first = RandomRotation((0.25, 0.25), data_format="channels_first")
    x_cf = x.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(first(x_cf, training=True).numpy(), np.rot90(x_cf, 1, axes=(2, 3)), atol=1e-4)


@pytest.mark.parametrize("cls, kwargs", [
    (RandomRotation, {"factor": 0.1}),
    (RandomRotation, {"factor": 0.1, "interpolation": "nearest", "fill_mode": "wrap"}),
    (RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3, "fill_mode": "constant", "fill_value": 0.5}),
    (RandomZoom, {"height_factor": 0.4, "fill_mode": "nearest"}),
    (RandomFlip, {}),
    (RandomContrast, {"factor": 0.4, "value_range": (-100, 100)}),
])
def test_training_transform_gradcheck(cls, kwargs):
    """The resampling is linear in the pixels for a fixed draw: its backward scatters the weights back."""
    layer = cls(**kwargs, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 2))

    def f(t):
        layer._rng = np.random.default_rng(5)  # the same draw on every evaluation
        return layer(t, training=True)

    assert sd.gradcheck(f, [x])


def test_config_round_trip_keeps_factors_and_modes():
    layer = RandomZoom((-0.2, 0.3), width_factor=None, fill_mode="wrap", interpolation="nearest", seed=4)
    config = layer.get_config()
    assert config["height_factor"] == [-0.2, 0.3] and config["width_factor"] is None
    assert config["fill_mode"] == "wrap" and config["interpolation"] == "nearest" and config["seed"] == 4
    assert RandomZoom.from_config(config).get_config() == config
    assert RandomRotation(0.1).get_config()["fill_mode"] == "reflect"  # Keras's defaults
    assert RandomRotation(0.1).get_config()["interpolation"] == "bilinear"
    assert RandomFlip().mode == "horizontal_and_vertical"
    assert RandomContrast(0.2).value_range == (0, 255)


def test_errors_name_the_layer_and_the_bad_value():
    with pytest.raises(ValueError, match=r"rot.*factor.*\[-1.0, 1.0\]"):
        RandomRotation(1.5, name="rot")
    with pytest.raises(ValueError, match="fill_mode"):
        RandomZoom(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        RandomTranslation(0.1, 0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="factor"):
        RandomContrast(1.5)
    with pytest.raises(ValueError, match=r"flip.*rank 4.*\(2, 3\)"):
        RandomFlip(name="flip")(np.zeros((2, 3), np.float32), training=True)
