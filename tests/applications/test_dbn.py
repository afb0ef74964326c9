"""DBN: greedy layer-wise pre-training, conversion to a Keras model, fine-tuning, files and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shendu as sd
from shendu.applications.dbn import DBN
from shendu.applications.rbm import RBM
from shendu.models import load_model

PROTOTYPES = np.array([[1] * 6 + [0] * 6, [0] * 6 + [1] * 6, [1, 0] * 6, [0, 1] * 6], dtype=np.float32)


def labelled(n: int = 400, seed: int = 0, flip: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(PROTOTYPES), n)
    x = PROTOTYPES[y]
    return np.where(rng.random(x.shape) < flip, 1 - x, x).astype(np.float32), y


def test_pretrain_is_greedy_layer_by_layer() -> None:
    x, _ = labelled()
    dbn = DBN([12, 6, 4], learning_rate=0.1, batch_size=20, seed=10).pretrain(x, epochs=[3, 2], verbose=0)
    first, second = RBM(6, batch_size=20, seed=10), RBM(4, batch_size=20, seed=11)
    first.build(12)
    second.build(6)
    first.fit(x, epochs=3, verbose=0)
    second.fit(first.transform(x), epochs=2, verbose=0)
    for ours, ref in zip(dbn.rbms, (first, second)):
        for a, b in zip(ours.get_weights(), ref.get_weights()):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(dbn.transform(x), second.transform(first.transform(x)), rtol=1e-6)


def test_to_model_carries_the_rbm_weights_and_fine_tunes() -> None:
    x, y = labelled(600)
    dbn = DBN([12, 8, 6], batch_size=20, seed=0).pretrain(x, epochs=10, verbose=0)
    features = dbn.to_model()
    assert [layer.units for layer in features.layers] == [8, 6]
    np.testing.assert_allclose(features.predict(x, verbose=0), dbn.transform(x), rtol=1e-5, atol=1e-6)
    sd.random.seed(0)
    model = dbn.to_model(num_classes=4)
    assert model.layers[-1].units == 4 and model.layers[0].activation.__name__ == "sigmoid"
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], dbn.rbms[0].W)
    np.testing.assert_array_equal(model.layers[1].get_weights()[1], dbn.rbms[1].hidden_bias)
    model.compile(optimizer=sd.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    x_test, y_test = labelled(200, seed=1)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.95


def test_pretrained_features_separate_the_classes_before_fine_tuning() -> None:
    x, y = labelled(600)
    dbn = DBN([12, 8], batch_size=20, seed=0).pretrain(x, epochs=15, verbose=0)
    h = dbn.transform(x)
    centroids = np.stack([h[y == c].mean(0) for c in range(4)])
    nearest = np.abs(h[:, None, :] - centroids[None]).sum(-1).argmin(1)
    assert (nearest == y).mean() > 0.9


def test_sample_runs_top_down() -> None:
    x, _ = labelled(200)
    dbn = DBN([12, 8, 4], batch_size=20, seed=0).pretrain(x, epochs=2, verbose=0)
    samples = dbn.sample(5, steps=10, seed=0)
    assert samples.shape == (5, 12) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, dbn.sample(5, steps=10, seed=0))


def test_save_and_load(tmp_path) -> None:
    x, _ = labelled(100)
    dbn = DBN([12, 6, 4], batch_size=20, seed=3).pretrain(x, epochs=1, verbose=0)
    dbn.save(tmp_path / "dbn.safetensors")
    again = DBN.load(tmp_path / "dbn.safetensors")
    assert again.get_config() == dbn.get_config()
    np.testing.assert_array_equal(again.transform(x), dbn.transform(x))
    model = dbn.to_model(num_classes=4)
    model.save(tmp_path / "dbn.shendu")
    again = load_model(tmp_path / "dbn.shendu")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    rbm_file = tmp_path / "rbm.safetensors"
    dbn.rbms[0].save(rbm_file)
    with pytest.raises(ValueError, match="not a DBN"):
        DBN.load(rbm_file)


def test_bad_arguments_are_named(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(ValueError, match="at least two positive integers"):
        DBN([784])
    dbn = DBN([12, 6, 4])
    with pytest.raises(ValueError, match="one per RBM"):
        dbn.pretrain(labelled(20)[0], epochs=[1, 2, 3], verbose=0)
    with pytest.raises(ValueError, match=r"rows of 12 features.*\(5, 7\)"):
        dbn.transform(np.zeros((5, 7)))
    dbn.pretrain(labelled(40)[0].reshape(40, 3, 4), epochs=1, verbose=1)  # images are flattened
    assert "RBM 2/2: 6 -> 4" in capsys.readouterr().out
