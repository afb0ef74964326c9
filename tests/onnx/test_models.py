"""Whole models exported to ONNX and run in ONNX Runtime: the tutorials' MLP and CNN, text classifiers with
recurrent layers and a Transformer encoder, a functional model with two inputs and two outputs, nested models."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.keras import Input, Model, Sequential, layers
from tests.onnx.harness import check_export, floats, token_ids


def test_mlp(onnx, onnxruntime, tmp_path):
    sd.random.seed(0)
    model = Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    check_export(model, floats(28, 28), onnx, onnxruntime, tmp_path)


def test_cnn(onnx, onnxruntime, tmp_path):
    sd.random.seed(0)
    model = Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, (3, 3), activation="relu"),
                        layers.MaxPooling2D((2, 2)), layers.Conv2D(16, (3, 3), activation="relu"),
                        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(32, activation="relu"),
                        layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    check_export(model, floats(28, 28, 1), onnx, onnxruntime, tmp_path)


@pytest.mark.parametrize("rnn", ["lstm", "gru", "simple_rnn", "bidirectional_lstm", "bidirectional_gru_sequences"])
def test_text_classifier(onnx, onnxruntime, tmp_path, rnn):
    """Embedding(mask_zero=True) + a recurrent layer + Dense, on ids padded before, after and inside."""
    sd.random.seed(0)
    recurrent = {
        "lstm": lambda: layers.LSTM(16),
        "gru": lambda: layers.GRU(16),
        "simple_rnn": lambda: layers.SimpleRNN(16),
        "bidirectional_lstm": lambda: layers.Bidirectional(layers.LSTM(8)),
        "bidirectional_gru_sequences": lambda: layers.Bidirectional(layers.GRU(8, return_sequences=True),
                                                                    merge_mode="sum"),
    }[rnn]
    stack = [layers.Input((12,), dtype="int64"), layers.Embedding(50, 8, mask_zero=True), recurrent()]
    if rnn.endswith("sequences"):
        stack.append(layers.GlobalAveragePooling1D())
    model = Sequential([*stack, layers.Dense(1, activation="sigmoid")])
    check_export(model, token_ids(12, 50, empty_row=not rnn.endswith("sequences")), onnx, onnxruntime, tmp_path)


def test_transformer_classifier(onnx, onnxruntime, tmp_path):
    """The model of examples/transformer_classifier.py (smaller): padded tokens stay out of the attention."""
    sd.random.seed(0)
    tokens = layers.Input((16,), dtype="int64")
    x = layers.TokenAndPositionEmbedding(100, 16, 16, mask_zero=True)(tokens)
    x = layers.TransformerEncoder(intermediate_dim=32, num_heads=2, dropout=0.1)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(20, activation="relu")(x)
    model = Model(tokens, layers.Dense(1, activation="sigmoid")(x))
    check_export(model, token_ids(16, 100, empty_row=False), onnx, onnxruntime, tmp_path)


def test_functional_two_inputs_two_outputs(onnx, onnxruntime, tmp_path):
    sd.random.seed(0)
    image = Input((8, 8, 3), name="image")
    meta = Input((5,), name="meta")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    x = layers.GlobalAveragePooling2D()(x)
    y = layers.Dense(4, activation="tanh")(meta)
    joined = layers.Concatenate()([x, y])
    label = layers.Dense(3, activation="softmax", name="label")(joined)
    score = layers.Dense(1, name="score")(layers.Add()([x, y]))
    model = Model([image, meta], [label, score])

    def make(batch):
        rng = np.random.default_rng(batch)
        return [rng.standard_normal((batch, 8, 8, 3)).astype("float32"),
                rng.standard_normal((batch, 5)).astype("float32")]

    proto = check_export(model, make, onnx, onnxruntime, tmp_path)
    assert [i.name for i in proto.graph.input] == ["image", "meta"]
    assert [o.name for o in proto.graph.output] == ["label", "score"]


def test_nested_models(onnx, onnxruntime, tmp_path):
    """A Sequential inside a functional model inside a Sequential, its layers converted in place."""
    sd.random.seed(0)
    block = Sequential([layers.Input((6,)), layers.Dense(8, activation="gelu"), layers.LayerNormalization()])
    inp = Input((6,))
    inner = Model(inp, layers.Dense(4)(block(inp)))
    model = Sequential([layers.Input((6,)), inner, layers.Activation("softmax")])
    check_export(model, floats(6), onnx, onnxruntime, tmp_path)


def test_model_export_method(onnx, onnxruntime, tmp_path):
    """Keras 3's spelling `model.export(path, format="onnx")` writes the same graph."""
    sd.random.seed(0)
    model = Sequential([layers.Input((4,)), layers.Dense(3, activation="relu")])
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx")
    x = np.random.default_rng(0).standard_normal((7, 4)).astype("float32")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_input_signature_fixes_a_dynamic_axis(onnx, onnxruntime, tmp_path):
    sd.random.seed(0)
    model = Sequential([layers.Input((None, 3)), layers.LSTM(4)])
    proto = check_export(model, floats(7, 3), onnx, onnxruntime, tmp_path, input_signature=[(None, 7, 3)])
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 7
