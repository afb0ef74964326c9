"""Text models: per-token attributions through the Embedding (masked padding included) and the attention weights
of MultiHeadAttention."""

import numpy as np
import pytest

import shendu as sd
from shendu import explain
from shendu.keras import Model, Sequential, layers


def lstm_classifier():
    sd.random.seed(0)
    return Sequential([layers.Input((7,), dtype="int64"), layers.Embedding(20, 6, mask_zero=True, name="emb"),
                       layers.LSTM(5), layers.Dense(1, activation="sigmoid")])


IDS = np.array([[3, 7, 1, 9, 0, 0, 0], [5, 5, 12, 19, 2, 8, 0]])


def test_token_attributions_add_up_to_the_change_of_the_output():
    model = lstm_classifier()
    scores, delta = explain.token_attributions(model, IDS, steps=64, return_convergence_delta=True)
    assert scores.shape == (2, 7)
    full, _ = explain.integrated_gradients(model, IDS, layer="emb", steps=64, return_convergence_delta=True)
    np.testing.assert_allclose(scores, full.sum(axis=-1), rtol=1e-6)
    assert np.abs(delta).max() < 1e-3
    np.testing.assert_array_equal(scores[IDS == 0], 0)  # masked padding has no say
    assert np.abs(scores[IDS != 0]).min() > 0


def test_a_single_output_model_is_explained_through_its_only_unit():
    model = lstm_classifier()
    np.testing.assert_array_equal(explain.gradient_x_input(model, IDS, layer="emb"),
                                  explain.gradient_x_input(model, IDS, target=0, layer="emb"))
    assert explain.saliency(model, IDS, layer="emb").shape == (2, 7, 6)
    with pytest.raises(ValueError, match=r"no layer named 'embedding' .*all layers: \['emb', 'lstm"):
        explain.token_attributions(model, IDS, layer="embedding")


def attention_model():
    sd.random.seed(0)
    tokens = layers.Input((5,), dtype="int64")
    x = layers.Embedding(10, 8)(tokens)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")
    x = layers.GlobalAveragePooling1D()(mha(x, x))
    return Model(tokens, layers.Dense(2, activation="softmax")(x)), mha


def test_attention_weights_are_the_layer_scores():
    model, mha = attention_model()
    ids = np.array([[1, 2, 3, 4, 5], [9, 8, 7, 6, 5], [1, 1, 1, 2, 2]])
    weights = explain.attention_weights(model, ids, "mha", batch_size=2)
    assert weights.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-5)
    embedded = model.layers[1](sd.constant(ids))
    _, direct = mha(embedded, embedded, return_attention_scores=True)
    np.testing.assert_allclose(weights, direct.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(explain.attention_weights(model, ids), weights)  # the first MHA by default
    assert model.predict(ids, verbose=0).shape == (3, 2)  # the layer's own call is back
    with pytest.raises(ValueError, match="has no attention scores"):
        explain.attention_weights(model, ids, model.layers[1].name)


def test_attention_weights_inside_a_transformer_encoder():
    sd.random.seed(0)
    tokens = layers.Input((6,), dtype="int64")
    x = layers.TokenAndPositionEmbedding(12, 6, 8, mask_zero=True)(tokens)
    x = layers.GlobalAveragePooling1D()(layers.TransformerEncoder(intermediate_dim=8, num_heads=2)(x))
    model = Model(tokens, layers.Dense(1, activation="sigmoid")(x))
    ids = np.array([[3, 4, 5, 0, 0, 0]])
    weights = explain.attention_weights(model, ids)
    assert weights.shape == (1, 2, 6, 6)
    np.testing.assert_allclose(weights[..., 3:], 0, atol=1e-7)  # padded keys get no attention
    scores = explain.token_attributions(model, ids, steps=16)
    assert scores.shape == (1, 6)
