"""tf.print writes what TensorFlow writes (the expected strings are TensorFlow 2.21's output for the same calls), to
stderr by default, to a stream, a 'file://' path or a logging function."""

import io
import sys

import pytest

import shendu as tf


def _printed(*inputs, **kwargs) -> str:
    out = io.StringIO()
    tf.print(*inputs, output_stream=out, **kwargs)
    return out.getvalue()


def test_values_are_written_as_tensorflow_writes_them():
    assert _printed("Executing with num_steps = ", tf.constant(10)) == "Executing with num_steps =  10\n"
    assert _printed(tf.constant([1.0, 10.5, 0.333333333])) == "[1 10.5 0.333333343]\n"
    assert _printed(tf.range(10)) == "[0 1 2 ... 7 8 9]\n"
    assert _printed(tf.reshape(tf.range(12.0), (3, 4))) == "[[0 1 2 3]\n [4 5 6 7]\n [8 9 10 11]]\n"
    assert _printed({"a": tf.constant([1, 2]), "b": 3}, [tf.constant(2.5), "x"]) == "{'a': [1 2], 'b': 3} [2.5, 'x']\n"
    assert _printed(tf.constant("hello"), tf.constant(True), tf.constant([1e-8, 1e8])) == '"hello" 1 [1e-08 1e+08]\n'
    assert _printed(tf.range(10), summarize=-1, sep=",", end="!\n") == "[0 1 2 3 4 5 6 7 8 9]!\n"


def test_higher_ranks_are_summarized_per_axis():
    expected = """[[[0 1 2 ... 5 6 7]
  [8 9 10 ... 13 14 15]
  [16 17 18 ... 21 22 23]
  ...
  [40 41 42 ... 45 46 47]
  [48 49 50 ... 53 54 55]
  [56 57 58 ... 61 62 63]]

 [[64 65 66 ... 69 70 71]
  [72 73 74 ... 77 78 79]
  [80 81 82 ... 85 86 87]
  ...
  [104 105 106 ... 109 110 111]
  [112 113 114 ... 117 118 119]
  [120 121 122 ... 125 126 127]]]
"""
    assert _printed(tf.reshape(tf.range(2 * 8 * 8), (2, 8, 8))) == expected


def test_streams_files_and_logging_functions(tmp_path, capsys):
    tf.print("to", "stderr")
    assert capsys.readouterr().err == "to stderr\n"
    tf.print(tf.constant(1.5), output_stream=sys.stdout)
    assert capsys.readouterr().out == "1.5\n"
    path = tmp_path / "log.txt"
    tf.print("a", output_stream=f"file://{path}")
    tf.print("b", output_stream=f"file://{path}")
    assert path.read_text() == "a\nb\n"
    lines = []
    tf.print("via", tf.constant([1, 2]), output_stream=lines.append)
    assert lines == ["via [1 2]"]
    with pytest.raises(ValueError, match="not a stream, a logging function or a 'file://' path"):
        tf.print("x", output_stream="stdout")


def test_star_import_keeps_the_builtin_print():
    namespace: dict = {}
    exec("from shendu import *", namespace)
    assert "print" not in namespace and tf.print is not print
