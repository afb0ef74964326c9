"""tf.saved_model: save and load refuse clearly and point to what works; contains_saved_model really looks."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as tf
from shendu.tf.saved_model import SavedModelNotSupportedError


def test_save_refuses_and_names_the_alternatives(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    expected = r"cannot write a TensorFlow SavedModel .*model\.save\('model\.keras'\).*format='onnx'"
    with pytest.raises(NotImplementedError, match=expected):
        tf.saved_model.save(model, tmp_path / "export")
    assert not (tmp_path / "export").exists()
    with pytest.raises(SavedModelNotSupportedError, match=r"tf\.train\.Checkpoint"):
        tf.saved_model.save(model, str(tmp_path / "export"), signatures=None)


def test_load_refuses_and_the_suggested_path_works(tmp_path):
    with pytest.raises(SavedModelNotSupportedError, match=r"tf\.saved_model\.load: shendu cannot run"):
        tf.saved_model.load(str(tmp_path))
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.save(tmp_path / "model.shendu")
    again = tf.keras.models.load_model(tmp_path / "model.shendu")
    x = np.ones((3, 2), dtype="float32")
    np.testing.assert_array_equal(np.asarray(model(x).data), np.asarray(again(x).data))


def test_contains_saved_model_looks_for_the_graph_file(tmp_path):
    assert tf.saved_model.contains_saved_model(tmp_path) is False
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")
    assert tf.saved_model.contains_saved_model(tmp_path) is True
