"""StringLookup and IntegerLookup: the values of Keras's documentation examples, index layout, adapt sources,
tf_idf, invert, errors, config round trips, and use in models (fit, save/load) and in Dataset.map."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.layers import IntegerLookup, StringLookup

VOCAB = ["a", "b", "c", "d"]
IVOCAB = [12, 36, 1138, 42]


def ids(layer, data):
    return layer(data).numpy().tolist()


def test_string_lookup_keras_doc_examples():
    data = [["a", "c", "d"], ["d", "z", "b"]]
    assert ids(StringLookup(vocabulary=VOCAB), data) == [[1, 3, 4], [4, 0, 2]]
    adapted = StringLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    two_oov = ids(StringLookup(vocabulary=VOCAB, num_oov_indices=2), [["a", "c", "d"], ["m", "z", "b"]])
    assert two_oov[0] == [2, 4, 5] and two_oov[1][2] == 3 and set(two_oov[1][:2]) <= {0, 1}
    assert ids(StringLookup(vocabulary=VOCAB, mask_token=""), [["a", "c", "d"], ["d", "", "b"]]) == \
        [[2, 4, 5], [5, 0, 3]]
    inverted = StringLookup(vocabulary=VOCAB, invert=True)([[1, 3, 4], [4, 0, 2]])
    assert inverted.numpy().tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_keras_doc_encodings():
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    assert ids(StringLookup(vocabulary=VOCAB, output_mode="multi_hot"), data) == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert ids(StringLookup(vocabulary=VOCAB, output_mode="count"), data) == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    one_hot = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"]).numpy()
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    tfidf = StringLookup(vocabulary=VOCAB, output_mode="tf_idf", idf_weights=[0.25, 0.75, 0.6, 0.4])(data)
    assert tfidf.dtype == np.float32
    np.testing.assert_allclose(tfidf.numpy(), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_integer_lookup_keras_doc_examples():
    data = [[12, 1138, 42], [42, 1000, 36]]
    assert ids(IntegerLookup(vocabulary=IVOCAB), data) == [[1, 3, 4], [4, 0, 2]]
    adapted = IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    # several OOV ids: value % num_oov_indices, as Keras
    assert ids(IntegerLookup(vocabulary=IVOCAB, num_oov_indices=2), [[12, 1138, 42], [37, 1000, 36]]) == \
        [[2, 4, 5], [1, 0, 3]]
    assert ids(IntegerLookup(vocabulary=IVOCAB, mask_token=0), [[12, 1138, 42], [42, 0, 36]]) == \
        [[2, 4, 5], [5, 0, 3]]
    assert ids(IntegerLookup(vocabulary=IVOCAB, invert=True), [[1, 3, 4], [4, 0, 2]]) == \
        [[12, 1138, 42], [42, -1, 36]]
    data = [[12, 1138, 42, 42], [42, 7, 36, 7]]
    assert ids(IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot"), data) == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert ids(IntegerLookup(vocabulary=IVOCAB, output_mode="count"), data) == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tfidf = IntegerLookup(vocabulary=IVOCAB, output_mode="tf_idf", idf_weights=[0.25, 0.75, 0.6, 0.4])(data)
    np.testing.assert_allclose(tfidf.numpy(), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_integer_lookup_inverse_of_adapted_round_trips():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer = IntegerLookup()
    layer.adapt(data)
    inverse = IntegerLookup(vocabulary=layer.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(inverse(layer(data)).numpy(), data)
    assert inverse(layer([[7]])).numpy().tolist() == [[-1]]


def test_index_layout_with_mask_and_oov_indices():
    layer = StringLookup(vocabulary=["x", "y"], mask_token="[MASK]", num_oov_indices=3)
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]", "[UNK]", "[UNK]", "x", "y"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["x", "y"]
    assert layer.vocabulary_size() == 6
    out = ids(layer, ["x", "[MASK]", "y", "q", "q"])
    assert out[:3] == [4, 0, 5] and 1 <= out[3] <= 3 and out[3] == out[4]
    # outside 'int' mode the mask token has no id and is dropped
    hot = StringLookup(vocabulary=["x", "y"], mask_token="", output_mode="count")
    assert hot.get_vocabulary() == ["[UNK]", "x", "y"]
    assert ids(hot, [["x", "", "q", ""]]) == [[1, 1, 0]]
    # the vocabulary may start with the special tokens; they are recognized, not repeated
    assert StringLookup(vocabulary=["", "[UNK]", "x"], mask_token="").get_vocabulary() == ["", "[UNK]", "x"]
    strict = StringLookup(vocabulary=["x"], num_oov_indices=0)
    assert ids(strict, ["x"]) == [0]
    with pytest.raises(ValueError, match=r"num_oov_indices=0.*\['nope'\]"):
        strict(["x", "nope"])


def test_adapt_order_max_tokens_and_sources():
    texts = np.array(["b", "a", "c", "a", "b", "a", "d"])
    layer = StringLookup(max_tokens=4)
    layer.adapt(texts)
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "d"]  # a:3, b:2, then ties c/d: higher first
    from_ds = StringLookup(max_tokens=4)
    from_ds.adapt(Dataset.from_tensor_slices(texts).batch(3))
    assert from_ds.get_vocabulary() == layer.get_vocabulary()
    unbatched = StringLookup(max_tokens=4)
    unbatched.adapt(Dataset.from_tensor_slices(texts))
    assert unbatched.get_vocabulary() == layer.get_vocabulary()
    gen = StringLookup(max_tokens=4)
    gen.adapt(iter([texts[:2], texts[2:]]))
    assert gen.get_vocabulary() == layer.get_vocabulary()
    first = StringLookup()
    first.adapt(Dataset.from_tensor_slices(texts).batch(2), steps=1)
    assert first.get_vocabulary() == ["[UNK]", "b", "a"]
    masked = StringLookup(mask_token="")
    masked.adapt([["x", "", "", "[UNK]"]])
    assert masked.get_vocabulary() == ["", "[UNK]", "x"]
    integers = IntegerLookup()
    integers.adapt(Dataset.from_tensor_slices(np.array([5, 3, 5, 9])).batch(2))
    assert integers.get_vocabulary() == [-1, 5, 9, 3]
    with pytest.raises(TypeError, match=r"ds.map\(lambda x, y: x\)"):
        StringLookup().adapt(Dataset.from_tensor_slices((texts, np.arange(7))).batch(2))


def test_adapt_tf_idf_weights():
    data = np.array([["a", "a", "b"], ["b", "c", "c"], ["a", "d", "d"]])
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(data)
    vocab = layer.get_vocabulary(include_special_tokens=False)
    assert vocab == ["a", "d", "c", "b"]
    docs = {"a": 2, "d": 1, "c": 1, "b": 2}
    idf = [np.log(1 + 3 / (1 + docs[t])) for t in vocab]
    expected = np.zeros((1, 5))
    expected[0, 1] = 2 * idf[0]
    expected[0, 4] = idf[3]
    expected[0, 0] = np.mean(idf)  # an OOV token weighs the mean idf, as in Keras
    np.testing.assert_allclose(layer([["a", "b", "a", "zz"]]).numpy(), expected, rtol=1e-6)


def test_pad_to_max_tokens_and_shapes():
    layer = StringLookup(vocabulary=["a", "b"], max_tokens=6, pad_to_max_tokens=True, output_mode="multi_hot")
    out = layer([["a"], ["b"]])
    assert out.shape == (2, 6) and out.numpy()[:, 3:].sum() == 0
    assert layer.compute_output_shape((None, 1)) == (None, 6)
    assert StringLookup(vocabulary=["a"], output_mode="multi_hot")(["a", "b"]).shape == (2,)  # a 1-D input: one sample
    assert StringLookup(vocabulary=["a"])("a").numpy() == 1
    assert StringLookup(vocabulary=["a"])(np.array([[b"a"]])).numpy().tolist() == [[1]]
    assert IntegerLookup(vocabulary=[4])(np.array([[4.0], [1.0]], np.float32)).numpy().tolist() == [[1], [0]]


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("alpha\nbeta\n", encoding="utf-8")
    assert StringLookup(vocabulary=str(path)).get_vocabulary() == ["[UNK]", "alpha", "beta"]
    numbers = tmp_path / "ints.txt"
    numbers.write_text("7\n-3\n", encoding="utf-8")
    assert IntegerLookup(vocabulary=str(numbers)).get_vocabulary() == [-1, 7, -3]
    with pytest.raises(ValueError, match="does not exist"):
        StringLookup(vocabulary=str(tmp_path / "missing.txt"))


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"'look'.*repeated terms \['a'\]"):
        StringLookup(vocabulary=["a", "b", "a"], name="look")
    with pytest.raises(ValueError, match="more than max_tokens=2"):
        StringLookup(vocabulary=["a", "b"], max_tokens=2)
    with pytest.raises(ValueError, match="OOV token"):
        StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="mask token"):
        StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="output_mode must be 'int' when invert"):
        StringLookup(invert=True, output_mode="one_hot")
    with pytest.raises(ValueError, match="output_mode must be one of"):
        IntegerLookup(output_mode="bag")
    with pytest.raises(ValueError, match="idf_weights must be set"):
        StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="idf_weights should only be set"):
        StringLookup(vocabulary=["a"], idf_weights=[1.0])
    with pytest.raises(NotImplementedError, match="sparse=True"):
        StringLookup(sparse=True)
    with pytest.raises(ValueError, match="set the vocabulary before calling"):
        StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(TypeError, match="StringLookup: expected strings, got int"):
        StringLookup(vocabulary=["a"])([1])
    with pytest.raises(ValueError, match="expected integer inputs"):
        IntegerLookup(vocabulary=[1])(np.array([1.5]))


def test_config_round_trip_keeps_vocabulary_and_idf():
    layer = StringLookup(output_mode="tf_idf", mask_token="", name="tfidf")
    layer.adapt([["x", "y", "y"], ["y", "z", ""]])
    config = json.loads(json.dumps(layer.get_config()))
    for key in ("invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token", "output_mode", "sparse",
                "pad_to_max_tokens", "vocabulary_dtype", "idf_weights", "vocabulary", "vocabulary_size", "encoding"):
        assert key in config
    clone = StringLookup.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary() and clone.get_config() == config
    np.testing.assert_allclose(clone([["y", "q"]]).numpy(), layer([["y", "q"]]).numpy())
    integer = IntegerLookup(vocabulary=[3, 1], mask_token=0, num_oov_indices=2)
    assert IntegerLookup.from_config(json.loads(json.dumps(integer.get_config()))).get_vocabulary() == \
        [0, -1, -1, 3, 1]


def test_in_a_functional_model_fit_save_and_load(tmp_path):
    colors = StringLookup(output_mode="one_hot")
    colors.adapt(np.array([["red"], ["blue"], ["red"], ["green"]]))
    sizes = IntegerLookup(vocabulary=[3, 5, 7], output_mode="multi_hot")
    color_in = layers.Input(shape=(1,), dtype="string")
    size_in = layers.Input(shape=(1,), dtype="int64")
    features = layers.Concatenate()([colors(color_in), sizes(size_in)])
    assert features.shape == (None, 8)
    model = sd.models.Model([color_in, size_in], layers.Dense(1, activation="sigmoid")(features))
    model.compile("adam", "binary_crossentropy")
    x = [np.array([["red"], ["blue"], ["pink"], ["green"]]), np.array([[3], [5], [9], [7]])]
    history = model.fit(x, np.array([1.0, 0.0, 1.0, 0.0]), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "lookup.shendu")
    loaded = sd.models.load_model(tmp_path / "lookup.shendu")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before)
    ids_in = layers.Input(shape=(None,), dtype="string")
    token_ids = StringLookup(vocabulary=["a", "b"])(ids_in)
    assert token_ids.dtype == np.int64
    assert layers.Embedding(3, 2)(token_ids).shape == (None, None, 2)


def test_inside_dataset_map():
    lookup = StringLookup(vocabulary=["red", "blue"])
    ds = Dataset.from_tensor_slices((np.array(["red", "blue", "teal"]), np.array([1, 0, 1])))
    out = [a.numpy().tolist() for a, _ in ds.map(lambda s, y: (lookup(s), y)).batch(3)]
    assert out == [[1, 2, 0]]
