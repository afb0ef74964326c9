"""Attention, AdditiveAttention and MultiHeadAttention: the layer harness, a direct NumPy computation, PyTorch's
scaled_dot_product_attention and nn.MultiheadAttention with converted weights (values and gradients, with masks
and the causal mask), gradcheck of the fused op, and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from shendu.ops.attention import ScaledDotProductAttention, mask_bias
from tests.layers.harness import check_layer

CUSTOM = {"Attention": Attention, "AdditiveAttention": AdditiveAttention, "MultiHeadAttention": MultiHeadAttention}


@pytest.fixture(autouse=True)
def _known_classes():
    """The classes by name for deserialize/load_model until shendu.layers exports them."""
    with layers.custom_object_scope(CUSTOM):
        yield


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# --- the fused op ---------------------------------------------------------------------------------------------
def test_fused_op_matches_numpy_and_gradchecks():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 2))
    mask = rng.random((2, 1, 4, 6)) > 0.3
    mask[..., 0] = True
    bias = mask_bias(mask, np.float64)
    out = ScaledDotProductAttention.apply(sd.Tensor(q), sd.Tensor(k), sd.Tensor(v), scale=0.5, bias=bias)
    p = _softmax(0.5 * q @ k.swapaxes(-1, -2) + np.where(mask, 0, -1e9))
    np.testing.assert_allclose(out.numpy(), p @ v, rtol=1e-12)
    assert sd.gradcheck(lambda a, b, c: ScaledDotProductAttention.apply(a, b, c, scale=0.5, bias=bias), [q, k, v])


def test_fused_op_dropout_gradchecks_with_a_fixed_draw():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 3))

    def f(a, b, c):
        return ScaledDotProductAttention.apply(a, b, c, scale=1.0, dropout=0.4, rng=np.random.default_rng(7))

    out = f(sd.Tensor(q), sd.Tensor(k), sd.Tensor(v)).numpy()
    keep = np.random.default_rng(7).random((2, 3, 4), dtype=np.float32) >= 0.4
    np.testing.assert_allclose(out, (_softmax(q @ k.swapaxes(-1, -2)) * keep / 0.6) @ v, rtol=1e-12)
    assert sd.gradcheck(f, [q, k, v])


# --- Attention --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"use_scale": True}, {"score_mode": "concat"},
                                    {"score_mode": "concat", "use_scale": True}])
def test_attention_harness(kwargs):
    check_layer(Attention, kwargs, input_shape=[(2, 3, 4), (2, 5, 4)], expected_output_shape=(2, 3, 4))


def test_attention_with_key_harness():
    check_layer(Attention, {}, input_shape=[(2, 3, 4), (2, 5, 6), (2, 5, 4)], expected_output_shape=(2, 3, 6))


def test_additive_attention_harness():
    layer = check_layer(AdditiveAttention, {}, input_shape=[(2, 3, 4), (2, 5, 4)], expected_output_shape=(2, 3, 4))
    assert [w.shape for w in layer.weights] == [(4,)]
    assert "score_mode" not in layer.get_config()


def test_attention_matches_torch_sdpa_with_masks_and_gradients(torch):
    rng = np.random.default_rng(2)
    q, v, k = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 6, 5)), rng.normal(size=(3, 6, 5))
    v_mask = rng.random((3, 6)) > 0.3
    v_mask[:, 0] = True
    q_mask = rng.random((3, 4)) > 0.3
    layer = Attention(dtype="float64")
    ts = [sd.Tensor(x, requires_grad=True) for x in (q, v, k)]
    out = layer(ts, mask=[q_mask, v_mask], use_causal_mask=True)
    g = rng.normal(size=out.shape)
    out.backward(g)

    tq, tv, tk = (torch.tensor(x, requires_grad=True) for x in (q, v, k))
    allowed = torch.tensor(v_mask)[:, None, :] & torch.tril(torch.ones(4, 6, dtype=torch.bool))
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=allowed, scale=1.0)
    ref = ref * torch.tensor(q_mask)[..., None]
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(ts, (tq, tv, tk)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_attention_scores_and_scale_weight():
    rng = np.random.default_rng(3)
    q, v = rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32")
    layer = Attention(use_scale=True)
    layer([q, v])
    layer.set_weights([np.array(0.7, "float32")])
    out, scores = layer([q, v], return_attention_scores=True)
    expected = _softmax(0.7 * q @ v.swapaxes(1, 2))
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(out.numpy(), expected @ v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer([q, v]).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)


def test_additive_attention_matches_numpy():
    rng = np.random.default_rng(4)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    layer = AdditiveAttention(dtype="float64")
    out = layer([q, v]).numpy()
    scale = layer.get_weights()[0]
    scores = (scale * np.tanh(q[:, :, None] + v[:, None])).sum(-1)
    np.testing.assert_allclose(out, _softmax(scores) @ v, rtol=1e-12)


def test_attention_dropout_only_while_training():
    rng = np.random.default_rng(5)
    q, v = rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32")
    layer = Attention(dropout=0.5, seed=1)
    plain = Attention()([q, v]).numpy()
    np.testing.assert_allclose(layer([q, v]).numpy(), plain, rtol=1e-6)
    assert not np.allclose(layer([q, v], training=True).numpy(), plain)


def test_attention_errors():
    x = np.zeros((2, 3, 4), "float32")
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="general")
    with pytest.raises(ValueError, match=r"list \[query, value\]"):
        Attention()(x)
    with pytest.raises(ValueError, match="same last dimension"):
        Attention()([x, np.zeros((2, 5, 3), "float32")])


# --- MultiHeadAttention ---------------------------------------------------------------------------------------
def test_mha_harness_and_keras_weight_layout():
    layer = check_layer(MultiHeadAttention, {"num_heads": 2, "key_dim": 3}, input_shape=[(2, 3, 4), (2, 5, 6)],
                        expected_output_shape=(2, 3, 4))
    assert [w.shape for w in layer.weights] == [(4, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (2, 3, 4),
                                                (4,)]
    assert [w.name.split("/", 1)[1] for w in layer.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
        "attention_output/kernel", "attention_output/bias"]


def test_mha_harness_value_dim_output_shape_no_bias_and_key():
    kwargs = {"num_heads": 2, "key_dim": 2, "value_dim": 3, "output_shape": 5, "use_bias": False}
    layer = check_layer(MultiHeadAttention, kwargs, input_shape=[(2, 3, 4), (2, 5, 6), (2, 5, 3)],
                        expected_output_shape=(2, 3, 5))
    assert [w.shape for w in layer.weights] == [(4, 2, 2), (3, 2, 2), (6, 2, 3), (2, 3, 5)]


def _torch_mha(torch, layer, embed, kdim, vdim):
    """nn.MultiheadAttention with the layer's weights (Keras (in, heads, d) kernels -> PyTorch (out, in))."""
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    tm = torch.nn.MultiheadAttention(embed, layer.num_heads, kdim=kdim, vdim=vdim, batch_first=True,
                                     dtype=torch.float64)
    with torch.no_grad():
        tm.q_proj_weight.copy_(torch.tensor(wq.reshape(embed, -1).T))
        tm.k_proj_weight.copy_(torch.tensor(wk.reshape(kdim, -1).T))
        tm.v_proj_weight.copy_(torch.tensor(wv.reshape(vdim, -1).T))
        tm.in_proj_bias.copy_(torch.tensor(np.concatenate([bq.ravel(), bk.ravel(), bv.ravel()])))
        tm.out_proj.weight.copy_(torch.tensor(wo.reshape(-1, embed).T))
        tm.out_proj.bias.copy_(torch.tensor(bo))
    return tm


