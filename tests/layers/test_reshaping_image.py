"""UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D: the common harness, Keras's argument forms, values."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import layers
from shendu.layers.reshaping_image import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

from .harness import check_layer, random_inputs


def check(cls, kwargs, input_shape, expected):
    with layers.custom_object_scope({cls.__name__: cls}):
        return check_layer(cls, kwargs, input_shape=input_shape, expected_output_shape=expected)


@pytest.mark.parametrize(("cls", "kwargs", "shape", "expected"), [
    (UpSampling2D, {}, (2, 3, 4, 2), (2, 6, 8, 2)),
    (UpSampling2D, {"size": (1, 3), "interpolation": "bilinear"}, (2, 3, 4, 2), (2, 3, 12, 2)),
    (UpSampling1D, {"size": 3}, (2, 3, 2), (2, 9, 2)),
    (ZeroPadding2D, {}, (2, 3, 4, 2), (2, 5, 6, 2)),
    (ZeroPadding2D, {"padding": (1, 2)}, (2, 3, 4, 2), (2, 5, 8, 2)),
    (ZeroPadding2D, {"padding": ((0, 1), (2, 3))}, (2, 3, 4, 2), (2, 4, 9, 2)),
    (ZeroPadding1D, {"padding": (2, 1)}, (2, 3, 2), (2, 6, 2)),
    (Cropping2D, {"cropping": ((1, 0), (1, 2))}, (2, 4, 5, 2), (2, 3, 2, 2)),
    (Cropping2D, {"cropping": 1}, (2, 4, 5, 2), (2, 2, 3, 2)),
    (Cropping1D, {}, (2, 5, 2), (2, 3, 2)),
])
def test_harness(cls, kwargs, shape, expected):
    check(cls, kwargs, shape, expected)


def test_values_follow_keras():
    x = random_inputs((1, 2, 3, 1))
    np.testing.assert_array_equal(UpSampling2D((2, 1))(x).numpy()[0, :, :, 0], np.repeat(x[0, :, :, 0], 2, axis=0))
    padded = ZeroPadding2D(((1, 0), (0, 2)))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(padded, np.pad(x[0, :, :, 0], ((1, 0), (0, 2))))
    np.testing.assert_array_equal(Cropping2D(((0, 1), (1, 1)))(x).numpy(), x[:, :1, 1:2])
    seq = random_inputs((1, 3, 2))
    np.testing.assert_array_equal(UpSampling1D(2)(seq).numpy(), np.repeat(seq, 2, axis=1))


def test_bilinear_keeps_constant_images_constant():
    x = np.full((1, 3, 3, 2), 1.5, np.float32)
    np.testing.assert_allclose(UpSampling2D(3, interpolation="bilinear")(x).numpy(), 1.5, rtol=1e-6)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Cropping2D 'crop'.*removes everything.*\(None, 2, 5, 1\)"):
        Cropping2D(1, name="crop")(random_inputs((1, 2, 5, 1)))
    with pytest.raises(ValueError, match="interpolation must be"):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"ZeroPadding2D '.*'.*padding must be"):
        ZeroPadding2D(((1, 2), (3, 4), (5, 6)))
    with pytest.raises(ValueError, match=r"UpSampling2D '.*'.*rank 4"):
        UpSampling2D()(random_inputs((2, 3, 4)))
