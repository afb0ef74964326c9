"""keras.applications: the five ImageNet networks layer by layer against Keras 3.15 (tests/fixtures/applications/
expected_layers.json, written by make_expected.py with real Keras), their arguments and errors, preprocess_input's
three modes against their formulas, and decode_predictions with a local class index."""

import hashlib
import json
import pathlib
import warnings

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.applications import efficientnet, imagenet_utils, mobilenet_v2, resnet, vgg16, xception
from shendu.applications.weights import WeightsNotFoundError
from shendu.layers import base as layer_base
from shendu.tensor import Tensor

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "applications"
EXPECTED = json.loads((FIXTURES / "expected_layers.json").read_text(encoding="utf-8"))
CONSTRUCTORS = {"VGG16": vgg16.VGG16, "ResNet50": resnet.ResNet50, "MobileNetV2": mobilenet_v2.MobileNetV2,
                "EfficientNetB0": efficientnet.EfficientNetB0, "Xception": xception.Xception}
# Keras's documented parameter counts (keras.io/api/applications).
DOCUMENTED = {"vgg16": 138_357_544, "resnet50": 25_636_712, "mobilenet_v2": 3_538_984, "efficientnetb0": 5_330_571,
              "xception": 22_910_480}
# The one naming difference: shendu's DepthwiseConv2D calls its kernel `depthwise_kernel` (tf.keras 2's name),
# Keras 3 `kernel`; the legacy .h5 files match weights by position, so both load them.
WEIGHT_NAMES = {("DepthwiseConv2D", "depthwise_kernel"): "kernel"}


def _kwargs(entry):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in entry["kwargs"].items()}


@pytest.fixture(scope="module")
def built():
    """Each network of the fixture built once, names counted from a fresh session as make_expected.py does."""
    out = {}
    for key, entry in EXPECTED.items():
        layer_base.clear_session()
        out[key] = CONSTRUCTORS[entry["constructor"]](weights=None, **_kwargs(entry))
    layer_base.clear_session()
    return out


def _table(model):
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        weights = [[WEIGHT_NAMES.get((kind, n), n), list(w.shape)] for w in layer.weights
                   for n in [w.name.rsplit("/", 1)[-1]]]
        rows.append([layer.name, kind, list(layer.output.shape), layer.count_params(), weights])
    return rows


@pytest.mark.parametrize("key", list(EXPECTED))
def test_layers_equal_keras(built, key):
    """Names, classes, output shapes, parameter counts and weight shapes, layer by layer. Where a block branches,
    shendu lists the branches in another order than Keras (Xception's pooling and shortcut, ResNet50's shortcut);
    the layers with weights keep Keras's order, which legacy .h5 files match by position, except in ResNet50 (whose
    weights load by name)."""
    model, entry = built[key], EXPECTED[key]
    assert model.name == entry["name"]
    got = _table(model)
    assert sorted(got) == sorted(entry["layers"])
    if key not in ("resnet50", "xception"):
        assert [row[0] for row in got] == [row[0] for row in entry["layers"]]
    if key != "resnet50":
        assert [row[0] for row in got if row[4]] == [row[0] for row in entry["layers"] if row[4]]
    assert model.count_params() == entry["total"]
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == entry["trainable"]


@pytest.mark.parametrize("key", list(DOCUMENTED))
def test_parameter_counts_are_kerass_documented_figures(built, key):
    assert built[key].count_params() == DOCUMENTED[key]


def test_tf_keras_applications_paths():
    tf = sd
    assert tf.keras.applications.MobileNetV2 is mobilenet_v2.MobileNetV2
    assert tf.keras.applications.mobilenet_v2.preprocess_input is mobilenet_v2.preprocess_input
    assert tf.keras.applications.resnet50.ResNet50 is resnet.ResNet50
    assert tf.keras.applications.vgg16.decode_predictions is imagenet_utils.decode_predictions
    assert tf.keras.applications.efficientnet.EfficientNetB0 is efficientnet.EfficientNetB0
    assert tf.keras.applications.xception.preprocess_input is xception.preprocess_input
    assert tf.keras.applications.imagenet_utils.preprocess_input is imagenet_utils.preprocess_input
    from shendu.keras.applications import VGG16, Xception

    assert VGG16 is vgg16.VGG16 and Xception is xception.Xception


SMALL = dict(weights=None, alpha=0.35, input_shape=(32, 32, 3))