@pytest.mark.parametrize("masks", ["none", "value_mask", "causal", "attention_mask"])
def test_mha_matches_torch_values_and_gradients(torch, masks):
    rng = np.random.default_rng(6)
    b, t, s, embed, kdim, vdim, heads = 3, 5, 5, 8, 6, 7, 2
    q, k, v = rng.normal(size=(b, t, embed)), rng.normal(size=(b, s, kdim)), rng.normal(size=(b, s, vdim))
    layer = MultiHeadAttention(heads, embed // heads, dtype="float64")
    layer(q, v, k)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])
    tm = _torch_mha(torch, layer, embed, kdim, vdim)

    kwargs, tkwargs = {}, {}
    keep = rng.random((b, s)) > 0.3
    keep[:, 0] = True
    allowed = rng.random((b, t, s)) > 0.4
    allowed[..., 0] = True
    if masks == "value_mask":
        kwargs["value_mask"] = keep
        tkwargs["key_padding_mask"] = torch.tensor(~keep)
    elif masks == "causal":
        kwargs["use_causal_mask"] = True
        tkwargs["attn_mask"] = torch.triu(torch.ones(t, s, dtype=torch.bool), 1)
    elif masks == "attention_mask":
        kwargs["attention_mask"] = allowed
        tkwargs["attn_mask"] = torch.tensor(~allowed).repeat_interleave(heads, 0)

    xs = [sd.Tensor(x, requires_grad=True) for x in (q, k, v)]
    out, scores = layer(xs[0], xs[2], xs[1], return_attention_scores=True, **kwargs)
    fused = layer(xs[0], xs[2], xs[1], **kwargs)
    g = rng.normal(size=out.shape)
    fused.backward(g)
    txs = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    ref, ref_scores = tm(*txs, average_attn_weights=False, **tkwargs)
    ref.backward(torch.tensor(g))

    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), ref_scores.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(xs, txs):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-11)
    wq, _, wk, _, wv, _, wo, _ = layer.weights
    for var, tw, rows in ((wq, tm.q_proj_weight, embed), (wk, tm.k_proj_weight, kdim),
                          (wv, tm.v_proj_weight, vdim)):
        np.testing.assert_allclose(var.grad.numpy().reshape(rows, -1).T, tw.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(wo.grad.numpy().reshape(-1, embed).T, tm.out_proj.weight.grad.numpy(), rtol=1e-9,
                               atol=1e-11)
    bias_grads = np.concatenate([w.grad.numpy().ravel() for w in layer.weights[1:6:2]])
    np.testing.assert_allclose(bias_grads, tm.in_proj_bias.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_mha_query_mask_and_key_mask_combine_like_keras():
    rng = np.random.default_rng(7)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    q_mask = np.array([[1, 1, 0], [1, 0, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    k_mask = np.array([[1, 0, 1, 1, 1], [1, 1, 0, 1, 1]], bool)
    layer = MultiHeadAttention(2, 2, dtype="float64")
    _, scores = layer(q, v, query_mask=q_mask, value_mask=v_mask, key_mask=k_mask, return_attention_scores=True)
    combined = q_mask[:, :, None] & v_mask[:, None] & k_mask[:, None]
    _, expected = layer(q, v, attention_mask=combined, return_attention_scores=True)
    np.testing.assert_array_equal(scores.numpy(), expected.numpy())
    allowed = np.broadcast_to(combined[:, None], scores.shape)
    assert np.all(scores.numpy()[~allowed & allowed.any(-1, keepdims=True)] < 1e-300)
    _, unmasked = layer(q, v, return_attention_scores=True)
    # a masked query has every score shifted by -1e9 alike, so (in float64) it attends as if unmasked, as in Keras
    np.testing.assert_allclose(scores.numpy()[0, :, 2], unmasked.numpy()[0, :, 2], rtol=1e-6)


def test_mha_gradcheck_with_mask_and_dropout_free_path():
    rng = np.random.default_rng(8)
    layer = MultiHeadAttention(2, 2, dtype="float64")
    q, v = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 4, 3))
    layer(q, v)
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)
    assert sd.gradcheck(lambda a, b: layer(a, b, value_mask=mask, use_causal_mask=True), [q, v])


def test_mha_rank4_attends_over_all_middle_axes():
    rng = np.random.default_rng(9)
    q, v = rng.normal(size=(2, 2, 3, 4)).astype("float32"), rng.normal(size=(2, 3, 2, 4)).astype("float32")
    layer = MultiHeadAttention(2, 3)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (2, 2, 3, 4) and scores.shape == (2, 2, 2, 3, 3, 2)
    flat = layer(q.reshape(2, 6, 4), v.reshape(2, 6, 4)).numpy()
    np.testing.assert_allclose(out.numpy().reshape(2, 6, 4), flat, rtol=1e-5, atol=1e-6)


def test_mha_dropout_training_only_and_scores_before_dropout():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 4, 6)).astype("float32")
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=3)
    plain, scores = layer(x, x, return_attention_scores=True)
    np.testing.assert_allclose(layer(x, x).numpy(), plain.numpy(), rtol=1e-5, atol=1e-6)
    trained, t_scores = layer(x, x, return_attention_scores=True, training=True)
    assert not np.allclose(trained.numpy(), plain.numpy())
    np.testing.assert_allclose(t_scores.numpy(), scores.numpy(), rtol=1e-6)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1, rtol=1e-5)


