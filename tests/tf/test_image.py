"""tf.image: values against NumPy, PyTorch and TensorFlow's documented examples; gradients through the float ops."""

import numpy as np
import pytest

import shendu as tf
from shendu import gradcheck

rng = np.random.default_rng(1)


def img(*shape):
    return tf.constant(rng.random(shape))


def test_resize_bilinear_against_torch(torch):
    x = rng.random((2, 5, 7, 3)).astype(np.float32)
    tx = torch.tensor(x).permute(0, 3, 1, 2)
    for size in [(10, 14), (3, 4), (5, 9)]:
        ours = tf.image.resize(x, size)
        ref = torch.nn.functional.interpolate(tx, size=size, mode="bilinear", align_corners=False)
        np.testing.assert_allclose(ours.numpy(), ref.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-6)
    assert tf.image.resize(x[0], (4, 4)).shape == (4, 4, 3)  # one image stays one image
    assert gradcheck(lambda t: (tf.image.resize(t, (3, 5)) ** 2).sum(), [img(1, 4, 3, 2)])


def test_resize_nearest_against_torch_and_dtypes(torch):
    x = rng.integers(0, 255, (1, 5, 7, 2)).astype(np.uint8)
    for size in [(10, 3), (2, 7), (8, 11)]:
        ours = tf.image.resize(x, size, method="nearest")
        ref = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2).float(), size=size,
                                              mode="nearest-exact")  # floor((o + 0.5) in / out), TF2's rule
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(ours.numpy(), ref.permute(0, 2, 3, 1).numpy().astype(np.uint8))
    assert tf.image.resize(x, (3, 3)).dtype == np.float32  # bilinear turns integers into float32
    assert tf.image.resize(x, (3, 3), method=tf.image.ResizeMethod.NEAREST_NEIGHBOR).shape == (1, 3, 3, 2)


def test_resize_options_and_errors():
    x = img(20, 10, 3)
    assert tf.image.resize(x, (8, 8), preserve_aspect_ratio=True).shape == (8, 4, 3)
    assert tf.image.resize(x, (100, 100), preserve_aspect_ratio=True).shape == (100, 50, 3)
    assert tf.image.resize(x, (40, 20), antialias=True).shape == (40, 20, 3)  # no effect when enlarging
    with pytest.raises(NotImplementedError, match=r"antialias=True when shrinking"):
        tf.image.resize(x, (5, 5), antialias=True)
    with pytest.raises(NotImplementedError, match=r"method 'bicubic' is not supported"):
        tf.image.resize(x, (5, 5), method="bicubic")
    with pytest.raises(ValueError, match=r"tf\.image\.resize: size must be two positive ints"):
        tf.image.resize(x, (5,))
    with pytest.raises(ValueError, match=r"must be 3-D .* or 4-D"):
        tf.image.resize(np.zeros((4, 4)), (2, 2))


def test_flips_transpose_and_rot90():
    x = img(2, 3, 4, 2)
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x.numpy()[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x[0]).numpy(), x.numpy()[0, ::-1])
    np.testing.assert_array_equal(tf.image.transpose(x).numpy(), x.numpy().transpose(0, 2, 1, 3))
    for k in range(-1, 5):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(), np.rot90(x.numpy(), k, axes=(1, 2)))
    w = img(2, 4, 3, 2)
    assert gradcheck(lambda t: (tf.image.rot90(tf.image.flip_left_right(t)) * w).sum(), [x])


def test_random_flips_are_per_image_and_seeded():
    x = np.arange(2 * 3).reshape(1, 2, 3, 1).repeat(200, axis=0)
    tf.random.set_seed(5)
    y = tf.image.random_flip_left_right(x, seed=1).numpy()
    flipped = np.array([np.array_equal(a, x[0, :, ::-1]) for a in y])
    kept = np.array([np.array_equal(a, x[0]) for a in y])
    assert (flipped | kept).all() and 70 < flipped.sum() < 130
    tf.random.set_seed(5)
    np.testing.assert_array_equal(tf.image.random_flip_left_right(x, seed=1).numpy(), y)
    one = tf.image.random_flip_up_down(x[0]).numpy()
    assert np.array_equal(one, x[0]) or np.array_equal(one, x[0, ::-1])


def test_convert_image_dtype():
    u8 = np.array([[[0, 128, 255]]], dtype=np.uint8)
    f = tf.image.convert_image_dtype(u8, tf.float32)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.numpy(), u8 / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(tf.image.convert_image_dtype(f, tf.uint8).numpy(), u8)
    np.testing.assert_array_equal(tf.image.convert_image_dtype([[[0.5]]], tf.uint8).numpy(), [[[127]]])
    np.testing.assert_array_equal(tf.image.convert_image_dtype([[[1.5, -0.5]]], tf.uint8, saturate=True).numpy(),
                                  [[[255, 0]]])
    np.testing.assert_array_equal(tf.image.convert_image_dtype(u8, tf.int16).numpy(), u8.astype(np.int16) * 128)
    np.testing.assert_array_equal(tf.image.convert_image_dtype(np.array([32767], np.int16), tf.uint8).numpy(), [255])
    assert tf.image.convert_image_dtype(f, tf.float64).dtype == np.float64
    with pytest.raises(ValueError, match="convert_image_dtype"):
        tf.image.convert_image_dtype(np.array([True]), tf.float32)


