"""Round trips through real Keras 3 (skipped without TensorFlow): shendu-trained models saved as .keras and .h5
predict the same in Keras; Keras-made models load in shendu, predict the same and fine-tune."""

import numpy as np
import pytest

from shendu import keras as sk

rng = np.random.default_rng(0)


def _mlp(k):
    return k.Sequential([k.Input((6,)), k.layers.Dense(8, activation="relu"), k.layers.Dense(3, activation="softmax")])


def _cnn(k):
    return k.Sequential([k.Input((8, 8, 2)), k.layers.Conv2D(4, 3, padding="same", activation="relu"),
                         k.layers.BatchNormalization(), k.layers.MaxPooling2D(), k.layers.Flatten(),
                         k.layers.Dense(3, activation="softmax")])


def _lstm(k):
    return k.Sequential([k.Input((5,), dtype="int32"), k.layers.Embedding(12, 4), k.layers.LSTM(6),
                         k.layers.Dense(3, activation="softmax")])


def _functional(k):
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    h = k.layers.Concatenate()([k.layers.Dense(5, activation="tanh")(a), b])
    return k.Model([a, b], k.layers.Dense(3, activation="softmax")(h))


CASES = {"mlp": (_mlp, lambda: rng.normal(size=(6, 6)).astype("float32")),
         "cnn": (_cnn, lambda: rng.normal(size=(6, 8, 8, 2)).astype("float32")),
         "lstm": (_lstm, lambda: rng.integers(0, 12, (6, 5)).astype("int32")),
         "functional": (_functional, lambda: [rng.normal(size=(6, 4)).astype("float32"),
                                              rng.normal(size=(6, 3)).astype("float32")])}


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_shendu_to_keras(tensorflow, tmp_path, name, ext):
    import keras

    build, data = CASES[name]
    x, y = data(), np.array([0, 1, 2, 0, 1, 2])
    model = build(sk)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / f"m{ext}")
    other = keras.saving.load_model(tmp_path / f"m{ext}")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5, rtol=1e-5)
    other.fit(x, y, epochs=1, verbose=0)  # compiled from the file


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_to_shendu(tensorflow, tmp_path, name, ext):
    import keras

    build, data = CASES[name]
    x, y = data(), np.array([0, 1, 2, 0, 1, 2])
    model = build(keras)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / f"m{ext}")
    ours = sk.models.load_model(tmp_path / f"m{ext}")
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5, rtol=1e-5)
    before = ours.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    ours.fit(x, y, epochs=3, verbose=0)
    assert ours.evaluate(x, y, verbose=0, return_dict=True)["loss"] < before
