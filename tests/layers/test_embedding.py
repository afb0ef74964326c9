"""Embedding and Masking: lookups, the scatter-add gradient, id checks, masks, configs."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.keras_mask import get_keras_mask
from shendu.layers.embedding import Embedding, Masking
from shendu.ops.embedding import Gather, scatter_rows
from shendu.saving import serialization
from tests.layers.harness import check_layer

SCOPE = {"Embedding": Embedding, "Masking": Masking}


def test_lookup_and_gradient_sum_repeated_ids():
    layer = Embedding(6, 3, dtype="float64")
    layer.build(None)
    table = np.arange(18, dtype=np.float64).reshape(6, 3)
    layer.set_weights([table])
    ids = np.array([[1, 4, 1], [0, 1, 5]])
    out = layer(ids)
    np.testing.assert_array_equal(out.numpy(), table[ids])
    g = np.random.default_rng(0).normal(size=out.shape)
    (out * sd.Tensor(g)).sum().backward()
    want = np.zeros_like(table)
    np.add.at(want, ids, g)
    np.testing.assert_allclose(layer.embeddings.grad.numpy(), want)
    assert not layer.embeddings.grad.numpy()[[2, 3]].any()


@pytest.mark.parametrize("compiled", [False, True])
def test_scatter_rows_matches_add_at_for_a_large_vocabulary(compiled):
    from shendu.ops import kernels

    if compiled and not kernels.enabled():
        pytest.skip("the compiled scatter needs numba")
    before = kernels.set_enabled(compiled)
    try:
        rng = np.random.default_rng(1)
        ids = rng.integers(0, 5000, 4000)
        for dtype in (np.float64, np.float32):
            values = rng.normal(size=(4000, 7)).astype(dtype)
            want = np.zeros((5000, 7), dtype)
            np.add.at(want, ids, values)
            got = scatter_rows(ids, values, 5000)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 if dtype == np.float32 else 1e-12)
        assert scatter_rows(ids[:0], values[:0], 3).shape == (3, 7)
    finally:
        kernels.set_enabled(before)


def test_gradcheck_of_the_table():
    ids = np.array([[0, 2, 2, 1]])
    assert sd.gradcheck(lambda w: Gather.apply(w, ids=ids), [np.random.default_rng(2).normal(size=(3, 2))])


def test_harness_with_integer_ids():
    ids = np.random.default_rng(3).integers(0, 10, (2, 5))
    with serialization.custom_object_scope(SCOPE):
        check_layer(Embedding, {"input_dim": 10, "output_dim": 4}, input_data=ids, gradcheck=False)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "int64", "float32", "float64"])
def test_any_integer_dtype_and_whole_floats(dtype):
    layer = Embedding(300, 2)
    ids = np.array([[0, 7, 127]]).astype(dtype)
    np.testing.assert_array_equal(layer(ids).numpy(), layer.get_weights()[0][[[0, 7, 127]]])


def test_ids_outside_the_vocabulary_or_not_whole_are_errors():
    layer = Embedding(5, 2, name="words")
    with pytest.raises(ValueError, match=r"words.*token id 5 .*\[0, 5\)"):
        layer(np.array([[1, 5]]))
    with pytest.raises(ValueError, match=r"words.*token id -1 "):
        layer(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match=r"words.*integers.*1\.5"):
        layer(np.array([[1.0, 1.5]]))
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        Embedding(0, 3)


def test_mask_zero_and_keras_defaults():
    layer = Embedding(10, 3, mask_zero=True, input_length=4)
    ids = np.array([[3, 2, 0, 0], [1, 0, 0, 0]])
    out = layer(ids)
    np.testing.assert_array_equal(get_keras_mask(out), ids != 0)
    np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
    assert Embedding(10, 3).compute_mask(ids) is None and get_keras_mask(Embedding(10, 3)(ids)) is None
    weights = layer.get_weights()[0]
    assert np.abs(weights).max() <= 0.05 and weights.std() > 0.01  # 'uniform' = RandomUniform(-0.05, 0.05)
    config = layer.get_config()
    assert config["mask_zero"] is True and "input_length" not in config
    assert layer.compute_output_shape((None, 4)) == (None, 4, 3)


def test_embedding_in_a_symbolic_model():
    inp = layers.Input((None,), dtype="int32")
    out = Embedding(8, 5)(inp)
    assert out.shape == (None, None, 5)
    model = sd.models.Model(inp, layers.Dense(1)(out))
    assert model.predict(np.array([[1, 2, 3]]), verbose=0).shape == (1, 3, 1)


def test_masking_zeros_padded_steps_and_sets_the_mask():
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]]], dtype="float32")
    layer = Masking(mask_value=-1.0)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), [[[1, 2], [0, 0], [0, 3]]])
    np.testing.assert_array_equal(get_keras_mask(out), [[True, False, True]])
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True]])
    with serialization.custom_object_scope(SCOPE):
        check_layer(Masking, {"mask_value": 0.5}, input_shape=(2, 3, 2))
