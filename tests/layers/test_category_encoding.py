"""CategoryEncoding: Keras's documented examples, shapes by input rank, count_weights, errors, config, models."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.layers import CategoryEncoding


def test_keras_doc_examples():
    one_hot = CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
    np.testing.assert_array_equal(one_hot.numpy(), [[0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert one_hot.dtype == np.float32
    data = [[0, 1], [0, 0], [1, 2], [3, 1]]
    multi = CategoryEncoding(num_tokens=4, output_mode="multi_hot")(data)
    np.testing.assert_array_equal(multi.numpy(), [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    count = CategoryEncoding(num_tokens=4, output_mode="count")(data, count_weights=weights)
    np.testing.assert_allclose(count.numpy(), [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]],
                               rtol=1e-6)


def test_shapes_by_input_rank():
    multi = CategoryEncoding(3)
    assert multi([0, 2, 2]).numpy().tolist() == [1, 0, 1]  # Keras 3: a 1-D input is one sample
    assert multi(1).numpy().tolist() == [0, 1, 0]
    assert CategoryEncoding(3, output_mode="count")([[2, 2, 0]]).numpy().tolist() == [[1, 0, 2]]
    one_hot = CategoryEncoding(3, output_mode="one_hot")
    assert one_hot([[1], [2]]).shape == (2, 3)  # a trailing axis of 1 is replaced
    assert one_hot([[1, 0], [2, 2]]).shape == (2, 2, 3)
    assert one_hot.compute_output_shape((None, 1)) == (None, 3)
    assert multi.compute_output_shape((None, 5)) == (None, 3)
    assert multi(np.array([[1.0, 2.0]], np.float32)).numpy().tolist() == [[0, 1, 1]]


def test_errors():
    with pytest.raises(ValueError, match=r"'enc'.*0 <= values < num_tokens with num_tokens=3"):
        CategoryEncoding(3, name="enc")([0, 3])
    with pytest.raises(ValueError, match="0 <= values"):
        CategoryEncoding(3)([-1])
    with pytest.raises(ValueError, match="rank 2 at most"):
        CategoryEncoding(3)(np.zeros((2, 2, 2), np.int64))
    with pytest.raises(ValueError, match="num_tokens must be a positive integer"):
        CategoryEncoding()
    with pytest.raises(ValueError, match="output_mode must be one of"):
        CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights is only used"):
        CategoryEncoding(3)([1], count_weights=[1.0])
    with pytest.raises(ValueError, match="non-whole"):
        CategoryEncoding(3)([0.5])
    with pytest.raises(NotImplementedError, match="sparse"):
        CategoryEncoding(3, sparse=True)


def test_config_model_and_dataset(tmp_path):
    layer = CategoryEncoding(4, output_mode="count")
    config = json.loads(json.dumps(layer.get_config()))
    assert {k: config[k] for k in ("num_tokens", "output_mode", "sparse")} == \
        {"num_tokens": 4, "output_mode": "count", "sparse": False}
    assert CategoryEncoding.from_config(config).get_config() == config
    inp = layers.Input(shape=(2,), dtype="int64")
    model = sd.models.Model(inp, layers.Dense(1)(CategoryEncoding(4)(inp)))
    model.compile("sgd", "mse")
    x = np.array([[0, 1], [2, 3], [3, 3]])
    model.fit(x, np.ones(3), epochs=1, verbose=0)
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "enc.shendu")
    np.testing.assert_allclose(sd.models.load_model(tmp_path / "enc.shendu").predict(x, verbose=0), before)
    ds = Dataset.from_tensor_slices(x).batch(3).map(CategoryEncoding(4))
    assert next(iter(ds)).numpy().tolist() == [[1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]]
