"""keras.preprocessing.image: the affine transforms on small arrays (values worked out by hand), ImageDataGenerator's
random parameters and normalization, flow / flow_from_directory batches and labels, model.fit on them, and the
image file helpers (Pillow)."""

import sys

import numpy as np
import pytest

import shendu as sd
from shendu.keras import layers
from shendu.keras.preprocessing import image as kimage
from shendu.keras.preprocessing.image import ImageDataGenerator, apply_affine_transform

GRID = np.arange(12, dtype=np.float32).reshape(3, 4, 1)  # rows 0-3, 4-7, 8-11


def plane(x):
    return x[..., 0].tolist()


# --- the transforms ---------------------------------------------------------------------------------------------------
def test_flips_reverse_columns_and_rows():
    gen = ImageDataGenerator()
    assert plane(gen.apply_transform(GRID, {"flip_horizontal": True})) == [[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]
    assert plane(gen.apply_transform(GRID, {"flip_vertical": True})) == [[8, 9, 10, 11], [4, 5, 6, 7], [0, 1, 2, 3]]
    assert gen.apply_transform(GRID, {}).tolist() == GRID.tolist()


@pytest.mark.parametrize(("params", "fill", "expected"), [
    ({"tx": 1}, "constant", [[1, 2, 3, -1], [5, 6, 7, -1], [9, 10, 11, -1]]),  # content moves left one column
    ({"tx": -2}, "constant", [[-1, -1, 0, 1], [-1, -1, 4, 5], [-1, -1, 8, 9]]),
    ({"ty": 1}, "nearest", [[4, 5, 6, 7], [8, 9, 10, 11], [8, 9, 10, 11]]),  # content moves up, last row repeated
    ({"tx": 2}, "reflect", [[2, 3, 3, 2], [6, 7, 7, 6], [10, 11, 11, 10]]),  # dcba|abcd|dcba
    ({"tx": 2}, "wrap", [[2, 3, 0, 1], [6, 7, 4, 5], [10, 11, 8, 9]]),  # abcd|abcd
    ({"ty": -1, "tx": 1}, "constant", [[-1, -1, -1, -1], [1, 2, 3, -1], [5, 6, 7, -1]]),
])
def test_whole_pixel_shifts_with_each_fill_mode(params, fill, expected):
    gen = ImageDataGenerator(fill_mode=fill, cval=-1)
    assert plane(gen.apply_transform(GRID, params)) == expected


def test_half_pixel_shift_is_bilinear_and_nearest_with_order_zero():
    row = np.array([[0, 10, 20, 30]], np.float32)[..., None]
    assert plane(apply_affine_transform(row, tx=0.5, fill_mode="nearest")) == [[5, 15, 25, 30]]
    assert plane(apply_affine_transform(row, tx=0.25, order=0)) == [[0, 10, 20, 30]]
    assert plane(apply_affine_transform(row, tx=0.75, order=0)) == [[10, 20, 30, 30]]


@pytest.mark.parametrize("order", [0, 1])
def test_rotation_by_90_degrees_is_exact_and_counter_clockwise(order):
    square = np.arange(18, dtype=np.float32).reshape(3, 3, 2)
    out = apply_affine_transform(square, theta=90, order=order)
    np.testing.assert_array_equal(out, np.rot90(square, 1, axes=(0, 1)))
    np.testing.assert_array_equal(apply_affine_transform(square, theta=-90, order=order), np.rot90(square, -1))
    np.testing.assert_array_equal(apply_affine_transform(square, theta=180, order=order), square[::-1, ::-1])
    first = square.transpose(2, 0, 1)
    rotated = ImageDataGenerator(data_format="channels_first", interpolation_order=order).apply_transform(
        first, {"theta": 90})
    np.testing.assert_array_equal(rotated, np.rot90(first, 1, axes=(1, 2)))


def test_zoom_in_by_two_samples_the_centre():
    four = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    # centre 1.5: output column c reads input column 1.5 + 0.5 * (c - 1.5) = 0.75, 1.25, 1.75, 2.25
    out = apply_affine_transform(four, zx=0.5, zy=0.5, order=0)
    assert plane(out) == [[5, 5, 6, 6], [5, 5, 6, 6], [9, 9, 10, 10], [9, 9, 10, 10]]
    assert plane(apply_affine_transform(four, zx=0.5, zy=1, order=1))[0] == [0.75, 1.25, 1.75, 2.25]


def test_shear_moves_rows_sideways_in_proportion_to_their_distance_from_the_centre():
    four = np.tile(np.arange(4, dtype=np.float32), (3, 1))[..., None]
    out = apply_affine_transform(four, shear=30, fill_mode="nearest")  # x_in = x - sin(30) (y - 1): row 0 reads x + 0.5
    assert plane(out)[1] == [0, 1, 2, 3]
    np.testing.assert_allclose(plane(out)[0], [0.5, 1.5, 2.5, 3])
    np.testing.assert_allclose(plane(out)[2], [0, 0.5, 1.5, 2.5])


def test_channel_and_brightness_shifts():
    x = np.array([[[10, 20], [30, 40]]], np.float32)
    gen = ImageDataGenerator()
    assert gen.apply_transform(x, {"channel_shift_intensity": 15}).tolist() == [[[25, 35], [40, 40]]]
    assert gen.apply_transform(x, {"brightness": 2.0}).tolist() == [[[20, 40], [60, 80]]]
    assert gen.apply_transform(np.full((1, 1, 1), 200, np.float32), {"brightness": 2.0}).tolist() == [[[255]]]


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="zoom_range should be a float or a tuple or list of two floats"):
        ImageDataGenerator(zoom_range=(0.5, 1, 2))
    with pytest.raises(ValueError, match="validation_split must be strictly between 0 and 1"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or 'channels_first'"):
        ImageDataGenerator(data_format="NHWC")
    with pytest.raises(ValueError, match="expected one 3-D image"):
        apply_affine_transform(np.zeros((2, 2)), theta=10)


# --- random parameters and normalization ------------------------------------------------------------------------------
def test_random_parameters_stay_in_their_ranges_and_follow_the_seed():
    shape = (10, 8, 3)
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.25, height_shift_range=0.5, zoom_range=0.2,
                             shear_range=5, horizontal_flip=True)
    draws = [gen.get_random_transform(shape, seed=s) for s in range(200)]
    assert all(abs(p["theta"]) <= 30 and abs(p["tx"]) <= 2 and abs(p["ty"]) <= 5 for p in draws)
    assert all(0.8 <= p["zx"] <= 1.2 and 0.8 <= p["zy"] <= 1.2 and abs(p["shear"]) <= 5 for p in draws)
    assert {p["flip_horizontal"] for p in draws} == {True, False} and not any(p["flip_vertical"] for p in draws)
    assert gen.get_random_transform(shape, seed=3) == gen.get_random_transform(shape, seed=3)
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    np.testing.assert_array_equal(gen.random_transform(x, seed=4), gen.random_transform(x, seed=4))
    ints = ImageDataGenerator(width_shift_range=3, height_shift_range=[-2, 2])
    pairs = {(ints.get_random_transform(shape, seed=s)["tx"], ints.get_random_transform(shape, seed=s)["ty"])
             for s in range(100)}
    assert {abs(tx) for tx, _ in pairs} <= {0, 1, 2} and {abs(ty) for _, ty in pairs} == {2}


