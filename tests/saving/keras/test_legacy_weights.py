"""tf.keras-layout HDF5 weights (Keras 3's legacy_h5_format, keras.applications' ImageNet files): Keras-made files
load by position or by name; shendu writes files that Keras 3 loads."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import keras
from shendu.saving.file_utils import ModelFileError
from shendu.saving.hdf5 import load_weights_file, read_names
from shendu.saving.legacy_weights import _write_names, read_legacy_weights, write_legacy_weights
from tests.saving.keras.weight_models import BUILDERS, dense_bn, fixture, tiny_vgg


@pytest.mark.parametrize("name", ["legacy_dense_bn.h5", "legacy_full.h5"])
def test_keras_legacy_files_predict_as_keras(h5py, name):
    """A weights-only file and the model_weights group of a full legacy model file."""
    model = dense_bn(keras)
    load_weights_file(model, fixture(name))
    data = np.load(fixture("dense_bn.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


def test_applications_style_file_with_weightless_layers(h5py):
    """As keras.applications' files: layer_names lists pooling/flatten layers with empty weight_names."""
    with h5py.File(fixture("legacy_tiny_vgg.h5"), "r") as f:
        assert read_names(f, "layer_names", "f") [1:] == ["block1_conv1", "block1_pool", "flatten", "fc"]
        assert read_names(f["block1_pool"], "weight_names", "f") == []
    model = tiny_vgg(keras)
    load_weights_file(model, fixture("legacy_tiny_vgg.h5"))
    data = np.load(fixture("legacy_tiny_vgg.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


def test_by_name_loads_matching_layers_only(h5py):
    """Another architecture sharing the layer name 'head': only that layer loads; the others keep their values."""
    inp = keras.Input((4,))
    x = keras.layers.Dense(3, name="other")(inp)
    model = keras.Model(inp, keras.layers.Dense(2, name="head")(x))
    other = model.get_layer("other").get_weights()
    load_weights_file(model, fixture("legacy_dense_bn.h5"), by_name=True)
    with h5py.File(fixture("legacy_dense_bn.h5"), "r") as f:
        names = read_names(f["head"], "weight_names", "f")
        np.testing.assert_array_equal(model.get_layer("head").get_weights()[0], f["head"][names[0]][()])
    for a, b in zip(other, model.get_layer("other").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mismatches_are_listed_before_anything_is_assigned(h5py):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="dense"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2, name="head")])
    before = model.get_weights()
    with pytest.raises(ModelFileError) as err:
        load_weights_file(model, fixture("legacy_dense_bn.h5"))
    message = str(err.value)
    assert "legacy_dense_bn.h5" in message and "layer 'dense'" in message and "dense/kernel" in message
    assert "batch_normalization" in message  # the BatchNormalization mismatch is listed too
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, name="dense"),
                              keras.layers.BatchNormalization(name="batch_normalization"),
                              keras.layers.Dense(3, name="proj"), keras.layers.Dense(2, name="head")])
    first = model.get_layer("dense").get_weights()[0].copy()
    with pytest.warns(UserWarning, match="skipping.*dense"):
        load_weights_file(model, fixture("legacy_dense_bn.h5"), by_name=True, skip_mismatch=True)
    with h5py.File(fixture("legacy_dense_bn.h5"), "r") as f:
        names = read_names(f["head"], "weight_names", "f")
        np.testing.assert_array_equal(model.get_layer("head").get_weights()[0], f["head"][names[0]][()])
    np.testing.assert_array_equal(model.get_layer("dense").get_weights()[0], first)


def test_layer_count_mismatch(h5py):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ModelFileError, match=r"1 layers with weights.*the file 3"):
        load_weights_file(model, fixture("legacy_dense_bn.h5"))


@pytest.mark.parametrize("name", ["recurrent", "attention", "conv", "subclassed"])
def test_round_trip(h5py, tmp_path, name):
    """Nested layers (Bidirectional's two cells of the same name, MultiHeadAttention) get unique weight names."""
    model = BUILDERS[name](keras)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        write_legacy_weights(model, f)
    twin = BUILDERS[name](keras)
    load_weights_file(twin, tmp_path / "w.h5")
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    with h5py.File(tmp_path / "w.h5", "r") as f:
        read_legacy_weights(model, f, "w.h5", by_name=True)  # the model's own layer names are in the file
        assert read_names(f, "layer_names", "w.h5") == [layer.name for layer in model.layers]


def test_long_name_lists_are_chunked_as_keras_does(h5py, tmp_path):
    names = [f"layer_with_a_rather_long_name_{i:05d}" for i in range(3000)]
    with h5py.File(tmp_path / "n.h5", "w") as f:
        _write_names(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
    with h5py.File(tmp_path / "n.h5", "r") as f:
        assert read_names(f, "layer_names", "n.h5") == names


@pytest.mark.parametrize("name", ["dense_bn", "recurrent", "attention", "conv"])
def test_keras_loads_shendu_legacy_files(tensorflow, tmp_path, name):
    """Keras 3's `model.load_weights("x.h5")` reads shendu's tf.keras-layout file and predicts as shendu."""
    import h5py
    import keras as real_keras

    model = BUILDERS[name](keras)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        write_legacy_weights(model, f)
    reference = BUILDERS[name](real_keras)
    reference.load_weights(str(tmp_path / "w.h5"))
    data = np.load(fixture(f"{name}.npz"))
    np.testing.assert_allclose(np.asarray(reference.predict(data["x"], verbose=0)),
                               model.predict(data["x"], verbose=0), atol=1e-5)
