"""Targets to what the network trains on and back (SciKeras's target encoders, in NumPy).

A classifier's labels (ints, strings, anything np.unique sorts) become class indices 0..k-1 as float32 column
vectors, for `sparse_categorical_crossentropy` (k outputs) or `binary_crossentropy` (one sigmoid unit, two
classes); with `categorical_crossentropy` they become one-hot rows. Predictions go back: the argmax (or p > 0.5 for
one sigmoid unit) is looked up in `classes_`. `type_of_target` names y's kind as scikit-learn does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu import backend

CATEGORICAL = ("categorical_crossentropy", "cce", "CategoricalCrossentropy")


def type_of_target(y: Any) -> str:
    """'continuous', 'binary', 'multiclass', 'multilabel-indicator', '...-multioutput' or 'unknown' (sklearn's
    names and rules for the kinds the wrappers meet)."""
    y = np.asarray(y)
    if y.ndim > 2 or y.size == 0 or (y.ndim == 2 and y.shape[1] == 0):
        return "unknown"
    multi = y.ndim == 2 and y.shape[1] > 1
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        return "continuous-multioutput" if multi else "continuous"
    labels = np.unique(y)
    if multi:
        integral = y.dtype.kind in "biu" or (y.dtype.kind == "f" and np.all(labels == np.round(labels)))
        return "multilabel-indicator" if len(labels) < 3 and integral else "multiclass-multioutput"
    return "multiclass" if len(labels) > 2 else "binary"


def is_categorical_crossentropy(loss: Any) -> bool:
    """Whether `loss` wants one-hot targets (the name, the class, an instance or the function)."""
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)
    return name in CATEGORICAL


class ClassifierLabelEncoder:
    """Labels to class indices (or one-hot rows for categorical cross-entropy) and predictions back to labels."""

    def __init__(self, loss: Any = None, classes: Any = None) -> None:
        self.loss = loss
        self.classes = classes

    def fit(self, y: np.ndarray) -> ClassifierLabelEncoder:
        kind = type_of_target(y if self.classes is None or type_of_target(y) != "binary" else self.classes)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"KerasClassifier: unknown label type {kind!r}; binary, multiclass, one-hot and "
                             "multilabel-indicator targets are supported")
        self.y_shape_ = y.shape
        if kind == "multilabel-indicator" and y.min() == 0 and (y.sum(axis=1) == 1).all():
            kind = "multiclass-onehot"
        self.target_type_ = kind
        if kind in ("binary", "multiclass"):
            self.classes_ = np.unique(y) if self.classes is None else np.asarray(self.classes)
        else:
            self.classes_ = np.arange(y.shape[1])
        self.n_classes_ = len(self.classes_)
        self.one_hot_ = kind == "multiclass" and is_categorical_crossentropy(self.loss)
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        if self.target_type_ not in ("binary", "multiclass"):
            return y.astype(backend.floatx())
        flat = y.reshape(-1)
        index = np.searchsorted(self.classes_, flat)
        found = index < self.n_classes_
        found[found] = self.classes_[index[found]] == flat[found]
        if not found.all():
            raise ValueError(f"KerasClassifier: y contains labels not seen in fit: {np.unique(flat[~found])[:5]}")
        if self.one_hot_:
            return np.eye(self.n_classes_, dtype=backend.floatx())[index]
        return index.astype(backend.floatx()).reshape(-1, 1)

    def inverse_transform(self, outputs: np.ndarray, return_proba: bool = False) -> np.ndarray:
        """Labels for the network's outputs, or with return_proba the class probabilities (a single sigmoid
        column becomes the two columns [1 - p, p])."""
        outputs = np.asarray(outputs)
        if self.target_type_ == "binary" and (outputs.ndim == 1 or outputs.shape[1] == 1):
            outputs = np.column_stack([1 - outputs.reshape(-1), outputs.reshape(-1)])
        if self.target_type_ in ("binary", "multiclass") and outputs.shape[-1] != self.n_classes_:
            raise ValueError(f"KerasClassifier: the network has {outputs.shape[-1]} outputs but fit saw "
                             f"{self.n_classes_} classes {self.classes_}; give it one unit per class "
                             "(meta['n_classes_'] in the build function) or pass every class to partial_fit(classes=)")
        if return_proba:
            return outputs
        if self.target_type_ == "multilabel-indicator":
            return np.around(outputs).astype(int)
        index = np.argmax(outputs, axis=-1)
        if self.target_type_ == "multiclass-onehot":
            return np.eye(outputs.shape[1], dtype=int)[index]
        return self.classes_[index].reshape(-1, *self.y_shape_[1:])

    def default_loss(self, n_outputs: int) -> str:
        """The loss these targets need from a network with n_outputs units (when none was given)."""
        if self.target_type_ == "multilabel-indicator" or (self.target_type_ == "binary" and n_outputs == 1):
            return "binary_crossentropy"
        return "categorical_crossentropy" if self.target_type_ == "multiclass-onehot" else \
            "sparse_categorical_crossentropy"


class RegressorTargetEncoder:
    """Targets as float arrays; predictions reshaped to the targets' shape."""

    def fit(self, y: np.ndarray) -> RegressorTargetEncoder:
        self.y_shape_ = y.shape
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(f"KerasRegressor: y has {n_outputs} outputs (shape {y.shape}), the model was fitted on "
                             f"{self.n_outputs_}")
        return y if y.dtype.kind == "f" else y.astype(backend.floatx())

    def inverse_transform(self, outputs: np.ndarray) -> np.ndarray:
        return np.asarray(outputs).reshape(-1, *self.y_shape_[1:])


def compute_sample_weight(class_weight: Any, y: np.ndarray) -> np.ndarray:
    """Per-sample weights from {label: weight} or 'balanced' (n_samples / (n_classes * count of the label))."""
    labels, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"KerasClassifier: class_weight must be a dict or 'balanced', got {class_weight!r}")
        weights = len(y) / (len(labels) * counts)
    else:
        weights = np.array([float(class_weight.get(label.item(), 1.0)) for label in labels])
    return weights[inverse.reshape(-1)]