def test_standardize_rescales_then_centres_each_sample():
    gen = ImageDataGenerator(rescale=0.5, samplewise_center=True, preprocessing_function=lambda v: v + 2)
    x = np.array([[[0.0], [4.0]]], np.float32)  # +2 -> 2, 6; * 0.5 -> 1, 3; - mean 2 -> -1, 1
    assert gen.standardize(x.copy()).ravel().tolist() == [-1, 1]
    std = ImageDataGenerator(samplewise_std_normalization=True)
    np.testing.assert_allclose(std.standardize(x.copy()).ravel(), [-1, 1], atol=1e-5)


def test_featurewise_statistics_per_channel_from_fit():
    x = np.zeros((2, 1, 2, 2), np.float32)
    x[..., 0] = [[[1, 3]], [[5, 7]]]  # channel 0: mean 4, std sqrt(5)
    x[..., 1] = 10
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    with pytest.warns(UserWarning, match="has not been fit"):
        gen.standardize(x[0].copy())
    gen.fit(x)
    np.testing.assert_allclose(gen.mean.ravel(), [4, 10])
    np.testing.assert_allclose(gen.std.ravel(), [np.sqrt(5), 0])
    out = gen.standardize(x[0].copy())
    np.testing.assert_allclose(out[..., 0].ravel(), np.array([-3, -1]) / (np.sqrt(5) + 1e-6), rtol=1e-5)
    assert out[..., 1].ravel().tolist() == [0, 0]


