"""FeatureSpace: presets, adapt on a Dataset of dicts (batched or not), the concatenated layout (sorted features,
then crosses), values by hand, dict mode, Dataset.map, models on get_inputs(), config, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.keras.utils import FeatureSpace
from shendu.layers.hashing import HashedCrossing

DATA = {
    "float_values": np.array([0.0, 0.1, 0.2, 0.4, 0.6]),
    "string_values": np.array(["zero", "one", "two", "three", "zero"]),
    "int_values": np.array([0, 1, 2, 3, 4]),
}


def adapted(**kwargs):
    space = FeatureSpace(features={"float_values": "float_normalized", "string_values": "string_categorical",
                                   "int_values": "integer_categorical"},
                         crosses=[("string_values", "int_values")], crossing_dim=8, **kwargs)
    space.adapt(Dataset.from_tensor_slices(DATA))
    return space


def test_concat_layout_and_values_by_hand():
    space = adapted()
    out = space(DATA).numpy()
    # sorted names: float_values (1), int_values (1 OOV + 5), string_values (1 OOV + 4), then the cross (8)
    assert out.shape == (5, 1 + 6 + 5 + 8)
    x = DATA["float_values"]
    np.testing.assert_allclose(out[:, 0], (x - x.mean()) / x.std(), rtol=1e-5)
    int_vocab = space.features["int_values"].preprocessor.get_vocabulary()
    assert int_vocab == [-1, 4, 3, 2, 1, 0]
    np.testing.assert_array_equal(out[:, 1:7].argmax(1), [int_vocab.index(v) for v in DATA["int_values"]])
    str_vocab = space.features["string_values"].preprocessor.get_vocabulary()
    assert str_vocab == ["[UNK]", "zero", "two", "three", "one"]
    np.testing.assert_array_equal(out[:, 7:12].argmax(1), [str_vocab.index(v) for v in DATA["string_values"]])
    cross = HashedCrossing(8)((DATA["string_values"], DATA["int_values"])).numpy()
    np.testing.assert_array_equal(out[:, 12:], np.eye(8)[cross])


def test_adapt_from_batches_equals_unbatched_and_map_shapes():
    batched = FeatureSpace(features={"float_values": "float_normalized", "string_values": "string_categorical",
                                     "int_values": "integer_categorical"},
                           crosses=[FeatureSpace.cross(("string_values", "int_values"), crossing_dim=8)])
    batched.adapt(Dataset.from_tensor_slices(DATA).batch(2))
    np.testing.assert_allclose(batched(DATA).numpy(), adapted()(DATA).numpy(), rtol=1e-6)
    ds = Dataset.from_tensor_slices(DATA)
    assert next(iter(ds.map(batched))).shape == (20,)
    assert next(iter(ds.batch(2).map(batched))).shape == (2, 20)
    unknown = batched({"float_values": 0.3, "string_values": "nine", "int_values": 9}).numpy()
    assert unknown[1] == 1 and unknown[7] == 1  # the OOV ids of both lookups


def test_dict_mode_and_more_presets():
    space = FeatureSpace(features={
        "a": FeatureSpace.float_rescaled(scale=2.0, offset=1.0),
        "b": FeatureSpace.float_discretized(num_bins=3),
        "c": FeatureSpace.string_hashed(num_bins=4, output_mode="int"),
        "d": FeatureSpace.integer_hashed(num_bins=5),
        "e": FeatureSpace.float(),
        "g": FeatureSpace.feature(dtype="float32", preprocessor=layers.Normalization(mean=1.0, variance=4.0),
                                  output_mode="float"),
        "f": FeatureSpace.feature(dtype="string", preprocessor=layers.StringLookup(vocabulary=["p"]),
                                  output_mode="int"),
    }, output_mode="dict")
    data = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([0.0, 5.0, 10.0]), "c": np.array(["x", "y", "z"]),
            "d": np.array([1, 2, 3]), "e": np.array([0.5, 0.25, 0.0]), "f": np.array(["p", "q", "p"]),
            "g": np.array([1.0, 3.0, 5.0])}
    space.adapt(Dataset.from_tensor_slices(data).batch(3))
    out = space(data)
    assert sorted(out) == ["a", "b", "c", "d", "e", "f", "g"]
    np.testing.assert_allclose(out["g"].numpy().ravel(), [0.0, 1.0, 2.0])  # a given mean/variance is not adapted
    np.testing.assert_allclose(out["a"].numpy().ravel(), [3.0, 5.0, 7.0])
    np.testing.assert_allclose(space.features["b"].preprocessor.bin_boundaries, [0.0, 5.0], rtol=1e-6)  # 1/3, 2/3
    assert out["b"].shape == (3, 3) and out["b"].numpy().argmax(1).tolist() == [1, 2, 2]
    assert out["c"].dtype == np.int64 and out["c"].shape == (3, 1)
    assert out["d"].shape == (3, 5) and out["e"].numpy().ravel().tolist() == [0.5, 0.25, 0.0]
    assert out["f"].numpy().ravel().tolist() == [1, 2, 1]  # as Keras, adapt re-learns a given lookup vocabulary


def test_models_on_inputs_and_encoded_features(tmp_path):
    space = adapted()
    inputs = space.get_inputs()
    assert sorted(inputs) == ["float_values", "int_values", "string_values"]
    encoded = space.get_encoded_features()
    assert encoded.shape == (None, 20)
    pred = layers.Dense(1, activation="sigmoid")(layers.Dense(4, activation="relu")(encoded))
    model = sd.models.Model(inputs, pred)
    model.compile("adam", "binary_crossentropy")
    x = {k: v[:, None] for k, v in DATA.items()}
    model.fit(x, np.array([1.0, 0.0, 1.0, 0.0, 1.0]), epochs=2, verbose=0)
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "fs.shendu")
    np.testing.assert_allclose(sd.models.load_model(tmp_path / "fs.shendu").predict(x, verbose=0), before, rtol=1e-6)


def test_config_round_trip_keeps_learned_vocabularies():
    space = adapted()
    config = json.loads(json.dumps(space.get_config()))
    clone = FeatureSpace.from_config(config)
    data = {k: v for k, v in DATA.items() if k != "float_values"}
    data["float_values"] = DATA["float_values"]
    assert clone.features["string_values"].preprocessor.get_vocabulary() == \
        space.features["string_values"].preprocessor.get_vocabulary()
    np.testing.assert_array_equal(clone(data).numpy()[:, 1:], space(data).numpy()[:, 1:])


def test_errors():
    with pytest.raises(ValueError, match="must be a Feature or one of"):
        FeatureSpace(features={"a": "float_squashed"})
    with pytest.raises(ValueError, match="may only cross integer and string"):
        FeatureSpace(features={"a": "float", "b": "string_hashed"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match=r"unknown features \['c'\]"):
        FeatureSpace(features={"a": "string_hashed", "b": "string_hashed"}, crosses=[("a", "c")])
    with pytest.raises(ValueError, match="lacks the features"):
        adapted()({"float_values": np.array([1.0])})
    with pytest.raises(TypeError, match="Dataset of dicts"):
        FeatureSpace(features={"a": "float_normalized"}).adapt(Dataset.from_tensor_slices(np.zeros(3)))
