"""TransformerEncoder, PositionEmbedding and TokenAndPositionEmbedding: the layer harness, PyTorch's
nn.TransformerEncoderLayer with converted weights (post- and pre-norm, padding mask, values and gradients),
masks, config round trips and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.attention import MultiHeadAttention
from shendu.layers.transformer import PositionEmbedding, TokenAndPositionEmbedding, TransformerEncoder
from tests.layers.harness import check_layer

CUSTOM = {"TransformerEncoder": TransformerEncoder, "PositionEmbedding": PositionEmbedding,
          "TokenAndPositionEmbedding": TokenAndPositionEmbedding, "MultiHeadAttention": MultiHeadAttention}


@pytest.fixture(autouse=True)
def _known_classes():
    with layers.custom_object_scope(CUSTOM):
        yield


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_harness(normalize_first):
    layer = check_layer(TransformerEncoder, {"intermediate_dim": 5, "num_heads": 2, "normalize_first": normalize_first},
                        input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4))
    names = [w.name for w in layer.weights]
    assert names[:2] == ["self_attention_layer/query/kernel", "self_attention_layer/query/bias"]
    assert [w.shape for w in layer.weights][8:] == [(4,), (4,), (4,), (4,), (4, 5), (5,), (5, 4), (4,)]


def _torch_layer(torch, layer, width, heads, ff, norm_first):
    """nn.TransformerEncoderLayer holding the layer's weights."""
    (wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, g2, b2, w1, c1, w2, c2) = layer.get_weights()
    tl = torch.nn.TransformerEncoderLayer(width, heads, ff, dropout=0.0, batch_first=True, norm_first=norm_first,
                                          layer_norm_eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        tl.self_attn.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [wq.reshape(width, -1).T, wk.reshape(width, -1).T, wv.reshape(width, -1).T])))
        tl.self_attn.in_proj_bias.copy_(torch.tensor(np.concatenate([bq.ravel(), bk.ravel(), bv.ravel()])))
        tl.self_attn.out_proj.weight.copy_(torch.tensor(wo.reshape(-1, width).T))
        tl.self_attn.out_proj.bias.copy_(torch.tensor(bo))
        for mod, (g, b) in ((tl.norm1, (g1, b1)), (tl.norm2, (g2, b2))):
            mod.weight.copy_(torch.tensor(g))
            mod.bias.copy_(torch.tensor(b))
        tl.linear1.weight.copy_(torch.tensor(w1.T))
        tl.linear1.bias.copy_(torch.tensor(c1))
        tl.linear2.weight.copy_(torch.tensor(w2.T))
        tl.linear2.bias.copy_(torch.tensor(c2))
    return tl


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_matches_torch_with_padding_mask(torch, normalize_first):
    rng = np.random.default_rng(0)
    b, t, width, heads, ff = 3, 6, 8, 2, 16
    x = rng.normal(size=(b, t, width))
    padding = np.ones((b, t), bool)
    padding[0, 4:] = padding[2, 2:] = False
    layer = TransformerEncoder(ff, heads, normalize_first=normalize_first, dtype="float64")
    layer(x)
    layer.set_weights([rng.normal(scale=0.4, size=w.shape) + (1.0 if "gamma" in v.name else 0.0)
                       for w, v in zip(layer.get_weights(), layer.weights)])
    tl = _torch_layer(torch, layer, width, heads, ff, normalize_first)
    tl.eval()

    xs = sd.Tensor(x, requires_grad=True)
    out = layer(xs, padding_mask=padding)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ref = tl(tx, src_key_padding_mask=torch.tensor(~padding))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(layer.weights[12].grad.numpy().T, tl.linear1.weight.grad.numpy(), rtol=1e-8,
                               atol=1e-10)


