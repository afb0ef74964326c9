"""TextVectorization: Keras's documented examples, vocabulary order and limits, standardize/split modes, output
modes and lengths, adapt sources, config round trips (with the vocabulary), use inside a saved model, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data.dataset import Dataset
from shendu.layers.text_vectorization import TextVectorization


def test_keras_doc_example_adapt():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    # bar and baz twice, then the single ones; ties by the token, higher first
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), [[4, 1, 3, 0], [1, 2, 0, 0]])


def test_keras_doc_example_vocabulary():
    layer = TextVectorization(max_tokens=5000, output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]
    assert layer.vocabulary_size() == 6
    np.testing.assert_array_equal(layer(["Wind, and FIRE!"]).numpy(), [[3, 4, 5, 0]])


def test_frequency_order_and_max_tokens():
    texts = ["the cat sat", "the dog sat", "the end", "a b c"]
    layer = TextVectorization()
    layer.adapt(texts)
    assert layer.get_vocabulary()[:4] == ["", "[UNK]", "the", "sat"]
    assert layer.get_vocabulary()[4:] == ["end", "dog", "cat", "c", "b", "a"]
    small = TextVectorization(max_tokens=5)
    small.adapt(texts)
    assert small.get_vocabulary() == ["", "[UNK]", "the", "sat", "end"]
    np.testing.assert_array_equal(small(["the cat"]).numpy(), [[2, 1]])
    hot = TextVectorization(max_tokens=4, output_mode="multi_hot")
    hot.adapt(texts)
    assert hot.get_vocabulary() == ["[UNK]", "the", "sat", "end"]


def test_standardize_modes():
    text = ["Hello, World! It's 'ok' (a-b)"]
    cases = {
        "lower_and_strip_punctuation": ["hello", "world", "its", "ok", "ab"],
        "lower": ["hello,", "world!", "it's", "'ok'", "(a-b)"],
        "strip_punctuation": ["Hello", "World", "Its", "ok", "ab"],
        None: ["Hello,", "World!", "It's", "'ok'", "(a-b)"],
    }
    for mode, tokens in cases.items():
        layer = TextVectorization(standardize=mode)
        layer.adapt(text)
        assert sorted(layer.get_vocabulary(include_special_tokens=False)) == sorted(tokens), mode
    custom = TextVectorization(standardize=lambda s: s.replace("o", "0"))
    custom.adapt(["foo boo"])
    assert sorted(custom.get_vocabulary(include_special_tokens=False)) == ["b00", "f00"]


def test_split_modes_and_whitespace():
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(chars(["cab", "a"]).numpy(), [[3, 2, 4], [2, 0, 0]])
    whole = TextVectorization(split=None)
    whole.adapt(["New York", "new york", "Paris"])
    assert whole.get_vocabulary() == ["", "[UNK]", "new york", "paris"]
    custom = TextVectorization(standardize="lower", split=lambda s: s.split("|"))
    custom.adapt(["a b|c"])
    assert sorted(custom.get_vocabulary(include_special_tokens=False)) == ["a b", "c"]
    ws = TextVectorization()
    ws.adapt(["  x\t\ty \n z  "])
    np.testing.assert_array_equal(ws(["  z\tx  "]).numpy(), [[2, 4]])


def test_output_lengths_and_input_shapes():
    layer = TextVectorization(vocabulary=["a", "b", "c"])
    np.testing.assert_array_equal(layer(["a b c a", "b", ""]).numpy(), [[2, 3, 4, 2], [3, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(layer(np.array([["a b"], ["c"]])).numpy(), [[2, 3], [4, 0]])
    np.testing.assert_array_equal(layer("c a").numpy(), [4, 2])
    np.testing.assert_array_equal(layer([b"a c"]).numpy(), [[2, 4]])
    cut = TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=2)
    np.testing.assert_array_equal(cut(["a b c", "c"]).numpy(), [[2, 3], [4, 0]])
    assert TextVectorization(vocabulary=["a"], output_sequence_length=3)([""]).shape == (1, 3)


def test_multi_hot_count_and_pad_to_max_tokens():
    hot = TextVectorization(output_mode="multi_hot", vocabulary=["a", "b", "c"])
    assert hot.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    np.testing.assert_array_equal(hot(["a a z", "c"]).numpy(), [[1, 1, 0, 0], [0, 0, 0, 1]])
    count = TextVectorization(output_mode="count", vocabulary=["a", "b", "c"])
    np.testing.assert_array_equal(count(["a a z y b"]).numpy(), [[2, 2, 1, 0]])
    padded = TextVectorization(output_mode="multi_hot", vocabulary=["a"], max_tokens=5, pad_to_max_tokens=True)
    out = padded(["a"])
    assert out.shape == (1, 5) and out.dtype == np.float32
    assert TextVectorization(output_mode="binary", vocabulary=["a"]).output_mode == "multi_hot"


def test_adapt_from_dataset_generator_and_steps():
    texts = np.array(["red green", "green blue", "blue blue", "red"])
    from_ds = TextVectorization()
    from_ds.adapt(Dataset.from_tensor_slices(texts).batch(2))
    from_list = TextVectorization()
    from_list.adapt(list(texts))
    assert from_ds.get_vocabulary() == from_list.get_vocabulary() == ["", "[UNK]", "blue", "red", "green"]
    first = TextVectorization()
    first.adapt(Dataset.from_tensor_slices(texts).batch(2), steps=1)
    assert first.get_vocabulary() == ["", "[UNK]", "green", "red", "blue"]
    gen = TextVectorization()
    gen.adapt(batch for batch in (texts[:2], texts[2:]))
    assert gen.get_vocabulary() == from_list.get_vocabulary()
    pairs = Dataset.from_tensor_slices((texts, np.arange(4))).batch(2)
    with pytest.raises(TypeError, match=r"ds.map\(lambda x, y: x\)"):
        TextVectorization().adapt(pairs)
    labelled = TextVectorization()
    labelled.adapt(pairs.map(lambda x, y: x))
    assert labelled.get_vocabulary() == from_list.get_vocabulary()


def test_readapt_replaces_the_vocabulary():
    layer = TextVectorization()
    layer.adapt(["a a b"])
    layer.adapt(["c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "c"]


def test_config_round_trip_keeps_the_vocabulary():
    layer = TextVectorization(max_tokens=10, output_sequence_length=5, name="vec")
    layer.adapt(["the quick brown fox", "the lazy dog"])
    config = json.loads(json.dumps(layer.get_config()))
    assert config["vocabulary"][0] == "the" and config["vocabulary_size"] == layer.vocabulary_size()
    for key in ("max_tokens", "standardize", "split", "ngrams", "output_mode", "output_sequence_length",
                "pad_to_max_tokens", "sparse", "ragged", "idf_weights", "encoding"):
        assert key in config
    clone = TextVectorization.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    assert clone.get_config() == config
    text = ["a lazy fox"]
    np.testing.assert_array_equal(clone(text).numpy(), layer(text).numpy())


def test_registered_callables_round_trip():
    @layers.register_keras_serializable(package="TestTV")
    def no_digits(s):
        return "".join(c for c in s if not c.isdigit())

    layer = TextVectorization(standardize=no_digits, vocabulary=["ab"])
    config = json.loads(json.dumps(layer.get_config()))
    assert config["standardize"] == "TestTV>no_digits"
    clone = TextVectorization.from_config(config)
    np.testing.assert_array_equal(clone(["a1b"]).numpy(), [[2]])
    config["split"] = "unknown_fn"
    with pytest.raises(ValueError, match="cannot rebuild its split function 'unknown_fn'"):
        TextVectorization.from_config(config)


def test_vocabulary_file_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n[UNK]\nalpha\nbeta\n", encoding="utf-8")
    layer = TextVectorization(vocabulary=str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "alpha", "beta"]
    layer.set_vocabulary(np.array(["x", "y"]))
    np.testing.assert_array_equal(layer(["y x alpha"]).numpy(), [[3, 2, 1]])


def test_inside_a_model_saved_and_loaded(tmp_path):
    vec = TextVectorization(output_mode="multi_hot")
    vec.adapt(["good fine great", "bad awful poor"])
    inp = layers.Input((1,), dtype=object)  # Keras spells it "string": see the report
    out = layers.Dense(1, activation="sigmoid")(vec(inp))
    model = sd.models.Model(inp, out)
    texts = np.array([["good film"], ["awful plot"]])
    before = model.predict(texts, verbose=0)
    assert before.shape == (2, 1)
    with layers.custom_object_scope({"TextVectorization": TextVectorization}):
        model.save(tmp_path / "text.shendu")
        loaded = sd.models.load_model(tmp_path / "text.shendu")
    np.testing.assert_array_equal(loaded.predict(texts, verbose=0), before)


def test_errors():
    with pytest.raises(NotImplementedError, match="ngrams"):
        TextVectorization(ngrams=2)
    with pytest.raises(NotImplementedError, match="output_mode='tf_idf'"):
        TextVectorization(output_mode="tf_idf")
    with pytest.raises(ValueError, match="output_mode must be one of"):
        TextVectorization(output_mode="words")
    with pytest.raises(ValueError, match="standardize must be"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length must not be set"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="repeated tokens \\['a'\\]"):
        TextVectorization(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="more than max_tokens=3"):
        TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match=r"shape \(batch,\) or \(batch, 1\)"):
        TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="expected strings, got int"):
        TextVectorization(vocabulary=["a"])([1, 2])


@pytest.mark.parametrize("shape", [(1,), ()])
def test_model_predicts_raw_python_strings_and_saves_its_vocabulary(tmp_path, shape):
    texts = Dataset.from_tensor_slices(np.array(["a good film", "a bad film", "good acting", "bad plot"]))
    assert isinstance(next(iter(texts)), sd.Tensor)  # Dataset elements are Tensors holding strings
    vec = TextVectorization(max_tokens=20, output_sequence_length=4)
    vec.adapt(texts.batch(2))
    unbatched = TextVectorization(max_tokens=20, output_sequence_length=4)
    unbatched.adapt(texts)
    assert unbatched.get_vocabulary() == vec.get_vocabulary()
    inp = layers.Input(shape=shape, dtype="string")
    ids = vec(inp)
    assert ids.dtype == np.int64 and ids.shape == (None, 4)
    x = layers.GlobalAveragePooling1D()(layers.Embedding(vec.vocabulary_size(), 3)(ids))
    model = sd.models.Model(inp, layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy")
    train = np.array(["a good film", "a bad film", "good acting", "bad plot"])
    model.fit(train, np.array([1.0, 0.0, 1.0, 0.0]), epochs=2, verbose=0)
    one = model.predict(["a good film"], verbose=0)
    assert one.shape == (1, 1)
    np.testing.assert_allclose(model.predict(np.array(["a good film", "bad"]), verbose=0)[:1], one, rtol=1e-6)
    model.save(tmp_path / "text.shendu")
    loaded = sd.models.load_model(tmp_path / "text.shendu")
    assert loaded.layers[1].get_vocabulary() == vec.get_vocabulary()
    np.testing.assert_allclose(loaded.predict(["a good film"], verbose=0), one, rtol=1e-6)


def test_inside_dataset_map_with_labels():
    vec = TextVectorization(vocabulary=["good", "bad"], output_sequence_length=3)
    ds = Dataset.from_tensor_slices((np.array(["good good", "bad", "meh"]), np.array([1, 0, 0]))).batch(3)
    x, y = next(iter(ds.map(lambda text, label: (vec(text), label))))
    assert x.numpy().tolist() == [[2, 2, 0], [3, 0, 0], [1, 0, 0]] and y.numpy().tolist() == [1, 0, 0]