@pytest.mark.parametrize("pooling,shape", [(None, (None, 1, 1, 1280)), ("avg", (None, 1280)), ("max", (None, 1280))])
def test_pooling_without_top(pooling, shape):
    model = mobilenet_v2.MobileNetV2(include_top=False, pooling=pooling, **SMALL)
    assert model.output_shape == shape
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    features = model.predict(x, verbose=0)
    if pooling is not None:
        grid = _feature_map(model, x)
        np.testing.assert_allclose(features, grid.mean(axis=(1, 2)) if pooling == "avg" else grid.max(axis=(1, 2)),
                                   rtol=1e-5, atol=1e-6)


def _feature_map(model, x):
    """The last feature map (out_relu) of a MobileNetV2, from a model that stops there."""
    return sd.keras.Model(model.inputs, model.get_layer("out_relu").output).predict(x, verbose=0)


def test_classes_and_classifier_activation():
    logits = mobilenet_v2.MobileNetV2(classes=7, classifier_activation=None, **SMALL)
    probs = mobilenet_v2.MobileNetV2(classes=7, **SMALL)
    assert logits.output_shape == (None, 7) and probs.output_shape == (None, 7)
    probs.set_weights(logits.get_weights())
    x = np.random.default_rng(1).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    z, p = logits.predict(x, verbose=0), probs.predict(x, verbose=0)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_default_input_shapes_and_static_shape_when_top():
    assert vgg16.VGG16(weights=None, include_top=False).input_shape == (None, None, None, 3)
    assert xception.Xception(weights=None, include_top=False, input_shape=(71, 71, 3)).output_shape == (None, 3, 3,
                                                                                                          2048)
    with pytest.raises(ValueError, match="you should specify a static `input_shape`"):
        mobilenet_v2.MobileNetV2(weights=None, input_shape=(None, None, 3))


@pytest.mark.parametrize("fn,kwargs,match", [
    (vgg16.VGG16, dict(weights="imagenet", classes=10), "`classes` should be 1000"),
    (resnet.ResNet50, dict(weights="no/such/file.h5"), "The `weights` argument should be either"),
    (resnet.ResNet50, dict(weights=None, include_top=False, input_shape=(31, 40, 3)), "at least 32x32"),
    (xception.Xception, dict(weights=None, include_top=False, input_shape=(70, 70, 3)), "at least 71x71"),
    (vgg16.VGG16, dict(weights=None, include_top=False, input_shape=(32, 32)), "tuple of three integers"),
    (efficientnet.EfficientNetB0, dict(weights="imagenet", include_top=False, input_shape=(64, 64, 4)),
     "must have 3 channels"),
    (efficientnet.EfficientNetB0, dict(weights="imagenet", input_shape=(64, 64, 3)), r"should be \(224, 224, 3\)"),
    (mobilenet_v2.MobileNetV2, dict(weights="imagenet", alpha=0.6), "alpha must be one of"),
    (xception.Xception, dict(weights="imagenet", classifier_activation="relu"), "Only `None` and `softmax`"),
])
def test_argument_errors_as_keras(fn, kwargs, match):
    """Each is refused before any download (these run offline)."""
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)


def test_unusual_channel_count_warns_and_builds():
    with pytest.warns(UserWarning, match="usually expects 1 or 3 input channels"):
        model = mobilenet_v2.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 5))
    assert model.input_shape == (None, 32, 32, 5)


def test_input_tensor_joins_a_larger_graph():
    """With input_tensor the network starts there and its inputs are the Inputs behind it (get_source_inputs)."""
    raw = layers.Input((40, 40, 3))
    scaled = layers.Rescaling(1 / 127.5, offset=-1)(raw)
    model = mobilenet_v2.MobileNetV2(input_tensor=scaled, include_top=False, weights=None, alpha=0.35)
    assert model.inputs[0] is raw and model.input_shape == (None, 40, 40, 3)
    assert model.output_shape == (None, 2, 2, 1280)
    with pytest.raises(ValueError, match="input_tensor must be a symbolic tensor"):
        vgg16.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))
    with pytest.raises(ValueError, match=r"input_tensor.shape\[2\] must equal input_shape\[1\]"):
        mobilenet_v2.MobileNetV2(weights=None, input_tensor=layers.Input((40, 40, 3)), input_shape=(32, 32, 3))