def test_encoder_padding_mask_hides_padded_tokens():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = TransformerEncoder(8, 2)
    y = layer(x, padding_mask=padding).numpy()
    x2 = x.copy()
    x2[0, 3:] = rng.normal(size=(2, 4))  # change only the padded tokens
    y2 = layer(x2, padding_mask=padding).numpy()
    np.testing.assert_allclose(y2[0, :3], y[0, :3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y2[1], y[1], rtol=1e-6)
    assert not np.allclose(layer(x2).numpy()[0, :3], y[0, :3])


def test_encoder_dropout_in_training_only_and_trains():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 5, 4)).astype("float32")
    layer = TransformerEncoder(8, 2, dropout=0.3)
    np.testing.assert_array_equal(layer(x).numpy(), layer(x, training=False).numpy())
    assert not np.allclose(layer(x, training=True).numpy(), layer(x).numpy())
    inp = layers.Input((5, 4))
    h = layers.Dense(1)(TransformerEncoder(8, 2)(inp))
    model = sd.models.Model(inp, h)
    model.compile(sd.optimizers.Adam(0.01), "mse")
    y = x.mean(axis=1, keepdims=True)[..., :1].repeat(5, axis=1)  # needs attention: every step sees the mean
    history = model.fit(x, y, epochs=40, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_position_embedding_harness_and_values():
    layer = check_layer(PositionEmbedding, {"sequence_length": 6}, input_shape=(2, 4, 3),
                        expected_output_shape=(2, 4, 3))
    table = layer.get_weights()[0]
    x = np.zeros((2, 3, 3), "float32")
    np.testing.assert_array_equal(layer(x, start_index=2).numpy(), np.broadcast_to(table[2:5], (2, 3, 3)))
    with pytest.raises(ValueError, match="beyond sequence_length 6"):
        layer(x, start_index=4)


def test_token_and_position_embedding():
    pytest.importorskip("shendu.layers.embedding")
    ids = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    layer = TokenAndPositionEmbedding(vocabulary_size=7, sequence_length=6, embedding_dim=3, mask_zero=True)
    out = layer(ids).numpy()
    tokens, positions = layer.get_weights()
    np.testing.assert_allclose(out, tokens[ids] + positions[:4], rtol=1e-6)
    np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
    clone = TokenAndPositionEmbedding.from_config(layer.get_config())
    clone(ids)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(ids).numpy(), out)


def test_encoder_errors():
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        TransformerEncoder(8, 0)
    with pytest.raises(ValueError, match="smaller than num_heads"):
        TransformerEncoder(8, 4)(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        TransformerEncoder(8, 1)(np.zeros((2, 3), "float32"))


def test_encoder_reads_and_passes_on_the_keras_mask():
    from shendu.keras_mask import get_keras_mask, set_keras_mask

    rng = np.random.default_rng(3)
    x = sd.Tensor(rng.normal(size=(2, 4, 4)).astype("float32"))
    padding = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    layer = TransformerEncoder(8, 2)
    explicit = layer(x, padding_mask=padding).numpy()
    set_keras_mask(x, padding)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), explicit)
    np.testing.assert_array_equal(get_keras_mask(out), padding)


def test_token_and_position_embedding_harness():
    pytest.importorskip("shendu.layers.embedding")
    ids = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    layer = check_layer(TokenAndPositionEmbedding, {"vocabulary_size": 7, "sequence_length": 6, "embedding_dim": 3},
                        input_data=ids, expected_output_shape=(2, 4, 3), gradcheck=False)
    assert [w.shape for w in layer.weights] == [(7, 3), (6, 3)]


def test_token_and_position_embedding_mask_reaches_the_encoder():
    pytest.importorskip("shendu.layers.embedding")
    from shendu.keras_mask import get_keras_mask

    ids = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    embed = TokenAndPositionEmbedding(7, 6, 4, mask_zero=True)
    x = embed(ids)
    np.testing.assert_array_equal(get_keras_mask(x), ids != 0)
    encoder = TransformerEncoder(8, 2)
    np.testing.assert_array_equal(encoder(x).numpy(), encoder(x.detach(), padding_mask=ids != 0).numpy())
