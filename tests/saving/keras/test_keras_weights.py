"""Keras 3 `.weights.h5` files: those real Keras wrote load into the same shendu models and predict as Keras did;
shendu writes the very layout Keras writes, and Keras loads it (with TensorFlow installed)."""

from __future__ import annotations

import numpy as np
import pytest

from shendu import keras
from shendu.saving.file_utils import ModelFileError
from shendu.saving.hdf5 import load_weights_file
from shendu.saving.keras_weights import keras_entries, read_keras_weights, save_weights_h5, write_keras_weights
from tests.saving.keras.weight_models import BUILDERS, adam_model, dense_bn, fixture, recurrent


def _datasets(h5py, path):
    """{dataset path: shape} of an HDF5 file."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
    return out


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_files_predict_as_keras(h5py, name):
    model = BUILDERS[name](keras)
    load_weights_file(model, fixture(f"{name}.weights.h5"))
    data = np.load(fixture(f"{name}.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_shendu_writes_the_layout_keras_writes(h5py, tmp_path, name):
    """Same dataset paths and shapes as Keras's file of the same model; read back, the predictions are equal."""
    model = BUILDERS[name](keras)
    load_weights_file(model, fixture(f"{name}.weights.h5"))
    path = tmp_path / "model.weights.h5"
    save_weights_h5(model, path)
    keras_layout = {k: v for k, v in _datasets(h5py, fixture(f"{name}.weights.h5")).items()
                    if not k.startswith("optimizer/")}
    assert _datasets(h5py, path) == keras_layout
    twin = BUILDERS[name](keras)
    load_weights_file(twin, path)
    data = np.load(fixture(f"{name}.npz"))
    np.testing.assert_array_equal(twin.predict(data["x"], verbose=0), model.predict(data["x"], verbose=0))


def test_paths_follow_keras_naming():
    """List entries by class name with counters (not layer names), sub-layers by attribute, private ones last."""
    paths = [(e.path, [tuple(v.shape) for v in e.variables]) for e in keras_entries(BUILDERS["subclassed"](keras))]
    assert paths == [("", []), ("block", [(3,)]), ("block/parts/dense", [(3, 3), (3,)]),
                     ("block/parts/batch_normalization", [(3,)] * 4), ("block/proj", [(3, 3), (3,)]),
                     ("block/_gate", [(3, 3), (3,)]), ("first", [(4, 3), (3,)]), ("layers/dense", [(3, 2), (2,)])]
    seq = [e.path for e in keras_entries(dense_bn(keras))]
    assert seq == ["", "layers/dense", "layers/batch_normalization", "layers/dense_1"]


def test_adam_state_resumes_as_in_keras(h5py):
    """The optimizer's iterations, learning rate, m and v come from the file: one more step lands where Keras's
    did; a fresh Adam would land elsewhere."""
    data = np.load(fixture("adam.npz"))
    model = adam_model(keras)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    load_weights_file(model, fixture("adam.weights.h5"))
    assert int(model.optimizer.iterations) == 3
    model.train_on_batch(data["x"], data["y"])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"after_{i}"], atol=1e-5)
    fresh = adam_model(keras)
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    load_weights_file(fresh, fixture("adam.weights.h5"))
    fresh.optimizer = keras.optimizers.Adam(0.01)
    fresh.train_on_batch(data["x"], data["y"])
    assert np.abs(fresh.get_weights()[0] - data["after_0"]).max() > 1e-4


def test_optimizer_state_round_trip(h5py, tmp_path):
    data = np.load(fixture("adam.npz"))
    model = adam_model(keras)
    model.compile(keras.optimizers.Adam(0.01, amsgrad=True), "mse")
    model.train_on_batch(data["x"], data["y"])
    save_weights_h5(model, tmp_path / "a.weights.h5")
    twin = adam_model(keras)
    twin.compile(keras.optimizers.Adam(0.01, amsgrad=True), "mse")
    load_weights_file(twin, tmp_path / "a.weights.h5")
    saved, loaded = model.optimizer.get_state(), twin.optimizer.get_state()
    assert len(saved) == len(loaded) == 2 + 4 * 3  # iterations, learning rate; m, v, v_hat of four weights
    for a, b in zip(saved.values(), loaded.values()):
        np.testing.assert_allclose(b, a, rtol=1e-6)


def test_unmappable_optimizer_starts_fresh_with_a_warning(h5py):
    model = adam_model(keras)
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "mse")
    with pytest.warns(UserWarning, match="optimizer starts fresh"):
        load_weights_file(model, fixture("adam.weights.h5"))
    assert int(model.optimizer.iterations) == 0


