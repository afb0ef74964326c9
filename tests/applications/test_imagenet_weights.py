"""weights="imagenet": Keras's published file fetched into the cache (here from a local HTTP server or a file://
URL standing in for storage.googleapis.com), checked by Keras's hash, read with the legacy-HDF5 reader; offline, the
error says what to fetch and where to put it. With TensorFlow: each network reads a file Keras wrote and predicts as
Keras does."""

import functools
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from shendu.applications import efficientnet, mobilenet_v2, resnet, vgg16, xception
from shendu.applications.weights import WeightsNotFoundError
from shendu.utils.data_utils import FileHashMismatchError

SMALL = dict(alpha=0.35, include_top=False, input_shape=(96, 96, 3))
SMALL_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"


def _write_legacy(model, path, h5py):
    from shendu.saving.legacy_weights import write_legacy_weights

    with h5py.File(path, "w") as f:
        write_legacy_weights(model, f)


def _perturbed(model, seed=0):
    """The model with every weight moved off its initial value, so that a load is visible."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.uniform(0.1, 0.2, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A local HTTP server on 127.0.0.1 over tmp_path/served, counting its requests; the cache in tmp_path/cache."""
    root = tmp_path / "served"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    yield root, f"http://127.0.0.1:{server.server_address[1]}/", hits
    server.shutdown()
    server.server_close()


def test_imagenet_weights_download_into_the_cache_and_load(served, monkeypatch, h5py):
    root, url, hits = served
    source = _perturbed(mobilenet_v2.MobileNetV2(weights=None, **SMALL))
    _write_legacy(source, root / SMALL_FILE, h5py)
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", url)
    model = mobilenet_v2.MobileNetV2(weights="imagenet", **SMALL)
    assert hits == [f"/{SMALL_FILE}"]
    cached = root.parent / "cache" / "models" / SMALL_FILE
    assert cached.read_bytes() == (root / SMALL_FILE).read_bytes()
    for got, want in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(got, want)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-6)
    again = mobilenet_v2.MobileNetV2(weights="imagenet", **SMALL)  # from the cache: no second request
    assert len(hits) == 1
    np.testing.assert_array_equal(again.get_weights()[0], source.get_weights()[0])


def test_file_url_and_a_local_weights_path(tmp_path, monkeypatch, h5py):
    source = _perturbed(mobilenet_v2.MobileNetV2(weights=None, **SMALL), seed=1)
    folder = tmp_path / "mirror"
    folder.mkdir()
    _write_legacy(source, folder / SMALL_FILE, h5py)
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", folder.as_uri() + "/")
    from_url = mobilenet_v2.MobileNetV2(weights="imagenet", **SMALL)
    from_path = mobilenet_v2.MobileNetV2(weights=str(folder / SMALL_FILE), **SMALL)
    for a, b, c in zip(from_url.get_weights(), from_path.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


def test_checksum_mismatch_is_refused_and_not_cached(served, monkeypatch):
    """VGG16's file is checked against the md5 Keras publishes; a different file never enters the cache."""
    root, url, _ = served
    name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    (root / name).write_bytes(b"not the published weights")
    monkeypatch.setattr(vgg16, "WEIGHTS_PATH_NO_TOP", url + name)
    with pytest.raises(FileHashMismatchError, match="6d6bbae143d832006294945121d1f1fc"):
        vgg16.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert not (root.parent / "cache" / "models" / name).exists()
    assert os.listdir(root.parent / "cache" / "models") == []


def test_a_matching_hash_is_accepted(served, h5py):
    """The hash of the served file (as Keras's WEIGHTS_HASHES gives it) lets the download in."""
    root, url, _ = served
    source = _perturbed(mobilenet_v2.MobileNetV2(weights=None, **SMALL), seed=2)
    _write_legacy(source, root / SMALL_FILE, h5py)
    digest = hashlib.md5((root / SMALL_FILE).read_bytes()).hexdigest()
    from shendu.applications import weights

    model = mobilenet_v2.MobileNetV2(weights=None, **SMALL)
    weights.load_weights(model, "imagenet", SMALL_FILE, url + SMALL_FILE, digest)
    np.testing.assert_array_equal(model.get_weights()[-1], source.get_weights()[-1])
    with pytest.raises(FileHashMismatchError):
        weights.load_weights(model, "imagenet", "other.h5", url + SMALL_FILE, "0" * 32)


def test_offline_error_names_the_file_the_url_and_the_cache_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    closed = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    monkeypatch.setattr(resnet, "BASE_WEIGHTS_PATH", closed)
    with pytest.raises(WeightsNotFoundError) as error:
        resnet.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    message = str(error.value)
    name = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert f"Fetch {closed}{name}" in message
    assert os.path.join(str(tmp_path / "cache"), "models", name) in message
    assert "4d473c1dd8becc155b73f8504c6f6626" in message and "weights=" in message


def test_published_addresses_are_kerass():
    assert mobilenet_v2.BASE_WEIGHT_PATH == "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
    assert vgg16.WEIGHTS_PATH.endswith("keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    assert resnet.BASE_WEIGHTS_PATH == "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
    assert efficientnet.BASE_WEIGHTS_PATH == "https://storage.googleapis.com/keras-applications/"
    assert xception.WEIGHTS_HASHES == ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


# --- against Keras (needs TensorFlow; run with the reference venv) ----------------------------------------------
KERAS_CASES = [
    ("VGG16", vgg16, dict(include_top=False, input_shape=(32, 32, 3), pooling="avg")),
    ("ResNet50", resnet, dict(include_top=False, input_shape=(32, 32, 3), pooling="max")),
    ("MobileNetV2", mobilenet_v2, dict(input_shape=(32, 32, 3), alpha=0.35, classes=7)),
    ("EfficientNetB0", efficientnet, dict(input_shape=(32, 32, 3), classes=5)),
    ("Xception", xception, dict(include_top=False, input_shape=(71, 71, 3), pooling="avg")),
]


@pytest.mark.parametrize("name,module,kwargs", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_keras_legacy_file_gives_kerass_predictions(name, module, kwargs, tmp_path, tensorflow, h5py):
    """Keras builds the network, moves its BatchNormalization statistics and biases off their initial values and
    writes the legacy .h5 layout its published files use; shendu's network reads it and predicts the same."""
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    rng = np.random.default_rng(0)
    reference = getattr(keras.applications, name)(weights=None, **kwargs)
    for w in reference.weights:
        value = w.numpy()
        if w.path.endswith("variance"):
            value = rng.uniform(0.5, 1.5, value.shape)
        elif w.path.endswith(("moving_mean", "bias", "beta", "gamma")):
            value = value + rng.normal(0, 0.1, value.shape)
        w.assign(np.asarray(value).astype(w.dtype))
    path = tmp_path / f"{name}.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    x = rng.uniform(0, 255, (2, *kwargs["input_shape"])).astype("float32")
    x = module.preprocess_input(x)
    want = reference.predict(x, verbose=0)
    got = getattr(module, name)(weights=str(path), **kwargs).predict(x, verbose=0)
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= 1e-4 * scale