def test_colour_conversions():
    rgb = img(2, 3, 3)
    grey = tf.image.rgb_to_grayscale(rgb)
    assert grey.shape == (2, 3, 1)
    np.testing.assert_allclose(grey.numpy()[..., 0], rgb.numpy() @ [0.2989, 0.5870, 0.1140])
    u8 = tf.image.rgb_to_grayscale(np.full((1, 1, 3), 200, np.uint8))
    assert u8.dtype == np.uint8 and u8.numpy().item() in (199, 200)
    back = tf.image.grayscale_to_rgb(grey)
    assert back.shape == (2, 3, 3) and np.array_equal(back.numpy()[..., 2], grey.numpy()[..., 0])
    assert gradcheck(lambda t: (tf.image.rgb_to_grayscale(t) ** 2).sum(), [rgb])
    with pytest.raises(ValueError, match=r"3 \(RGB\) channels"):
        tf.image.rgb_to_grayscale(img(2, 2, 4))


def test_crops_and_pads():
    x = np.arange(4 * 8).reshape(4, 8, 1).astype(np.float64)
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[1:3, 2:6])
    np.testing.assert_array_equal(tf.image.central_crop(x[None], 0.3).numpy(), x[None, 1:3, 2:6])
    with pytest.raises(ValueError, match=r"central_fraction must be within \(0, 1\]"):
        tf.image.central_crop(x, 0.0)
    padded = tf.image.pad_to_bounding_box(x, 1, 2, 6, 12)
    assert padded.shape == (6, 12, 1) and padded.numpy().sum() == x.sum()
    np.testing.assert_array_equal(padded.numpy()[1:5, 2:10], x)
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(x, 1, 3, 2, 4).numpy(), x[1:3, 3:7])
    with pytest.raises(ValueError, match=r"does not fit"):
        tf.image.crop_to_bounding_box(x, 3, 0, 2, 2)
    with pytest.raises(ValueError, match=r"does not fit"):
        tf.image.pad_to_bounding_box(x, 0, 0, 3, 8)
    np.testing.assert_array_equal(tf.image.resize_with_crop_or_pad(x, 2, 10).numpy()[:, 1:9], x[1:3])
    assert gradcheck(lambda t: (tf.image.pad_to_bounding_box(tf.image.central_crop(t, 0.5), 1, 1, 4, 6) ** 2).sum(),
                     [img(4, 8, 1)])


def test_resize_with_pad():
    x = img(1, 4, 8, 2)
    y = tf.image.resize_with_pad(x, 8, 8)  # scaled to 4 x 8, then 2 rows of zeros above and below
    assert y.shape == (1, 8, 8, 2)
    np.testing.assert_array_equal(y.numpy()[:, :2], 0)
    np.testing.assert_array_equal(y.numpy()[:, 6:], 0)
    np.testing.assert_allclose(y.numpy()[:, 2:6], x.numpy(), rtol=1e-12)


def test_random_crop():
    x = np.arange(6 * 5).reshape(6, 5)
    c = tf.image.random_crop(x, [3, 2]).numpy()
    r, k = np.argwhere(x == c[0, 0])[0]
    np.testing.assert_array_equal(c, x[r:r + 3, k:k + 2])
    with pytest.raises(ValueError, match="random_crop"):
        tf.image.random_crop(x, [7, 2])


def test_brightness_and_contrast():
    x = img(2, 3, 2)
    np.testing.assert_allclose(tf.image.adjust_brightness(x, 0.1).numpy(), x.numpy() + 0.1)
    np.testing.assert_array_equal(tf.image.adjust_brightness(np.array([[[250]]], np.uint8), 0.1).numpy(), [[[255]]])
    d = tf.image.random_brightness(x, 0.2).numpy() - x.numpy()
    assert np.allclose(d, d.flat[0]) and abs(d.flat[0]) <= 0.2
    mean = x.numpy().mean(axis=(0, 1))
    np.testing.assert_allclose(tf.image.adjust_contrast(x, 2.0).numpy(), (x.numpy() - mean) * 2 + mean)
    assert tf.image.random_contrast(x, 0.5, 1.5).shape == (2, 3, 2)
    with pytest.raises(ValueError, match=r"lower < upper"):
        tf.image.random_contrast(x, 1.0, 0.5)
    assert gradcheck(lambda t: (tf.image.adjust_contrast(t, 1.7) ** 2).sum(), [x])


def test_brightness_and_contrast_factors_take_gradients():
    """A Variable as the delta or the contrast factor gets its gradient (a float would silently drop it): the
    autodiff guide's `adjust_contrast(image, delta)`."""
    x = tf.Variable(np.random.default_rng(2).random((2, 3, 2)), dtype=tf.float64)
    for op in (tf.image.adjust_brightness, tf.image.adjust_contrast):
        factor = tf.Variable(np.float64(1.7))
        assert gradcheck(lambda t, c, op=op: (op(t, c) ** 2).sum(), [x, factor])
    delta = tf.Variable(0.1)
    with tf.GradientTape() as tape:
        y = tf.image.adjust_brightness(tf.constant(np.zeros((1, 2, 3), np.float32)), delta)
    assert float(tape.gradient(y, delta)) == 6.0


def test_per_image_standardization():
    image = tf.constant(np.arange(1, 13, dtype=np.int32).reshape(2, 2, 3))
    out = tf.image.per_image_standardization(image)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy().ravel(), [-1.593255, -1.3035723, -1.0138896, -0.7242068, -0.4345241,
                                                     -0.14484136, 0.14484136, 0.4345241, 0.7242068, 1.0138896,
                                                     1.3035723, 1.593255], rtol=1e-6)  # TensorFlow's example
    flat = tf.image.per_image_standardization(np.full((1, 2, 2, 1), 3.0))
    np.testing.assert_array_equal(flat.numpy(), 0.0)
    assert gradcheck(lambda t: (tf.image.per_image_standardization(t) * t).sum(), [img(2, 3, 3, 2)])