def test_mobilenet_v2_names_and_imagenet_size_warning(tmp_path, monkeypatch):
    """A non-standard size asks for the 224 weights (with Keras's warning): the file name says so."""
    assert mobilenet_v2.MobileNetV2(weights=None, alpha=0.5, input_shape=(96, 96, 3)).name == "mobilenetv2_0.50_96"
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", (tmp_path / "empty").as_uri() + "/")
    with warnings.catch_warnings(record=True) as caught, pytest.raises(WeightsNotFoundError) as error:
        warnings.simplefilter("always")
        mobilenet_v2.MobileNetV2(weights="imagenet", include_top=False, input_shape=(100, 100, 3), alpha=0.35)
    assert any("Weights for input shape (224, 224) will be loaded" in str(w.message) for w in caught)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5" in str(error.value)


# --- preprocess_input -------------------------------------------------------------------------------------------
def _images(shape=(2, 5, 4, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_caffe_mode_is_bgr_minus_mean():
    x = _images()
    want = x[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")
    np.testing.assert_allclose(vgg16.preprocess_input(x.copy()), want, rtol=1e-6)
    np.testing.assert_allclose(resnet.preprocess_input(x.copy()), want, rtol=1e-6)
    first = np.moveaxis(x, -1, 1).copy()
    np.testing.assert_allclose(imagenet_utils.preprocess_input(first, data_format="channels_first"),
                               np.moveaxis(want, -1, 1), rtol=1e-6)
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x[0].copy()), want[0], rtol=1e-6)
    np.testing.assert_allclose(imagenet_utils.preprocess_input(np.moveaxis(x[0], -1, 0).copy(),
                                                               data_format="channels_first"),
                               np.moveaxis(want[0], -1, 0), rtol=1e-6)


def test_tf_mode_scales_to_minus_one_one_in_place():
    x = _images()
    want = x / 127.5 - 1
    y = mobilenet_v2.preprocess_input(x)
    np.testing.assert_allclose(y, want, rtol=1e-6)
    assert y is x  # a float array is written over, as in Keras
    np.testing.assert_allclose(xception.preprocess_input(_images()), want, rtol=1e-6)


def test_torch_mode_normalizes_per_channel():
    x = _images()
    want = (x / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), mode="torch"), want, rtol=1e-5, atol=1e-6)


def test_integer_images_become_float32():
    x = np.full((1, 2, 2, 3), 255, dtype="uint8")
    y = mobilenet_v2.preprocess_input(x)
    assert y.dtype == np.float32 and np.all(y == 1.0)


def test_efficientnet_preprocess_is_the_identity():
    x = _images()
    assert efficientnet.preprocess_input(x) is x


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_tensor_and_symbolic_inputs_give_the_array_result(mode):
    x = _images()
    want = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    got = imagenet_utils.preprocess_input(Tensor(x), mode=mode)
    assert isinstance(got, Tensor)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    inputs = layers.Input((5, 4, 3))
    model = sd.keras.Model(inputs, imagenet_utils.preprocess_input(inputs, mode=mode))
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


def test_preprocess_errors():
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or `torch`"):
        imagenet_utils.preprocess_input(_images(), mode="keras")
    with pytest.raises(ValueError, match="Expected data_format to be one of"):
        vgg16.preprocess_input(_images(), data_format="channels_middle")


# --- decode_predictions -----------------------------------------------------------------------------------------
@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A local imagenet_class_index.json served from a file:// URL, with its md5 as the expected hash."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    source = tmp_path / "served" / "imagenet_class_index.json"
    source.parent.mkdir()
    source.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setenv("SHENDU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", source.as_uri())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(source.read_bytes()).hexdigest())
    return tmp_path


def test_decode_predictions_top_classes(class_index):
    preds = np.random.default_rng(0).random((2, 1000)).astype("float32")
    preds[0, 7], preds[1, 999] = 5.0, 3.0
    decoded = mobilenet_v2.decode_predictions(preds, top=3)
    assert len(decoded) == 2 and all(len(d) == 3 for d in decoded)
    assert decoded[0][0][:2] == ("n00000007", "class_7") and decoded[0][0][2] == pytest.approx(5.0)
    assert decoded[1][0][:2] == ("n00000999", "class_999")
    for row, d in zip(preds, decoded):
        assert [name for name, _, _ in d] == [f"n{i:08d}" for i in np.argsort(row)[::-1][:3]]
        assert [s for _, _, s in d] == sorted((s for _, _, s in d), reverse=True)
    assert (class_index / "cache" / "models" / "imagenet_class_index.json").exists()


def test_decode_predictions_shape_error():
    with pytest.raises(ValueError, match=r"expects a batch of predictions .* Received array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_class_index_file_is_checked(tmp_path):
    bad = tmp_path / "index.json"
    bad.write_text(json.dumps({"0": ["n0", "tench"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="not an ImageNet class index"):
        imagenet_utils.read_class_index(bad)
