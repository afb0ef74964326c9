"""tf.strings on Tensors, NumPy arrays and Python strings; the text-classification tutorial's standardization."""

import re
import string

import numpy as np
import pytest

import shendu as tf


def test_case_and_strip_keep_the_string_kind():
    out = tf.strings.lower(["AbC", "ÉX"])
    assert isinstance(out, tf.Tensor) and out.dtype == object  # Python strings: the object dtype, as tf.constant
    assert out.numpy().tolist() == ["abc", "Éx"]  # TensorFlow's default encoding='' lowers ASCII letters only
    assert tf.strings.lower("ÉX", encoding="utf-8").numpy() == "éx"
    assert tf.strings.upper(np.array(["ab", "c"])).numpy().tolist() == ["AB", "C"]
    assert tf.strings.upper(np.array(["ab"])).dtype.kind == "U"
    as_bytes = tf.strings.upper(np.array([b"ab"]))
    assert as_bytes.numpy().tolist() == [b"AB"]
    assert tf.strings.strip(tf.constant(["  a b \n", "c"])).numpy().tolist() == ["a b", "c"]
    assert tf.strings.lower("X").shape == ()
    with pytest.raises(TypeError, match=r"tf\.strings\.lower: expected strings"):
        tf.strings.lower(np.array([1, 2]))
    with pytest.raises(ValueError, match="encoding"):
        tf.strings.lower("a", encoding="latin-1")


def test_regex_replace_and_full_match():
    assert tf.strings.regex_replace("hello world", "o", "0").numpy() == "hell0 w0rld"
    assert tf.strings.regex_replace("hello world", "o", "0", replace_global=False).numpy() == "hell0 world"
    assert tf.strings.regex_replace("ab", r"(a)(b)", r"\2\1[\0]").numpy() == "ba[ab]"  # RE2's \0, \1
    assert tf.strings.regex_full_match(["abc", "abd"], r"ab[c]").numpy().tolist() == [True, False]


def test_the_text_classification_tutorials_standardization():
    def custom_standardization(input_data):
        lowercase = tf.strings.lower(input_data)
        stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
        return tf.strings.regex_replace(stripped_html, f"[{re.escape(string.punctuation)}]", "")

    texts = tf.constant(["Great movie!<br />Loved it.", "Bad, BAD film"])
    assert custom_standardization(texts).numpy().tolist() == ["great movie loved it", "bad bad film"]
    layer = tf.keras.layers.TextVectorization(max_tokens=20, standardize=custom_standardization,
                                              split=tf.strings.split, output_sequence_length=4)
    layer.adapt(texts)
    vocab = layer.get_vocabulary()
    assert "bad" in vocab and "Bad," not in vocab
    ids = layer(tf.constant(["bad movie!"])).numpy()
    assert ids.tolist() == [[vocab.index("bad"), vocab.index("movie"), 0, 0]]


def test_split_and_unicode_split():
    one = tf.strings.split("a b  c")
    assert isinstance(one, tf.Tensor) and one.numpy().tolist() == ["a", "b", "c"]
    many = tf.strings.split(["a b", "c"])
    assert [t.numpy().tolist() for t in many] == [["a", "b"], ["c"]]
    assert tf.strings.split("1<>2<><>3", sep="<>").numpy().tolist() == ["1", "2", "", "3"]
    assert tf.strings.split("a b c", maxsplit=1).numpy().tolist() == ["a", "b c"]
    nested = tf.strings.split(np.array([["a b"], ["c d e"]]))
    assert [[t.numpy().tolist() for t in row] for row in nested] == [[["a", "b"]], [["c", "d", "e"]]]
    assert tf.strings.split(np.array([b"x y"])).__getitem__(0).numpy().tolist() == [b"x", b"y"]
    assert tf.strings.unicode_split("héllo", "UTF-8").numpy().tolist() == list("héllo")


def test_length_and_substr():
    assert tf.strings.length(["é", "ab", ""]).numpy().tolist() == [2, 2, 0]  # UTF-8 bytes by default
    assert tf.strings.length("é", unit="UTF8_CHAR").numpy() == 1
    assert tf.strings.length("a").dtype == np.int32
    assert tf.strings.substr("hello", 1, 3).numpy() == "ell"
    assert tf.strings.substr("hello", -3, 2).numpy() == "ll"
    assert tf.strings.substr("hello", 3, 10).numpy() == "lo"
    assert tf.strings.substr(["hello", "world"], [0, 1], 2).numpy().tolist() == ["he", "or"]
    assert tf.strings.substr("héllo", 1, 2, unit="UTF8_CHAR").numpy() == "él"
    assert tf.strings.substr(np.array([b"hello"]), 1, 2).numpy().tolist() == [b"el"]
    with pytest.raises(ValueError, match=r"tf\.strings\.substr: pos 6 is out of range"):
        tf.strings.substr("hello", 6, 1)
    with pytest.raises(ValueError, match="unit"):
        tf.strings.length("a", unit="CHAR")


def test_join_and_reduce_join():
    assert tf.strings.join(["a", ["b", "c"]], separator="+").numpy().tolist() == ["a+b", "a+c"]
    x = tf.constant([["a", "b"], ["c", "d"]])
    assert tf.strings.reduce_join(x).numpy() == "abcd"
    assert tf.strings.reduce_join(x, axis=1, separator="-").numpy().tolist() == ["a-b", "c-d"]
    assert tf.strings.reduce_join(x, axis=0).numpy().tolist() == ["ac", "bd"]
    assert tf.strings.reduce_join(x, axis=-1, keepdims=True).shape == (2, 1)
    assert tf.strings.reduce_join(np.array([b"a", b"b"])).numpy() == b"ab"


def test_as_string_and_to_number():
    assert tf.strings.as_string([1.5, 2.0]).numpy().tolist() == ["1.500000", "2.000000"]  # printf %f
    assert tf.strings.as_string(np.float32(3.14159), precision=2).numpy() == "3.14"
    assert tf.strings.as_string([1234.5], scientific=True).numpy().tolist() == ["1.234500e+03"]
    assert tf.strings.as_string([0.5], shortest=True).numpy().tolist() == ["0.5"]
    assert tf.strings.as_string([3, -12], width=4, fill="0").numpy().tolist() == ["0003", "-012"]
    assert tf.strings.as_string([7], width=3).numpy().tolist() == ["  7"]
    assert tf.strings.as_string([True, False]).numpy().tolist() == ["true", "false"]
    assert tf.strings.as_string([1]).dtype == object
    with pytest.raises(ValueError, match="fill"):
        tf.strings.as_string([1], fill="x")
    numbers = tf.strings.to_number(["1.5", "-2", "1e3"])
    assert numbers.dtype == np.float32 and numbers.numpy().tolist() == [1.5, -2.0, 1000.0]
    assert tf.strings.to_number(np.array([b"12"]), out_type=tf.int64).numpy().tolist() == [12]
    with pytest.raises(ValueError, match=r"tf\.strings\.to_number: could not convert 'abc' to float32"):
        tf.strings.to_number(["abc"])
    with pytest.raises(ValueError, match=r"could not convert '1\.5' to int32"):
        tf.strings.to_number(["1.5"], out_type=tf.int32)
