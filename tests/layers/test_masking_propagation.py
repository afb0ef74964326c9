"""Keras 3 mask propagation: masks from Embedding(mask_zero=True) and Masking pass through layers that support
masking (Dense, Dropout, normalizations, merges, ...) to the layers that use them (recurrent layers, pooling,
attention), in eager calls and in functional and Sequential models, and weigh masked steps zero in the loss."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu import layers
from shendu.keras_mask import get_keras_mask, set_keras_mask

IDS = np.array([[3, 5, 2, 7, 0, 0], [4, 1, 0, 0, 0, 0], [6, 2, 8, 1, 9, 3]])
LENGTHS = [4, 2, 6]
MASK = IDS != 0


def _embedding(seed: int = 0) -> layers.Embedding:
    emb = layers.Embedding(10, 4, mask_zero=True)
    emb.build((None, IDS.shape[1]))
    emb.set_weights([np.random.default_rng(seed).normal(size=(10, 4)).astype("float32")])
    return emb


def _with_padding_row(emb: layers.Embedding, value: float) -> None:
    """Give the padding id 0 another embedding: masked steps must not notice."""
    table = emb.get_weights()[0]
    table[0] = value
    emb.set_weights([table])


def test_dropout_between_embedding_and_lstm_passes_the_mask_on():
    emb, lstm = _embedding(), layers.LSTM(3)
    direct = lstm(emb(IDS), training=True).numpy()
    x = layers.Dropout(0.0)(emb(IDS), training=True)
    np.testing.assert_array_equal(get_keras_mask(x), MASK)
    np.testing.assert_allclose(lstm(x, training=True).numpy(), direct, rtol=1e-6)
    for i, n in enumerate(LENGTHS):  # the padded rows give what the unpadded sequences give
        np.testing.assert_allclose(lstm(emb(IDS[i:i + 1, :n]), training=True).numpy()[0], direct[i], rtol=1e-5,
                                   atol=1e-6)

    # a dropout that really draws (one draw per sample and feature, so both runs draw the same) makes a new
    # tensor: the mask must still reach the LSTM, which then ignores what the padding embeds to
    def run() -> np.ndarray:
        drop = layers.Dropout(0.5, noise_shape=(None, 1, None), seed=3)
        y = drop(emb(IDS), training=True)
        assert y is not emb(IDS)
        np.testing.assert_array_equal(get_keras_mask(y), MASK)
        return lstm(y, training=True).numpy()

    before = run()
    _with_padding_row(emb, 5.0)
    np.testing.assert_allclose(run(), before, rtol=1e-6)
    plain = layers.Embedding(10, 4)
    plain.build((None, 6))
    plain.set_weights(emb.get_weights())
    assert not np.allclose(lstm(plain(IDS)).numpy()[:2], before[:2], atol=1e-3)  # unmasked padding does matter


def test_global_average_pooling_after_a_masked_embedding_averages_the_real_steps():
    emb = _embedding(1)
    pooled = layers.GlobalAveragePooling1D()(emb(IDS))
    table = emb.get_weights()[0]
    expected = np.stack([table[IDS[i, :n]].mean(axis=0) for i, n in enumerate(LENGTHS)])
    np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6)
    assert get_keras_mask(pooled) is None  # the steps are pooled away
    kept = layers.GlobalAveragePooling1D(keepdims=True)(emb(IDS))
    np.testing.assert_allclose(kept.numpy()[:, 0], expected, rtol=1e-6)


def test_dense_between_embedding_and_lstm_keeps_the_mask():
    emb, dense, lstm = _embedding(2), layers.Dense(5, activation="tanh"), layers.LSTM(3, return_sequences=True)
    h = dense(emb(IDS))
    np.testing.assert_array_equal(get_keras_mask(h), MASK)
    out = lstm(h)
    np.testing.assert_array_equal(get_keras_mask(out), MASK)
    before = out.numpy()
    _with_padding_row(emb, -3.0)
    after = lstm(dense(emb(IDS))).numpy()
    for i, n in enumerate(LENGTHS):
        np.testing.assert_allclose(after[i, :n], before[i, :n], rtol=1e-6)
        np.testing.assert_allclose(after[i, n:], np.repeat(after[i, n - 1:n], 6 - n, axis=0), rtol=1e-6)


def _mean_over_real_steps(values: np.ndarray) -> np.ndarray:
    return np.stack([values[i, :n].mean(axis=0) for i, n in enumerate(LENGTHS)])


def test_functional_and_sequential_models_propagate_the_mask():
    inputs = sd.keras.Input((6,), dtype="int64")
    emb, dense = _embedding(3), layers.Dense(4)
    pooled = layers.GlobalAveragePooling1D()(layers.Dropout(0.2)(dense(emb(inputs))))
    functional = sd.keras.Model(inputs, pooled)
    sequential = sd.keras.Sequential([sd.keras.Input((6,), dtype="int64"), emb, layers.Dropout(0.2), dense,
                                      layers.GlobalAveragePooling1D()])
    kernel, bias = dense.get_weights()
    expected = _mean_over_real_steps(emb.get_weights()[0][IDS] @ kernel + bias)
    for model in (functional, sequential):
        np.testing.assert_allclose(model(IDS).numpy(), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.predict(IDS, verbose=0), expected, rtol=1e-5, atol=1e-6)
    seq_model = sd.keras.Sequential([sd.keras.Input((6,), dtype="int64"), emb, layers.LSTM(2, return_sequences=True)])
    np.testing.assert_array_equal(get_keras_mask(seq_model(IDS)), MASK)


def test_a_nested_model_keeps_the_mask_of_its_input(recwarn):
    emb = layers.Embedding(10, 4, mask_zero=True, dtype="float64")
    inner = sd.keras.Sequential([sd.keras.Input((6, 4)), layers.Dense(3), layers.LSTM(2, return_sequences=True)])
    inputs = sd.keras.Input((6,), dtype="int64")
    outer = sd.keras.Model(inputs, layers.Dense(1)(inner(emb(inputs))))
    x = emb(IDS)
    assert x.dtype == np.float64  # the inner model's input adaptation casts it to float32: the mask must stay
    np.testing.assert_array_equal(get_keras_mask(inner(x)), MASK)
    np.testing.assert_array_equal(get_keras_mask(outer(IDS)), MASK)
    assert not [w for w in recwarn if "mask" in str(w.message)]  # the models pass the mask on: nothing is lost


def test_a_layer_without_masking_support_drops_the_mask_with_a_warning():
    emb = _embedding()
    for layer in (layers.Flatten(), layers.Conv1D(2, 3), layers.GlobalMaxPooling1D()):  # as in Keras 3
        assert not layer.supports_masking
        with pytest.warns(UserWarning, match="does not support masking"):
            out = layer(emb(IDS))
        assert get_keras_mask(out) is None
    assert layers.Dense(2).supports_masking and layers.Dropout(0.1).supports_masking
    assert layers.LSTM(2).supports_masking and layers.Embedding(3, 2).supports_masking
    custom = layers.Flatten()
    custom.supports_masking = True  # a layer can opt in, as in Keras
    assert custom.supports_masking and not layers.Flatten().supports_masking


def test_recurrent_layers_return_the_mask_only_with_sequences():
    emb = _embedding()
    assert get_keras_mask(layers.GRU(2)(emb(IDS))) is None
    out, h = layers.GRU(2, return_sequences=True, return_state=True)(emb(IDS))
    np.testing.assert_array_equal(get_keras_mask(out), MASK)
    assert get_keras_mask(h) is None
    both = layers.Bidirectional(layers.LSTM(2, return_sequences=True))(layers.Dense(3)(emb(IDS)))
    np.testing.assert_array_equal(get_keras_mask(both), MASK)
    per_step = layers.TimeDistributed(layers.Dense(2))(emb(IDS))
    np.testing.assert_array_equal(get_keras_mask(per_step), MASK)


def test_merge_layers_combine_masks_as_keras():
    emb = _embedding()
    a, b = emb(IDS), layers.Dense(4)(emb(IDS[::-1]))
    np.testing.assert_array_equal(get_keras_mask(layers.Add()([a, b])), MASK | MASK[::-1])
    np.testing.assert_array_equal(get_keras_mask(layers.Average()([a, b])), MASK | MASK[::-1])
    unmasked = sd.Tensor(np.ones((3, 6, 4), "float32"))
    assert get_keras_mask(layers.Multiply()([a, unmasked])) is None  # OR needs every input's mask
    np.testing.assert_array_equal(get_keras_mask(layers.Concatenate()([a, unmasked])), np.ones((3, 6), bool))
    np.testing.assert_array_equal(get_keras_mask(layers.Concatenate()([a, b])), MASK | MASK[::-1])
    along_steps = layers.Concatenate(axis=1)([a, unmasked])
    np.testing.assert_array_equal(get_keras_mask(along_steps), np.concatenate([MASK, np.ones((3, 6), bool)], 1))


def test_lambda_follows_its_mask_argument():
    emb = _embedding()
    with pytest.warns(UserWarning, match="does not support masking"):
        dropped = layers.Lambda(lambda t: t * 2.0)(emb(IDS))
    assert get_keras_mask(dropped) is None
    kept = layers.Lambda(lambda t: t * 2.0, mask=lambda inputs, previous: previous)(emb(IDS))
    np.testing.assert_array_equal(get_keras_mask(kept), MASK)
    seen = []
    layers.Lambda(lambda t, mask=None: seen.append(mask) or t, mask=lambda i, m: m)(emb(IDS))
    np.testing.assert_array_equal(seen[0], MASK)
    fixed = np.ones((3, 6), bool)
    np.testing.assert_array_equal(get_keras_mask(layers.Lambda(lambda t: t + 1.0, mask=fixed)(emb(IDS))), fixed)
    rebuilt = layers.Lambda.from_config(layers.Lambda(sd.keras.activations.relu, mask=fixed).get_config())
    np.testing.assert_array_equal(rebuilt.mask, fixed)
    assert rebuilt.supports_masking


def test_softmax_passes_a_step_mask_on_and_applies_a_full_one():
    x = sd.Tensor(np.random.default_rng(5).normal(size=(3, 6, 4)).astype("float32"))
    set_keras_mask(x, MASK)
    y = layers.Softmax()(x)
    np.testing.assert_allclose(y.numpy(), layers.Softmax()(x.numpy()).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(get_keras_mask(y), MASK)
    keep = np.zeros((3, 6, 4), bool)
    keep[..., :2] = True
    np.testing.assert_allclose(layers.Softmax()(x, mask=keep).numpy()[..., 2:], 0.0, atol=1e-12)


def test_batch_normalization_leaves_masked_steps_out_of_the_batch_statistics():
    x = np.random.default_rng(6).normal(size=(3, 6, 4)).astype("float32")
    bn = layers.BatchNormalization(momentum=0.0, epsilon=1e-3)
    y = bn(x, mask=MASK, training=True).numpy()
    real = x[MASK]
    mean, var = real.mean(axis=0), real.var(axis=0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="one axis fewer"):
        bn(x, mask=np.ones((3, 6, 4), bool), training=True)


def _sequence_model() -> sd.keras.Model:
    inputs = sd.keras.Input((6,), dtype="int64")
    emb = _embedding(7)
    out = layers.Dense(1)(emb(inputs))
    model = sd.keras.Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def test_the_loss_and_mean_metrics_weigh_masked_steps_zero():
    model = _sequence_model()
    pred = model.predict(IDS, verbose=0)[..., 0]
    y = np.random.default_rng(8).normal(size=IDS.shape).astype("float32")
    loss, mae = model.evaluate(IDS, y, verbose=0)
    err = (pred - y)[MASK]
    np.testing.assert_allclose(loss, np.mean(err ** 2), rtol=1e-5)
    np.testing.assert_allclose(mae, np.mean(np.abs(err)), rtol=1e-5)
    y_other = np.where(MASK, y, 100.0)  # the targets at padded steps do not count
    np.testing.assert_allclose(model.evaluate(IDS, y_other, verbose=0), [loss, mae], rtol=1e-6)
    w = np.array([1.0, 2.0, 0.5], "float32")
    weighted = model.evaluate(IDS, y, sample_weight=w, verbose=0)[0]
    per_step = np.broadcast_to(w[:, None], IDS.shape)[MASK]
    np.testing.assert_allclose(weighted, np.sum(per_step * err ** 2) / MASK.sum(), rtol=1e-5)
    before = model.get_weights()
    model.train_on_batch(IDS, y)
    after_a = model.get_weights()
    model.set_weights(before)
    model.train_on_batch(IDS, y_other)  # the same update whatever the padded targets
    for a, b in zip(after_a, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_masks_read_and_set_as_keras_mask_attribute():
    """Keras code reads `tensor._keras_mask` (the masking guide prints it) and may set it."""
    out = layers.Embedding(10, 4, mask_zero=True)(np.array([[1, 2, 0, 0]]))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, True, False, False]])
    plain = sd.tensor([[1.0, 2.0]])
    assert plain._keras_mask is None
    plain._keras_mask = np.array([[True, False]])
    np.testing.assert_array_equal(plain._keras_mask.numpy(), [[True, False]])
    plain._keras_mask = None
    assert plain._keras_mask is None
