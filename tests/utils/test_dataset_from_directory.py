"""text_dataset_from_directory and image_dataset_from_directory: Keras's file order, labels, splits, messages and
errors; images decoded by Pillow and resized as tf.image.resize does (compared with PyTorch)."""

import os
import sys

import numpy as np
import pytest

import shendu as tf
from shendu.keras import layers
from shendu.keras.utils import image_dataset_from_directory, text_dataset_from_directory


@pytest.fixture
def reviews(tmp_path):
    """neg/ and pos/ folders with 4 and 6 short texts, plus files that are not .txt and a hidden folder."""
    for label, count in (("neg", 4), ("pos", 6)):
        folder = tmp_path / label
        folder.mkdir()
        for i in range(count):
            (folder / f"{i}.txt").write_text(f"{label} review number {i}")
        (folder / "notes.md").write_text("not a review")
    (tmp_path / ".cache").mkdir()
    return tmp_path


def _texts_and_labels(ds):
    pairs = [(t, int(np.argmax(y)) if np.ndim(y) else int(y)) for xb, yb in ds.as_numpy_iterator()
             for t, y in zip(xb, yb)]
    return [t for t, _ in pairs], [y for _, y in pairs]


def test_text_folders_become_labelled_string_batches(reviews, capsys):
    ds = text_dataset_from_directory(reviews, batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 10 files belonging to 2 classes.\n"
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    texts, labels = _texts_and_labels(ds)
    assert texts[:2] == [b"neg review number 0", b"neg review number 1"] and labels == [0] * 4 + [1] * 6
    x, y = next(iter(ds))
    assert x.dtype == object and x.shape == (4,) and y.dtype == np.int32
    assert ds.file_paths[0] == os.path.join(str(reviews), "neg", "0.txt")
    cut = text_dataset_from_directory(reviews, batch_size=None, shuffle=False, max_length=3, verbose=False)
    first_text, first_label = next(iter(cut))
    assert first_text.shape == () and first_text.numpy() == b"neg" and int(first_label) == 0


def test_label_modes_class_names_and_explicit_labels(reviews):
    binary = text_dataset_from_directory(reviews, label_mode="binary", batch_size=10, shuffle=False, verbose=False)
    _, y = next(iter(binary))
    assert y.shape == (10, 1) and y.dtype == np.float32 and y.numpy().ravel().tolist() == [0.0] * 4 + [1.0] * 6
    onehot = text_dataset_from_directory(reviews, label_mode="categorical", class_names=["pos", "neg"],
                                         batch_size=10, shuffle=False, verbose=False)
    _, y = next(iter(onehot))
    assert onehot.class_names == ["pos", "neg"] and y.numpy()[0].tolist() == [1.0, 0.0]  # pos files come first
    unlabelled = text_dataset_from_directory(reviews, labels=None, batch_size=20, shuffle=False, verbose=False)
    assert next(iter(unlabelled)).shape == (10,) and unlabelled.class_names is None
    given = list(range(10))
    explicit = text_dataset_from_directory(reviews, labels=given, batch_size=10, shuffle=False, verbose=False)
    assert next(iter(explicit))[1].numpy().tolist() == given


def test_shuffle_is_seeded_and_split_is_disjoint(reviews, capsys):
    a = _texts_and_labels(text_dataset_from_directory(reviews, seed=5, batch_size=3, verbose=False))
    b = _texts_and_labels(text_dataset_from_directory(reviews, seed=5, batch_size=3, verbose=False))
    assert a == b and sorted(a[0]) == sorted(_texts_and_labels(text_dataset_from_directory(reviews, shuffle=False,
                                                                                            verbose=False))[0])
    train, val = text_dataset_from_directory(reviews, validation_split=0.3, subset="both", seed=1, batch_size=2)
    assert capsys.readouterr().out.splitlines() == ["Found 10 files belonging to 2 classes.",
                                                    "Using 7 files for training.", "Using 3 files for validation."]
    train_texts, val_texts = _texts_and_labels(train)[0], _texts_and_labels(val)[0]
    assert len(train_texts) == 7 and len(val_texts) == 3 and not set(train_texts) & set(val_texts)
    only_val = text_dataset_from_directory(reviews, validation_split=0.3, subset="validation", seed=1,
                                           verbose=False)
    assert sorted(_texts_and_labels(only_val)[0]) == sorted(val_texts)
    assert sorted(only_val.file_paths) == sorted(val.file_paths)


def test_argument_errors_name_the_function(reviews, tmp_path):
    where = "text_dataset_from_directory"
    with pytest.raises(ValueError, match=f"{where}: with validation_split and shuffle=True, give a seed"):
        text_dataset_from_directory(reviews, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="validation_split must be set"):
        text_dataset_from_directory(reviews, subset="training", seed=1)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        (reviews / "mixed").mkdir()
        (reviews / "mixed" / "a.txt").write_text("x")
        text_dataset_from_directory(reviews, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="class_names"):
        text_dataset_from_directory(reviews, class_names=["neg", "other"], verbose=False)
    with pytest.raises(ValueError, match="3 labels given, but 11 files"):
        text_dataset_from_directory(reviews, labels=[0, 1, 0], verbose=False)
    empty = tmp_path / "empty"
    (empty / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no text files found in directory .*allowed formats: \.txt"):
        text_dataset_from_directory(empty, verbose=False)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        text_dataset_from_directory(tmp_path / "absent")


def test_without_pillow_images_ask_for_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"pip install shendu\[images\]"):
        image_dataset_from_directory(tmp_path)


@pytest.fixture
def pictures(tmp_path, pillow):
    """cats/ (red) and dogs/ (blue) PNGs of 20x10 pixels whose left half is darker, plus a grayscale JPEG."""
    for name, channel in (("cats", 0), ("dogs", 2)):
        (tmp_path / name).mkdir()
        for i in range(3):
            pixels = np.zeros((10, 20, 3), dtype=np.uint8)
            pixels[:, :, channel] = 200
            pixels[:, :10, channel] = 100
            pillow.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    pillow.fromarray(np.full((8, 8), 50, dtype=np.uint8)).save(tmp_path / "dogs" / "gray.jpg")
    return tmp_path


def test_images_are_float_batches_of_the_requested_size(pictures):
    ds = image_dataset_from_directory(pictures, image_size=(5, 10), batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 2
    x, y = next(iter(ds))
    assert x.shape == (4, 5, 10, 3) and x.dtype == np.float32 and y.numpy().tolist() == [0, 0, 0, 1]
    red = x.numpy()[0]
    np.testing.assert_allclose(red[:, :5, 0], 100.0)
    np.testing.assert_allclose(red[:, 5:, 0], 200.0)
    assert (red[..., 1:] == 0).all()
    gray = image_dataset_from_directory(pictures, color_mode="grayscale", image_size=(4, 4), label_mode="categorical",
                                        batch_size=None, shuffle=False, verbose=False)
    images = [img.numpy() for img, _ in gray]
    assert images[0].shape == (4, 4, 1) and np.allclose(images[-1], 50.0, atol=1)
    rgba = next(iter(image_dataset_from_directory(pictures, color_mode="rgba", image_size=(2, 2), verbose=False,
                                                  seed=0)))[0]
    assert rgba.shape[-1] == 4 and np.allclose(rgba.numpy()[..., 3], 255.0)


def test_crop_to_aspect_ratio_keeps_the_centre(pictures):
    ds = image_dataset_from_directory(pictures, image_size=(10, 10), crop_to_aspect_ratio=True, batch_size=1,
                                      shuffle=False, interpolation="nearest", verbose=False)
    first = next(iter(ds))[0].numpy()[0, :, :, 0]
    assert first[:, :5].tolist() == [[100.0] * 5] * 10 and first[:, 5:].tolist() == [[200.0] * 5] * 10
    area = image_dataset_from_directory(pictures, image_size=(2, 2), crop_to_aspect_ratio=True, batch_size=1,
                                        shuffle=False, interpolation="area", verbose=False)
    assert next(iter(area))[0].numpy()[0, :, :, 0].tolist() == [[100.0, 200.0], [100.0, 200.0]]
    with pytest.raises(ValueError, match="lanczos5, gaussian and mitchellcubic are not supported"):
        image_dataset_from_directory(pictures, interpolation="gaussian")
    with pytest.raises(ValueError, match="color_mode"):
        image_dataset_from_directory(pictures, color_mode="cmyk")


def test_bilinear_resize_matches_pytorch(tmp_path, pillow, torch):
    (tmp_path / "only").mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, size=(9, 13, 3), dtype=np.uint8)
    pillow.fromarray(pixels).save(tmp_path / "only" / "a.png")
    for size in ((4, 6), (15, 20)):
        got = next(iter(image_dataset_from_directory(tmp_path, image_size=size, batch_size=1, verbose=False,
                                                     seed=0)))[0].numpy()
        reference = torch.nn.functional.interpolate(torch.tensor(pixels, dtype=torch.float32).permute(2, 0, 1)[None],
                                                    size=size, mode="bilinear", align_corners=False)
        np.testing.assert_allclose(got, reference.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-3)


def test_fit_on_an_image_folder(pictures):
    tf.random.set_seed(0)
    train = image_dataset_from_directory(pictures, image_size=(4, 4), batch_size=3, seed=2, verbose=False)
    model = tf.keras.Sequential([layers.Rescaling(1.0 / 255, input_shape=(4, 4, 3)), layers.Flatten(),
                                 layers.Dense(2)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(train, verbose=0).shape == (7, 2)
