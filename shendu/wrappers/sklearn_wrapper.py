"""Keras 3's own scikit-learn wrappers: `keras.wrappers.SKLearnClassifier`, `SKLearnRegressor`, `SKLearnTransformer`.

Their arguments are Keras's: `model` (a compiled Model, cloned with new weights at each fit unless warm_start, or a
function called as `model(X=X, y=y, **model_kwargs)` that returns a compiled Model), `warm_start`, `model_kwargs`,
`fit_kwargs` (merged with fit()'s own keywords, which win). The classifier one-hot encodes the labels (a network
with one softmax unit per class) and `classes_` lists them; the regressor trains on y as a column and returns
the predictions in y's shape; the transformer's `transform` is the network's output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.models import Model
from shendu.wrappers.estimator import Estimator, not_fitted
from shendu.wrappers.scores import accuracy_score, r2_score
from shendu.wrappers.targets import type_of_target


class SKLBase(Estimator):
    """What the three wrappers share (Keras's SKLBase)."""

    def __init__(self, model: Any, warm_start: bool = False, model_kwargs: dict | None = None,
                 fit_kwargs: dict | None = None) -> None:
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _get_model(self, X: np.ndarray, y: np.ndarray) -> Model:
        from shendu.models.cloning import clone_model

        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            return clone_model(self.model)
        model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: model must be a Model or return one; got {type(model).__name__}")
        return model

    def fit(self, X: Any, y: Any, **kwargs: Any) -> SKLBase:
        """Fit the model; keywords go to Model.fit (over fit_kwargs)."""
        X = _features(X, self, reset=True)
        y = self._process_target(np.asarray(y), reset=True)
        model = self._get_model(X, y)
        if not model.compiled or not model.loss or not model.optimizer:
            raise RuntimeError("Given model needs to be compiled, and have a loss and an optimizer.")
        history = model.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.history_ = history.history
        self.model_ = model
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions, in the targets' form."""
        if not hasattr(self, "model_"):
            raise not_fitted(self, "predict")
        return self._reverse_process_target(self.model_.predict(_features(X, self), verbose=0))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        if type_of_target(y) == "unknown":
            raise ValueError(f"{type(self).__name__}: unknown label type for y of shape {y.shape}")
        if reset:
            self._y_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return y[:, 0] if self._y_ndim == 1 and y.ndim == 2 and y.shape[1] == 1 else y


class SKLearnClassifier(SKLBase):
    """scikit-learn classifier for a Keras model with one softmax unit per class (Keras 3's wrapper)."""

    _estimator_type = "classifier"

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"Only binary and multiclass target types are supported. Target type: {kind}")
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        index = np.searchsorted(self.classes_, y.reshape(-1))
        return np.eye(len(self.classes_), dtype=np.float32)[index]

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(y, axis=1)]

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's raw outputs."""
        if not hasattr(self, "model_"):
            raise not_fitted(self, "decision_function")
        return self.model_.predict(_features(X, self), verbose=0)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of predict(X)."""
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


class SKLearnRegressor(SKLBase):
    """scikit-learn regressor for a Keras model (Keras 3's wrapper)."""

    _estimator_type = "regressor"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of predict(X)."""
        return r2_score(y, self.predict(X), sample_weight=sample_weight)


class SKLearnTransformer(SKLBase):
    """scikit-learn transformer whose transform is a Keras model's output, e.g. an embedding (Keras 3's wrapper)."""

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for X."""
        if not hasattr(self, "model_"):
            raise not_fitted(self, "transform")
        return self.model_.predict(_features(X, self), verbose=0)

    def fit_transform(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """fit(X, y) then transform(X)."""
        return self.fit(X, y, **kwargs).transform(X)


def _features(X: Any, estimator: Any, reset: bool = False) -> np.ndarray:
    X = np.asarray(X)
    name = type(estimator).__name__
    if X.ndim < 2:
        raise ValueError(f"{name}: expected a 2-D array X (samples, features), got shape {X.shape}")
    if reset:
        estimator.n_features_in_ = X.shape[1]
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting {estimator.n_features_in_} features "
                         "as input.")
    return X