def test_zca_whitening_makes_the_covariance_the_identity():
    x = np.random.default_rng(1).normal(size=(400, 2, 2, 1)) * [[[1]], [[3]]]
    gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9)
    gen.fit(x)
    white = np.stack([gen.standardize(s.astype(np.float32)) for s in x.astype(np.float32)]).reshape(400, -1)
    np.testing.assert_allclose(white.T @ white / 400, np.eye(4), atol=1e-3)


# --- flow -------------------------------------------------------------------------------------------------------------
def indexed_images(n=10):
    """Images whose every pixel is the sample's index, and labels equal to it."""
    return np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 3, 1), np.float32), np.arange(n)


def test_flow_yields_the_right_shapes_counts_and_labels():
    x, y = indexed_images(10)
    it = ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=4, seed=0)
    assert len(it) == 3
    batches = [it[i] for i in range(3)]
    assert [b[0].shape for b in batches] == [(4, 2, 3, 1), (4, 2, 3, 1), (2, 2, 3, 1)]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))  # shuffled, each once
    for bx, by in batches:
        assert bx[:, 0, 0, 0].tolist() == by.tolist() and bx.dtype == np.float32
    xs = ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[1]
    assert isinstance(xs, np.ndarray) and xs[:, 0, 0, 0].tolist() == [5, 6, 7, 8, 9]
    _, _, w = ImageDataGenerator().flow(x, y, sample_weight=y * 2.0, shuffle=False, batch_size=3)[0]
    assert w.tolist() == [0, 2, 4]


def test_next_runs_endlessly_and_reshuffles_after_each_pass():
    x, y = indexed_images(5)
    it = ImageDataGenerator().flow(x, y, batch_size=2, seed=3)
    firsts = [next(it)[1].tolist() for _ in range(6)]
    assert [len(b) for b in firsts] == [2, 2, 1, 2, 2, 1]
    for one_pass in (firsts[:3], firsts[3:]):
        assert sorted(np.concatenate(one_pass).tolist()) == list(range(5))
    assert it.next()[1].shape == (2,)
    seen = [b for _, (_, b) in zip(range(4), ImageDataGenerator().flow(x, y, batch_size=5))]
    assert len(seen) == 4  # for ... in it: loops until broken off, as in Keras


def test_flow_subsets_split_off_the_first_validation_fraction():
    x, y = indexed_images(10)
    y = y % 2
    gen = ImageDataGenerator(validation_split=0.2)
    val = gen.flow(x, y, subset="validation", shuffle=False, batch_size=10)[0]
    train = gen.flow(x, y, subset="training", shuffle=False, batch_size=10)[0]
    assert val[0][:, 0, 0, 0].tolist() == [0, 1] and train[0][:, 0, 0, 0].tolist() == list(range(2, 10))
    with pytest.raises(ValueError, match="different classes after the split"):
        gen.flow(x, np.sort(y), subset="training")
    with pytest.raises(ValueError, match='subset must be "training" or "validation"'):
        gen.flow(x, y, subset="test")


def test_flow_refuses_bad_shapes():
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match=r"x should have rank 4 .*shape \(3, 4\)"):
        gen.flow(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="x \\(images\\) and y \\(labels\\) should have the same length"):
        gen.flow(np.zeros((3, 2, 2, 1)), np.zeros(4))


