"""KerasClassifier: a shendu model as a scikit-learn classifier (SciKeras's names and behaviour).

Any labels (ints, strings) are encoded as class indices for the network and decoded in predict; `classes_`,
`n_classes_` and `target_type_` say what fit saw. With no loss and an uncompiled network, the loss follows the
targets and the output layer: binary_crossentropy for two classes and one sigmoid unit, sparse categorical
cross-entropy for k units (categorical when the labels are one-hot rows). `score` is the accuracy of predict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.wrappers.base import FIT_KWARGS, BaseWrapper
from shendu.wrappers.scores import accuracy_score
from shendu.wrappers.targets import ClassifierLabelEncoder, compute_sample_weight, type_of_target


class KerasClassifier(BaseWrapper):
    """scikit-learn classifier around a shendu model: `KerasClassifier(model=build, loss=..., model__units=64)`."""

    _estimator_type = "classifier"
    _fit_kwargs = FIT_KWARGS - {"class_weight"}  # turned into sample weights here

    def __init__(self, model: Any = None, *, build_fn: Any = None, warm_start: bool = False,
                 random_state: int | np.random.RandomState | None = None, optimizer: Any = "rmsprop",
                 loss: Any = None, metrics: Any = None, batch_size: int | None = None,
                 validation_batch_size: int | None = None, verbose: int = 1, callbacks: Any = None,
                 validation_split: float = 0.0, shuffle: bool = True, run_eagerly: bool = False, epochs: int = 1,
                 class_weight: dict | str | None = None, **kwargs: Any) -> None:
        super().__init__(model, build_fn=build_fn, warm_start=warm_start, random_state=random_state,
                         optimizer=optimizer, loss=loss, metrics=metrics, batch_size=batch_size,
                         validation_batch_size=validation_batch_size, verbose=verbose, callbacks=callbacks,
                         validation_split=validation_split, shuffle=shuffle, run_eagerly=run_eagerly, epochs=epochs,
                         **kwargs)
        self.class_weight = class_weight

    @staticmethod
    def scorer(y_true: Any, y_pred: Any, **kwargs: Any) -> float:
        """Accuracy, as sklearn's ClassifierMixin.score."""
        return accuracy_score(y_true, y_pred, **kwargs)

    @property
    def target_encoder(self) -> ClassifierLabelEncoder:
        return ClassifierLabelEncoder(loss=self.loss, classes=getattr(self, "_partial_classes", None))

    def _type_of_target(self, y: np.ndarray) -> str:
        kind = type_of_target(y)
        classes = getattr(self, "_partial_classes", None)
        return type_of_target(classes) if kind == "binary" and classes is not None else kind

    def _target_metadata(self) -> dict[str, Any]:
        encoder = self.target_encoder_
        return {"classes_": encoder.classes_, "n_classes_": encoder.n_classes_, "target_type_": encoder.target_type_,
                "n_outputs_": 1, "n_outputs_expected_": 1}

    def _default_loss(self, X: np.ndarray) -> str:
        shape = getattr(self.model_, "output_shape", None) if self.model_.built else None
        units = shape[-1] if isinstance(shape, tuple) else np.shape(self.model_.predict(X[:1], verbose=0))[-1]
        return self.target_encoder_.default_loss(units)

    def _with_class_weight(self, y: Any, sample_weight: Any) -> Any:
        if self.class_weight is None:
            return sample_weight
        weights = compute_sample_weight(self.class_weight, np.asarray(y))
        return weights if sample_weight is None else np.asarray(sample_weight, dtype=float) * weights

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> KerasClassifier:
        """Encode the labels, build a new network (unless warm_start) and train it."""
        self._partial_classes = None
        return super().fit(X, y, sample_weight=self._with_class_weight(y, sample_weight), **kwargs)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None,
                    **kwargs: Any) -> KerasClassifier:
        """One epoch on (X, y); `classes` lists every label of the whole data at the first call."""
        if classes is not None:
            self._partial_classes = np.asarray(classes)
        elif not self.initialized_:
            self._partial_classes = None
        return super().partial_fit(X, y, sample_weight=self._with_class_weight(y, sample_weight), **kwargs)

    def predict_proba(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Class probabilities, one column per class of `classes_` (two columns for one sigmoid unit)."""
        outputs = self._predict_raw(X, **kwargs)
        return self.target_encoder_.inverse_transform(outputs, return_proba=True)
