"""Hashing: the documented stable hash (BLAKE2b-64, not Keras's FarmHash: other bins), mask_value, salt, integer
inputs, encodings, errors, config, models and Dataset.map."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.layers import Hashing
from shendu.layers.hashing import stable_hash

LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


def blake(text, bins, key=b""):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8, key=key).digest(), "little") % bins


def test_bins_are_the_documented_hash():
    out = Hashing(num_bins=3)(LETTERS)
    assert out.dtype == np.int64 and out.shape == (5, 1)
    assert out.numpy().ravel().tolist() == [blake(s, 3) for (s,) in LETTERS]
    assert Hashing(7)([12, -5]).numpy().tolist() == [blake("12", 7), blake("-5", 7)]  # integers as decimal text
    key = (133).to_bytes(8, "little") * 2
    assert Hashing(3, salt=133)(LETTERS).numpy().ravel().tolist() == [blake(s, 3, key) for (s,) in LETTERS]
    assert stable_hash(["A", b"A"], 1000).tolist() == [blake("A", 1000)] * 2


def test_stable_across_processes():
    code = "from shendu.layers.hashing import stable_hash; print(stable_hash(['film', 'good'], 1000).tolist())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{stable_hash(['film', 'good'], 1000).tolist()}\n"}


def test_mask_value_and_salt():
    masked = Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).numpy().ravel()
    assert masked[2] == 0 and all(1 <= v <= 2 for v in np.delete(masked, 2))
    assert masked.tolist() == [0 if s == "" else blake(s, 2) + 1 for s in ["A", "B", "", "C", "D"]]
    words = [str(i) for i in range(50)]
    assert Hashing(1000, salt=[1, 2])(words).numpy().tolist() != Hashing(1000)(words).numpy().tolist()
    assert Hashing(1000, salt=7)(words).numpy().tolist() == Hashing(1000, salt=[7, 7])(words).numpy().tolist()


def test_encodings():
    hot = Hashing(4, output_mode="multi_hot")([["a", "b"], ["a", "a"]]).numpy()
    assert hot.shape == (2, 4) and hot.dtype == np.float32 and hot[1].sum() == 1
    count = Hashing(4, output_mode="count")([["a", "a", "a"]]).numpy()
    assert count[0, blake("a", 4)] == 3
    assert Hashing(4, output_mode="one_hot").compute_output_shape((None, 1)) == (None, 4)


def test_errors():
    with pytest.raises(ValueError, match=r"'h'.*num_bins must be a positive integer"):
        Hashing(0, name="h")
    with pytest.raises(ValueError, match="salt"):
        Hashing(3, salt=[1, 2, 3])
    with pytest.raises(ValueError, match="at least 2"):
        Hashing(1, mask_value="")
    with pytest.raises(ValueError, match="string or integer inputs"):
        Hashing(3)(np.array([1.5]))


def test_config_model_and_dataset(tmp_path):
    layer = Hashing(8, mask_value="", salt=5, output_mode="one_hot")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["salt"] == [5, 5] and config["mask_value"] == "" and config["num_bins"] == 8
    clone = Hashing.from_config(config)
    assert clone(["x", ""]).numpy().tolist() == layer(["x", ""]).numpy().tolist()
    inp = layers.Input(shape=(1,), dtype="string")
    model = sd.models.Model(inp, layers.Dense(1)(Hashing(5, output_mode="one_hot")(inp)))
    model.compile("sgd", "mse")
    x = np.array([["cat"], ["dog"], ["emu"]])
    model.fit(x, np.ones(3), epochs=1, verbose=0)
    model.save(tmp_path / "hash.shendu")
    np.testing.assert_allclose(sd.models.load_model(tmp_path / "hash.shendu").predict(x, verbose=0),
                               model.predict(x, verbose=0))
    ds = Dataset.from_tensor_slices(np.array(["cat", "dog"])).map(Hashing(5)).batch(2)
    assert next(iter(ds)).numpy().tolist() == [blake("cat", 5), blake("dog", 5)]


def test_hashed_crossing_hashes_the_joined_values():
    from shendu.layers import HashedCrossing

    feat1, feat2 = np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])
    out = HashedCrossing(num_bins=5)((feat1, feat2))  # Keras's example; its FarmHash gives other bins
    assert out.dtype == np.int64
    assert out.numpy().tolist() == [blake(f"{a}_X_{b}", 5) for a, b in zip(feat1, feat2)]
    hot = HashedCrossing(num_bins=5, output_mode="one_hot")((feat1[:, None], feat2[:, None]))
    np.testing.assert_array_equal(hot.numpy(), np.eye(5)[out.numpy()])
    config = json.loads(json.dumps(HashedCrossing(7, output_mode="one_hot").get_config()))
    assert HashedCrossing.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="same shape"):
        HashedCrossing(5)((feat1, feat2[:2]))
    with pytest.raises(ValueError, match="output_mode must be 'int' or 'one_hot'"):
        HashedCrossing(5, output_mode="count")