def test_model_fit_takes_flow_one_pass_per_epoch():
    sd.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((20, 6, 6, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    model = sd.keras.Sequential([layers.Flatten(input_shape=(6, 6, 1)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    steps = []
    counter = sd.keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    gen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, horizontal_flip=True, validation_split=0.25)
    history = model.fit(gen.flow(x, y, batch_size=4, subset="training", ignore_class_split=True), epochs=2,
                        validation_data=gen.flow(x, y, batch_size=4, subset="validation", ignore_class_split=True),
                        callbacks=[counter], verbose=0)
    assert steps == [0, 1, 2, 3] * 2  # 15 training samples in batches of 4
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history


# --- image files (Pillow) ---------------------------------------------------------------------------------------------
def write_tree(root, sizes=(("cats", 4), ("dogs", 2))):
    for name, n in sizes:
        (root / name).mkdir(parents=True)
        for i in range(n):
            value = 10 * i + (0 if name == "cats" else 100)
            kimage.save_img(root / name / f"{i}.png", np.full((6, 5, 3), value, np.float32), scale=False)


def test_flow_from_directory_shapes_labels_and_subsets(pillow, tmp_path, capsys):
    write_tree(tmp_path / "data")
    (tmp_path / "data" / "cats" / "notes.txt").write_text("not an image")
    gen = ImageDataGenerator(rescale=1 / 255)
    it = gen.flow_from_directory(tmp_path / "data", target_size=(4, 3), batch_size=4, shuffle=False)
    assert "Found 6 images belonging to 2 classes." in capsys.readouterr().out
    assert it.class_indices == {"cats": 0, "dogs": 1} and it.classes.tolist() == [0, 0, 0, 0, 1, 1]
    assert it.filenames[0] == "cats/0.png" and len(it) == 2
    bx, by = it[1]
    assert bx.shape == (2, 4, 3, 3) and by.tolist() == [[0, 1], [0, 1]]
    np.testing.assert_allclose(bx[:, 0, 0, 0], np.array([100, 110]) / 255, rtol=1e-6)
    sparse = gen.flow_from_directory(tmp_path / "data", target_size=(4, 3), class_mode="sparse", shuffle=False,
                                     color_mode="grayscale", batch_size=6)[0]
    assert sparse[0].shape == (6, 4, 3, 1) and sparse[1].tolist() == [0, 0, 0, 0, 1, 1]
    assert gen.flow_from_directory(tmp_path / "data", class_mode=None, target_size=(4, 3))[0].shape == (6, 4, 3, 3)
    split = ImageDataGenerator(validation_split=0.5)
    val = split.flow_from_directory(tmp_path / "data", target_size=(4, 3), subset="validation", shuffle=False)
    train = split.flow_from_directory(tmp_path / "data", target_size=(4, 3), subset="training", shuffle=False)
    assert val.filenames == ["cats/0.png", "cats/1.png", "dogs/0.png"]  # the first half of each class
    assert train.filenames == ["cats/2.png", "cats/3.png", "dogs/1.png"]
    binary = gen.flow_from_directory(tmp_path / "data", target_size=(4, 3), class_mode="binary", classes=["dogs"])
    assert binary.samples == 2 and binary.class_indices == {"dogs": 0}
    with pytest.raises(ValueError, match="class_mode must be one of"):
        gen.flow_from_directory(tmp_path / "data", class_mode="onehot")


def test_model_fit_on_flow_from_directory(pillow, tmp_path):
    write_tree(tmp_path / "data")
    it = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True).flow_from_directory(
        tmp_path / "data", target_size=(4, 4), batch_size=3, seed=1)
    model = sd.keras.Sequential([layers.Flatten(input_shape=(4, 4, 3)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert len(model.fit(it, epochs=2, verbose=0).history["loss"]) == 2


def test_image_file_helpers_round_trip(pillow, tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3) * 10
    kimage.save_img(tmp_path / "a.png", x, scale=False)
    img = kimage.load_img(tmp_path / "a.png")
    assert img.size == (4, 2) and img.mode == "RGB"
    np.testing.assert_array_equal(kimage.img_to_array(img), x)
    assert kimage.img_to_array(img, data_format="channels_first").shape == (3, 2, 4)
    assert kimage.img_to_array(kimage.load_img(tmp_path / "a.png", color_mode="grayscale")).shape == (2, 4, 1)
    assert kimage.load_img(tmp_path / "a.png", target_size=(5, 7)).size == (7, 5)
    scaled = kimage.img_to_array(kimage.array_to_img(np.array([[[-1.0], [1.0]]])))
    assert scaled.ravel().tolist() == [0, 255]
    with pytest.raises(ValueError, match="unsupported number of channels 2"):
        kimage.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="color_mode must be 'grayscale', 'rgb' or 'rgba'"):
        kimage.load_img(tmp_path / "a.png", color_mode="cmyk")


def test_without_pillow_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"load_img needs Pillow to read images: pip install shendu\[images\]"):
        kimage.load_img(tmp_path / "a.png")
