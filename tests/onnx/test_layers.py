"""Each layer family exported alone (in a small model) and run in ONNX Runtime against `predict`."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import Input, Model, Sequential, layers
from tests.onnx.harness import check_export, floats, token_ids

ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "gelu", "elu", "selu", "softplus", "softsign", "swish", "silu",
               "leaky_relu", "hard_sigmoid", "hard_silu", "exponential", "linear", "relu6", "log_softmax", "mish"]


def _seq(shape, *stack, dtype=None):
    return Sequential([layers.Input(shape, dtype=dtype), *stack])


CASES = {
    "dense_rank3": (lambda: _seq((4, 6), layers.Dense(5, activation="tanh")), floats(4, 6)),
    "dense_no_bias": (lambda: _seq((6,), layers.Dense(3, use_bias=False)), floats(6)),
    "conv1d_same_strided": (lambda: _seq((11, 3), layers.Conv1D(4, 3, strides=2, padding="same")), floats(11, 3)),
    "conv1d_causal_dilated": (lambda: _seq((10, 2), layers.Conv1D(3, 3, padding="causal", dilation_rate=2)),
                              floats(10, 2)),
    "conv2d_same_strided": (lambda: _seq((9, 8, 3), layers.Conv2D(4, (3, 2), strides=2, padding="same",
                                                                  activation="elu")), floats(9, 8, 3)),
    "conv2d_dilated_groups": (lambda: _seq((10, 10, 4), layers.Conv2D(6, 3, dilation_rate=2, groups=2)),
                              floats(10, 10, 4)),
    "conv2d_dynamic_size": (lambda: _seq((None, None, 2), layers.Conv2D(3, 3, padding="same", strides=2),
                                         layers.GlobalMaxPooling2D()), floats(9, 7, 2)),
    "conv2d_transpose_valid": (lambda: _seq((5, 4, 3), layers.Conv2DTranspose(2, 3, strides=2)), floats(5, 4, 3)),
    "conv2d_transpose_same": (lambda: _seq((5, 4, 3), layers.Conv2DTranspose(2, (3, 4), strides=2, padding="same")),
                              floats(5, 4, 3)),
    "conv2d_transpose_output_padding": (lambda: _seq((4, 4, 2), layers.Conv2DTranspose(
        3, 3, strides=3, output_padding=1, padding="same")), floats(4, 4, 2)),
    "conv2d_transpose_small_kernel": (lambda: _seq((4, 3, 2), layers.Conv2DTranspose(3, 2, strides=3)),
                                      floats(4, 3, 2)),
    "depthwise_conv2d": (lambda: _seq((8, 8, 3), layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                                                        activation="relu")), floats(8, 8, 3)),
    "separable_conv2d": (lambda: _seq((8, 8, 3), layers.SeparableConv2D(5, 3, strides=2, depth_multiplier=2)),
                         floats(8, 8, 3)),
    "max_pool1d_same": (lambda: _seq((9, 3), layers.MaxPooling1D(2, padding="same")), floats(9, 3)),
    "avg_pool1d": (lambda: _seq((9, 3), layers.AveragePooling1D(3, strides=2)), floats(9, 3)),
    "max_pool2d_strided": (lambda: _seq((9, 9, 2), layers.MaxPooling2D(3, strides=2)), floats(9, 9, 2)),
    "avg_pool2d_same": (lambda: _seq((7, 7, 2), layers.AveragePooling2D(3, strides=2, padding="same")),
                        floats(7, 7, 2)),
    "global_pools": (lambda: _seq((5, 6, 3), layers.GlobalAveragePooling2D(keepdims=True), layers.Flatten()),
                     floats(5, 6, 3)),
    "global_pools_1d": (lambda: _seq((5, 3), layers.GlobalMaxPooling1D()), floats(5, 3)),
    "layer_norm_two_axes": (lambda: _seq((4, 5), layers.LayerNormalization(axis=[-2, -1])), floats(4, 5)),
    "rms_norm": (lambda: _seq((6,), layers.LayerNormalization(rms_scaling=True)), floats(6)),
    "relu_options": (lambda: _seq((8,), layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.3)), floats(8)),
    "relu_max": (lambda: _seq((8,), layers.ReLU(max_value=0.5)), floats(8)),
    "leaky_prelu_elu": (lambda: _seq((3, 4), layers.LeakyReLU(0.2), layers.PReLU(alpha_initializer="ones",
                                                                                  shared_axes=[1]),
                                     layers.ELU(0.5)), floats(3, 4)),
    "softmax_axis": (lambda: _seq((3, 4), layers.Softmax(axis=1)), floats(3, 4)),
    "reshape_permute_repeat": (lambda: _seq((12,), layers.Reshape((3, -1)), layers.Permute((2, 1)), layers.Flatten(),
                                            layers.RepeatVector(2)), floats(12)),
    "zero_padding_cropping": (lambda: _seq((6, 5, 2), layers.ZeroPadding2D(((1, 2), (0, 1))),
                                           layers.Cropping2D(((2, 0), (1, 1)))), floats(6, 5, 2)),
    "padding_cropping_1d": (lambda: _seq((6, 2), layers.ZeroPadding1D(2), layers.Cropping1D((1, 3))), floats(6, 2)),
    "upsampling_nearest": (lambda: _seq((3, 4, 2), layers.UpSampling2D((2, 3))), floats(3, 4, 2)),
    "upsampling_bilinear": (lambda: _seq((3, 4, 2), layers.UpSampling2D(2, interpolation="bilinear")),
                            floats(3, 4, 2)),
    "upsampling_1d": (lambda: _seq((3, 2), layers.UpSampling1D(3)), floats(3, 2)),
    "rescaling_normalization": (lambda: _seq((3,), layers.Rescaling(1 / 255, offset=-1),
                                             layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25])),
                                floats(3)),
    "normalization_invert": (lambda: _seq((3,), layers.Normalization(mean=2.0, variance=9.0, invert=True)),
                             floats(3)),
    "inference_identities": (lambda: _seq((4, 3), layers.Dropout(0.5), layers.SpatialDropout1D(0.5),
                                          layers.GaussianNoise(1.0), layers.GaussianDropout(0.3)), floats(4, 3)),
    "embedding_flatten": (lambda: _seq((5,), layers.Embedding(20, 3), layers.Flatten(), dtype="int64"),
                          token_ids(5, 20, pad=False)),
    "masking_lstm": (lambda: _seq((6, 3), layers.Masking(0.0), layers.LSTM(4, return_sequences=True)),
                     floats(6, 3)),
    "lstm_sequences_backwards": (lambda: _seq((7,), layers.Embedding(30, 4, mask_zero=True),
                                              layers.LSTM(5, return_sequences=True, go_backwards=True), dtype="int64"),
                                 token_ids(7, 30)),
    "lstm_hard_sigmoid": (lambda: _seq((5, 3), layers.LSTM(4, recurrent_activation="hard_sigmoid",
                                                           go_backwards=True)), floats(5, 3)),
    "gru_reset_before": (lambda: _seq((7,), layers.Embedding(30, 4, mask_zero=True),
                                      layers.GRU(5, reset_after=False, return_sequences=True), dtype="int64"),
                         token_ids(7, 30)),
    "gru_zero_output_for_mask": (lambda: _seq((7,), layers.Embedding(30, 4, mask_zero=True),
                                              layers.GRU(5, return_sequences=True, zero_output_for_mask=True),
                                              dtype="int64"),
                                 token_ids(7, 30)),
    "simple_rnn_relu_no_bias": (lambda: _seq((5, 3), layers.SimpleRNN(4, activation="relu", use_bias=False)),
                                floats(5, 3)),
    "stacked_lstm": (lambda: _seq((6, 3), layers.LSTM(4, return_sequences=True), layers.LSTM(3)), floats(6, 3)),
}

for mode in ("concat", "sum", "mul", "ave"):
    CASES[f"bidirectional_{mode}"] = (
        lambda mode=mode: _seq((7,), layers.Embedding(30, 4, mask_zero=True),
                               layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode=mode),
                               dtype="int64"),
        token_ids(7, 30))
for name in ACTIVATIONS:
    CASES[f"activation_{name}"] = (lambda name=name: _seq((3, 5), layers.Activation(name)), floats(3, 5))
    CASES[f"dense_activation_{name}"] = (lambda name=name: _seq((5,), layers.Dense(4, activation=name)), floats(5))


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer(onnx, onnxruntime, tmp_path, case):
    build, inputs = CASES[case]
    sd.random.seed(1)
    check_export(build(), inputs, onnx, onnxruntime, tmp_path)


def test_batch_normalization_uses_the_moving_statistics(onnx, onnxruntime, tmp_path):
    model = _seq((4, 4, 3), layers.BatchNormalization(epsilon=1e-3))
    rng = np.random.default_rng(0)
    model.layers[0].set_weights([rng.random(3) + 0.5, rng.standard_normal(3), rng.standard_normal(3),
                                 rng.random(3) + 0.1])
    check_export(model, floats(4, 4, 3), onnx, onnxruntime, tmp_path)


def _pair(batch):
    rng = np.random.default_rng(batch)
    return [rng.standard_normal((batch, 4, 3)).astype("float32"), rng.standard_normal((batch, 4, 3)).astype("float32")]


@pytest.mark.parametrize("merge", ["Subtract", "Multiply", "Average", "Maximum", "Minimum", "Add"])
def test_merge(onnx, onnxruntime, tmp_path, merge):
    a, b = Input((4, 3)), Input((4, 3))
    model = Model([a, b], getattr(layers, merge)()([a, b]))
    check_export(model, _pair, onnx, onnxruntime, tmp_path)


@pytest.mark.parametrize("axes,normalize", [((2, 2), False), ((1, 1), True), ((2, 2), True)])
def test_dot(onnx, onnxruntime, tmp_path, axes, normalize):
    a, b = Input((4, 3)), Input((4, 3))
    model = Model([a, b], layers.Dot(axes=axes, normalize=normalize)([a, b]))
    check_export(model, _pair, onnx, onnxruntime, tmp_path)


def test_lstm_states_in_and_out(onnx, onnxruntime, tmp_path):
    """An encoder's final states as a decoder's initial states (the seq2seq pattern)."""
    sd.random.seed(0)
    enc_in, dec_in = Input((5, 3)), Input((4, 2))
    _, h, c = layers.LSTM(6, return_state=True)(enc_in)
    out = layers.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], [out, h])

    def make(batch):
        rng = np.random.default_rng(batch)
        return [rng.standard_normal((batch, 5, 3)).astype("float32"),
                rng.standard_normal((batch, 4, 2)).astype("float32")]

    check_export(model, make, onnx, onnxruntime, tmp_path)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention(onnx, onnxruntime, tmp_path, causal):
    sd.random.seed(0)
    x = Input((6, 8))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5)(x, x, use_causal_mask=causal)
    check_export(Model(x, y), floats(6, 8), onnx, onnxruntime, tmp_path)


def test_cross_attention_with_mask_and_output_shape(onnx, onnxruntime, tmp_path):
    """Query and value of different lengths, an attention_mask input, a key of its own, output_shape."""
    sd.random.seed(0)
    q, v, k, m = Input((3, 4)), Input((5, 6)), Input((5, 2)), Input((3, 5), dtype="bool")
    out = layers.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=7)(q, v, key=k, attention_mask=m)
    model = Model([q, v, k, m], out)

    def make(batch):
        rng = np.random.default_rng(batch)
        mask = rng.random((batch, 3, 5)) < 0.7
        return [rng.standard_normal((batch, 3, 4)).astype("float32"),
                rng.standard_normal((batch, 5, 6)).astype("float32"),
                rng.standard_normal((batch, 5, 2)).astype("float32"), mask]

    check_export(model, make, onnx, onnxruntime, tmp_path)