def test_mha_keyword_call_functional_model_save_and_scores(tmp_path):
    inp = layers.Input((5, 8))
    mha = MultiHeadAttention(num_heads=2, key_dim=4)
    out, scores = mha(query=inp, value=inp, key=inp, return_attention_scores=True)
    assert out.shape == (None, 5, 8) and scores.shape == (None, 2, 5, 5)
    causal = mha(inp, inp, use_causal_mask=True)
    model = sd.models.Model(inp, [out, scores, causal])
    x = np.random.default_rng(11).normal(size=(3, 5, 8)).astype("float32")
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got[1].sum(-1), 1, rtol=1e-5)
    assert not np.allclose(got[2], got[0])  # the causal call differs from the full one
    np.testing.assert_allclose(got[2][:, 0], mha(x[:, :1], x[:, :1]).numpy()[:, 0], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "mha.shendu")
    loaded = sd.models.load_model(tmp_path / "mha.shendu")
    for a, b in zip(loaded.predict(x, verbose=0), got):
        np.testing.assert_array_equal(a, b)


def test_mha_config_round_trip_keeps_keras_keys():
    layer = MultiHeadAttention(4, 8, value_dim=6, dropout=0.1, output_shape=(10,), seed=2, name="mha")
    config = json.loads(json.dumps(layer.get_config()))
    for key in ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape", "attention_axes",
                "kernel_initializer", "bias_initializer", "seed"):
        assert key in config
    assert config["output_shape"] == [10] and config["value_dim"] == 6
    assert MultiHeadAttention.from_config(config).get_config() == config


