"""Rescaling, Normalization (adapt from arrays, batches and Datasets), Resizing and CenterCrop."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing

from .harness import call_with_weights, check_layer

SCOPE = {c.__name__: c for c in (CenterCrop, Normalization, Rescaling, Resizing)}


def harness(cls, kwargs, **options):
    with layers.custom_object_scope(SCOPE):
        return check_layer(cls, kwargs, **options)


@pytest.mark.parametrize("cls, kwargs, shape, out_shape", [
    (Rescaling, {"scale": 1 / 255}, (3, 4), (3, 4)),
    (Rescaling, {"scale": [0.5, 2.0, 1.0], "offset": -1.0}, (2, 4, 3), (2, 4, 3)),
    (Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25]}, (4, 3), (4, 3)),
    (Normalization, {"axis": None, "mean": 2.0, "variance": 9.0, "invert": True}, (4, 3), (4, 3)),
    (Resizing, {"height": 6, "width": 3}, (2, 4, 5, 2), (2, 6, 3, 2)),
    (Resizing, {"height": 3, "width": 3, "crop_to_aspect_ratio": True, "interpolation": "nearest"}, (2, 4, 6, 1),
     (2, 3, 3, 1)),
    (CenterCrop, {"height": 2, "width": 3}, (2, 4, 5, 2), (2, 2, 3, 2)),
])
def test_harness(cls, kwargs, shape, out_shape):
    harness(cls, kwargs, input_shape=shape, expected_output_shape=out_shape)


def test_rescaling_maps_pixels_and_casts_integers():
    out = Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255, 127]], np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [[-1.0, 1.0, 127 / 127.5 - 1]], atol=1e-6)


def test_normalization_adapt_matches_numpy_mean_and_variance():
    data = np.random.default_rng(0).normal(3.0, 2.0, (200, 4)).astype(np.float32)
    layer = Normalization()
    layer.adapt(data)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-5)
    assert int(layer.count.numpy()) == 200
    out = layer(data).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)


def test_normalization_adapt_from_batches_and_a_dataset_equals_the_whole_array():
    rng = np.random.default_rng(1)
    data = rng.normal(-1.0, 5.0, (130, 3, 2))
    whole = Normalization(axis=(1, 2))
    whole.adapt(data)
    batches = Normalization(axis=(1, 2))
    batches.adapt(iter([data[:50], data[50:51], data[51:]]))
    ds = Normalization(axis=(1, 2))
    ds.adapt(Dataset.from_tensor_slices((data, np.zeros(130))).batch(32))
    for layer in (batches, ds):
        np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-5)
        np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-5)
        np.testing.assert_allclose(layer.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-6)


def test_normalization_keras_doc_examples():
    adapt_data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], np.float32)
    layer = Normalization(axis=-1)
    layer.adapt(adapt_data)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]], np.float32)).numpy(), [[-1.0, -1.0, -1.0]])
    given = Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(given(np.array([[1.0], [2.0], [3.0]], np.float32)).numpy().ravel(),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    inverse = Normalization(axis=-1, invert=True)
    inverse.adapt(adapt_data)
    np.testing.assert_allclose(inverse(np.array([[1.0, 2.0, 3.0]], np.float32)).numpy(), [[2.0, 10.0, 8.0]])


def test_normalization_axis_none_is_one_scalar_and_zero_variance_is_safe():
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = Normalization(axis=None)
    layer.adapt(data)
    assert layer.adapt_mean.shape == ()
    np.testing.assert_allclose(layer(data).numpy(), (data - data.mean()) / data.std(), rtol=1e-5)
    constant = Normalization()
    constant.adapt(np.ones((5, 2), np.float32))
    assert np.isfinite(constant(np.ones((1, 2), np.float32)).numpy()).all()


def test_normalization_adapted_weights_round_trip_and_gradcheck():
    layer = Normalization(dtype="float64")
    layer.adapt(np.random.default_rng(2).normal(size=(10, 3)))
    clone = Normalization.from_config(json.loads(json.dumps(layer.get_config())))
    clone.build((None, 3))
    clone.set_weights(layer.get_weights())
    x = np.random.default_rng(3).normal(size=(4, 3))
    np.testing.assert_allclose(clone(sd.Tensor(x)).numpy(), layer(sd.Tensor(x)).numpy())
    assert sd.gradcheck(lambda t: call_with_weights(layer, t, []), [x])


def test_normalization_errors():
    with pytest.raises(ValueError, match="both mean and variance"):
        Normalization(mean=1.0)
    layer = Normalization(name="norm")
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"norm.*\(4, 3\).*\(4, 5\)"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="norm"):
        layer(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="adapt cannot change"):
        Normalization(mean=0.0, variance=1.0).adapt(np.zeros((3, 1)))


def test_resizing_matches_torch_bilinear_half_pixel_and_nearest_repeats(torch):
    x = np.random.default_rng(4).normal(size=(2, 5, 7, 3)).astype(np.float32)
    for size in [(9, 4), (3, 11), (5, 7)]:
        ours = Resizing(*size)(x).numpy()
        theirs = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2), size=size, mode="bilinear",
                                                 align_corners=False).permute(0, 2, 3, 1).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    up = Resizing(10, 14, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(up, x.repeat(2, axis=1).repeat(2, axis=2))


def test_resizing_crop_and_pad_to_aspect_ratio():
    x = np.arange(4 * 8, dtype=np.float32).reshape(1, 4, 8, 1)
    crop = Resizing(4, 4, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_array_equal(crop, x[:, :, 2:6])
    pad = Resizing(8, 8, pad_to_aspect_ratio=True, fill_value=-1.0, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(pad[0, 2:6, :, 0], x[0, :, :, 0])
    assert (pad[0, :2] == -1).all() and (pad[0, 6:] == -1).all()


def test_center_crop_cuts_the_middle_and_resizes_smaller_images():
    x = np.arange(6 * 7, dtype=np.float32).reshape(1, 6, 7, 1)
    np.testing.assert_array_equal(CenterCrop(2, 3)(x).numpy(), x[:, 2:4, 2:5])
    assert CenterCrop(8, 8)(x).shape == (1, 8, 8, 1)
    np.testing.assert_array_equal(CenterCrop(2, 3)(x, training=True).numpy(), x[:, 2:4, 2:5])


def test_resizing_errors():
    with pytest.raises(ValueError, match="height"):
        Resizing(0, 4)
    with pytest.raises(ValueError, match="exclude"):
        Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