def test_mismatch_names_file_layer_and_weight_and_assigns_nothing(h5py):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(5)])
    before = model.get_weights()
    with pytest.raises(ModelFileError) as err:
        load_weights_file(model, fixture("dense_bn.weights.h5"))
    message = str(err.value)
    assert "dense_bn.weights.h5" in message and "layers/dense_1/vars/0" in message and "(3, 5)" in message
    assert "layers/dense_1/vars/1" in message  # every mismatch is listed
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_skip_mismatch_loads_the_rest(h5py):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(5)])
    last = model.get_weights()[-1].copy()
    with pytest.warns(UserWarning, match="layers/dense_1/vars/0"):
        load_weights_file(model, fixture("dense_bn.weights.h5"), skip_mismatch=True)
    import h5py as h5

    with h5.File(fixture("dense_bn.weights.h5"), "r") as f:
        np.testing.assert_array_equal(model.get_weights()[0], f["layers/dense/vars/0"][()])
    np.testing.assert_array_equal(model.get_weights()[-1], last)


def test_missing_layer_and_by_name_refused(h5py):
    with pytest.raises(ModelFileError, match=r"missing from the file.*layers/lstm/cell/vars"):
        load_weights_file(recurrent(keras), fixture("dense_bn.weights.h5"))
    with pytest.raises(ValueError, match="by_name=True applies to legacy"):
        load_weights_file(dense_bn(keras), fixture("dense_bn.weights.h5"), by_name=True)


def test_group_functions_for_archives(h5py, tmp_path):
    """write_keras_weights/read_keras_weights on an open file, as a .keras archive's model.weights.h5 uses them."""
    model = BUILDERS["attention"](keras)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        write_keras_weights(model, f)
    twin = BUILDERS["attention"](keras)
    with h5py.File(tmp_path / "w.h5", "r") as f:
        read_keras_weights(twin, f, "w.h5")
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_requires_a_built_model(h5py, tmp_path):
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no weights yet"):
        save_weights_h5(model, tmp_path / "x.weights.h5")
    assert not (tmp_path / "x.weights.h5").exists()


@pytest.mark.parametrize("name", ["dense_bn", "recurrent", "attention", "conv", "subclassed"])
def test_keras_loads_shendu_files(tensorflow, tmp_path, name):
    """Real Keras 3 reads what shendu writes and predicts as shendu does."""
    import keras as real_keras

    model = BUILDERS[name](keras)
    path = tmp_path / "m.weights.h5"
    save_weights_h5(model, path)
    reference = BUILDERS[name](real_keras)
    reference.load_weights(str(path))
    data = np.load(fixture(f"{name}.npz"))
    np.testing.assert_allclose(np.asarray(reference.predict(data["x"], verbose=0)),
                               model.predict(data["x"], verbose=0), atol=1e-5)


def test_keras_resumes_shendu_adam(tensorflow, tmp_path):
    """Keras loads shendu's Adam state: one more step in each lands on the same weights."""
    import keras as real_keras

    data = np.load(fixture("adam.npz"))
    model = adam_model(keras)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    for _ in range(2):
        model.train_on_batch(data["x"], data["y"])
    save_weights_h5(model, tmp_path / "a.weights.h5")
    reference = adam_model(real_keras)
    reference.compile(real_keras.optimizers.Adam(0.01), "mse")
    reference.optimizer.build(reference.trainable_variables)
    reference.load_weights(str(tmp_path / "a.weights.h5"))
    assert int(reference.optimizer.iterations) == 2
    model.train_on_batch(data["x"], data["y"])
    reference.train_on_batch(data["x"], data["y"])
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-5)


def test_every_attention_part_is_an_entry_every_time():
    """Each MultiHeadAttention's four dense parts are entries, however often the walk runs (the parts are made
    during the walk; an id reused after one was freed once dropped parts at random)."""
    from shendu.saving.keras_weights import keras_entries

    x = keras.Input((3, 4))
    y = x
    for _ in range(3):
        y = keras.layers.MultiHeadAttention(num_heads=1, key_dim=2)(y, y)
    model = keras.Model(x, y)
    for _ in range(30):
        parts = [e.path for e in keras_entries(model) if e.path.rsplit("/", 1)[-1].endswith("_dense")]
        assert len(parts) == 12 and len(set(parts)) == 12