def test_mha_errors():
    x = np.zeros((2, 3, 4), "float32")
    with pytest.raises(NotImplementedError, match="attention_axes"):
        MultiHeadAttention(2, 2, attention_axes=(2,))(np.zeros((2, 3, 4, 5), "float32"),
                                                        np.zeros((2, 3, 4, 5), "float32"))
    MultiHeadAttention(2, 2, attention_axes=1)(x, x)  # the default, spelled out, is accepted
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="rank >= 3"):
        MultiHeadAttention(2, 2)(np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32"))
    layer = MultiHeadAttention(2, 2)
    layer(x, x)
    with pytest.raises(ValueError, match="expected query with last axis 4"):
        layer(np.zeros((2, 3, 5), "float32"), x)
    with pytest.raises(ValueError, match="attention_mask of shape"):
        layer(x, x, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(TypeError, match="layer\\(query, value"):
        layer(x)



def test_keras_masks_carried_by_the_inputs_are_used_and_passed_on():
    from shendu.keras_mask import get_keras_mask, set_keras_mask

    rng = np.random.default_rng(12)
    q = sd.Tensor(rng.normal(size=(2, 3, 4)).astype("float32"))
    v = sd.Tensor(rng.normal(size=(2, 5, 4)).astype("float32"))
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], bool)
    mha = MultiHeadAttention(2, 2)
    explicit = mha(q, v, query_mask=q_mask, value_mask=v_mask).numpy()
    set_keras_mask(q, q_mask)
    set_keras_mask(v, v_mask)
    implicit = mha(q, v)
    np.testing.assert_array_equal(implicit.numpy(), explicit)
    np.testing.assert_array_equal(get_keras_mask(implicit), q_mask)
    att = Attention()
    out = att([q, v])
    np.testing.assert_array_equal(out.numpy(), att([q, v], mask=[q_mask, v_mask]).numpy())
    np.testing.assert_array_equal(get_keras_mask(out), q_mask)
    assert np.all(out.numpy()[0, 2] == 0)
