"""Discretization: Keras's documented examples (given and adapted boundaries), the quantile summary, encodings,
errors, config, models and Dataset.map."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.data import Dataset
from shendu.layers import Discretization

DOC_INPUT = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])


def test_keras_doc_examples():
    given = Discretization(bin_boundaries=[0.0, 1.0, 2.0])(DOC_INPUT)
    assert given.dtype == np.int64
    assert given.numpy().tolist() == [[0, 2, 3, 1], [1, 3, 2, 1]]
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(DOC_INPUT)
    assert layer(DOC_INPUT).numpy().tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    # by hand: the 8 sorted values, cut at cumulative weights 2/8, 4/8, 6/8
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)


def test_adapt_quantiles_on_large_data_and_batches():
    data = np.random.default_rng(0).uniform(0, 1, 10_000)
    layer = Discretization(num_bins=4)
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.25, 0.5, 0.75]), atol=0.02)
    counts = np.bincount(layer(data).numpy(), minlength=4)
    assert counts.min() > 2200
    batched = Discretization(num_bins=4)
    batched.adapt(Dataset.from_tensor_slices(data).batch(1000))
    np.testing.assert_allclose(batched.bin_boundaries, layer.bin_boundaries, atol=0.02)


def test_encodings_and_boundaries_inclusive_on_the_left():
    assert Discretization(bin_boundaries=[1.0])([0.999, 1.0, 5.0]).numpy().tolist() == [0, 1, 1]
    one_hot = Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot")([[-1.0], [0.5], [2.0]])
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(3))
    assert one_hot.dtype == np.float32
    count = Discretization(bin_boundaries=[0.0, 1.0], output_mode="count")([[-1.0, 2.0, 3.0]])
    assert count.numpy().tolist() == [[1, 0, 2]]
    assert Discretization(bin_boundaries=[0.0], output_mode="multi_hot").compute_output_shape((None, 4)) == (None, 2)


def test_errors():
    with pytest.raises(ValueError, match="cannot adapt a layer made with bin_boundaries"):
        Discretization(bin_boundaries=[0.0]).adapt(DOC_INPUT)
    with pytest.raises(ValueError, match=r"'disc'.*give bin_boundaries.*or call adapt"):
        Discretization(num_bins=3, name="disc")([1.0])
    with pytest.raises(ValueError, match="disagree"):
        Discretization(bin_boundaries=[0.0, 1.0], num_bins=5)
    with pytest.raises(ValueError, match="sorted"):
        Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="output_mode must be one of"):
        Discretization(bin_boundaries=[0.0], output_mode="tf_idf")
    with pytest.raises(ValueError, match="expected numbers"):
        Discretization(bin_boundaries=[0.0])(np.array(["a"]))


def test_config_model_and_dataset(tmp_path):
    layer = Discretization(num_bins=3)
    layer.adapt(np.arange(30.0))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["bin_boundaries"] == layer.bin_boundaries and config["num_bins"] == 3
    assert config["dtype"] == "int64"
    clone = Discretization.from_config(config)
    assert clone([5.0, 25.0]).numpy().tolist() == layer([5.0, 25.0]).numpy().tolist()
    inp = layers.Input(shape=(1,))
    encoded = Discretization(bin_boundaries=[10.0, 20.0], output_mode="one_hot")(inp)
    model = sd.models.Model(inp, layers.Dense(1)(encoded))
    model.compile("sgd", "mse")
    x = np.array([[1.0], [15.0], [25.0]])
    model.fit(x, np.ones(3), epochs=1, verbose=0)
    model.save(tmp_path / "disc.shendu")
    np.testing.assert_allclose(sd.models.load_model(tmp_path / "disc.shendu").predict(x, verbose=0),
                               model.predict(x, verbose=0))
    ds = Dataset.from_tensor_slices(np.array([1.0, 15.0, 25.0])).map(layer).batch(3)
    assert next(iter(ds)).numpy().tolist() == layer([1.0, 15.0, 25.0]).numpy().tolist()
