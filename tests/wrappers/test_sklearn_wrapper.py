"""Keras 3's keras.wrappers names: SKLearnClassifier (one-hot targets), SKLearnRegressor, SKLearnTransformer."""

import numpy as np
import pytest

from shendu import keras
from shendu.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer
from tests.wrappers.helpers import blobs, regression


def dynamic_model(X, y, loss, layers=(10,)):  # noqa: N803 (Keras calls model(X=X, y=y))
    """Keras's documented example: input and output sizes from the data."""
    hidden = inputs = keras.Input(shape=(X.shape[1],))
    for size in layers:
        hidden = keras.layers.Dense(size, activation="relu")(hidden)
    n_outputs = y.shape[1] if len(y.shape) > 1 else 1
    activation = "softmax" if loss == "categorical_crossentropy" else None
    model = keras.Model(inputs, keras.layers.Dense(n_outputs, activation=activation)(hidden))
    model.compile(loss=loss, optimizer=keras.optimizers.Adam(0.05))
    return model


def test_classifier_one_hot_encodes_and_decodes_labels():
    X, y = blobs(90)
    labels = np.array(["a", "b", "c"])[y]
    clf = SKLearnClassifier(dynamic_model, model_kwargs={"loss": "categorical_crossentropy", "layers": [8]},
                            fit_kwargs={"epochs": 20, "verbose": 0, "batch_size": 16})
    clf.fit(X, labels)
    assert list(clf.classes_) == ["a", "b", "c"] and clf.model_.output_shape == (None, 3)
    raw = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[raw.argmax(1)])
    assert clf.score(X, labels) == pytest.approx(np.mean(clf.predict(X) == labels)) and clf.score(X, labels) > 0.8
    assert clf.get_params() == {"model": dynamic_model, "warm_start": False,
                                "model_kwargs": {"loss": "categorical_crossentropy", "layers": [8]},
                                "fit_kwargs": {"epochs": 20, "verbose": 0, "batch_size": 16}}
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(dynamic_model).fit(X, np.zeros(90))


def test_regressor_clones_a_compiled_model_and_keeps_the_targets_shape():
    X, y = regression()
    model = dynamic_model(X, y, "mse", layers=())
    reg = SKLearnRegressor(model, fit_kwargs={"epochs": 30, "verbose": 0, "batch_size": 16}).fit(X, y)
    assert reg.model_ is not model and reg.predict(X).shape == (60,) and reg.score(X, y) > 0.9
    uncompiled = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(RuntimeError, match="needs to be compiled"):
        SKLearnRegressor(uncompiled).fit(X, y)


def test_transformer_returns_the_models_outputs():
    X, y = regression()
    model = dynamic_model(X, y, "mse", layers=(4,))
    trs = SKLearnTransformer(model, fit_kwargs={"epochs": 1, "verbose": 0})
    out = trs.fit_transform(X, y)
    np.testing.assert_allclose(out, trs.model_.predict(X, verbose=0))
    with pytest.raises(ValueError, match="expecting 3 features"):
        trs.transform(X[:, :2])


def test_in_a_pipeline_and_cross_val_score(sklearn):
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = blobs()
    clf = SKLearnClassifier(dynamic_model, model_kwargs={"loss": "categorical_crossentropy"},
                            fit_kwargs={"epochs": 2, "verbose": 0})
    assert clone(clf).get_params()["model_kwargs"] == clf.model_kwargs
    assert cross_val_score(make_pipeline(StandardScaler(), clf), X, y, cv=3).shape == (3,)
