"""KerasRegressor: a shendu model as a scikit-learn regressor (SciKeras's names); `score` is R^2 of predict."""

from __future__ import annotations

from typing import Any

from shendu.wrappers.base import BaseWrapper
from shendu.wrappers.scores import r2_score
from shendu.wrappers.targets import RegressorTargetEncoder


class KerasRegressor(BaseWrapper):
    """scikit-learn regressor around a shendu model: `KerasRegressor(model=build, loss="mse", model__units=64)`."""

    _estimator_type = "regressor"

    @staticmethod
    def scorer(y_true: Any, y_pred: Any, **kwargs: Any) -> float:
        """The coefficient of determination R^2, as sklearn's RegressorMixin.score."""
        return r2_score(y_true, y_pred, **kwargs)

    @property
    def target_encoder(self) -> RegressorTargetEncoder:
        return RegressorTargetEncoder()

    def _validate_data(self, X: Any = None, y: Any = None, reset: bool = False,
                       y_numeric: bool = True) -> tuple[Any, Any]:
        return super()._validate_data(X, y, reset=reset, y_numeric=True)

    def _target_metadata(self) -> dict[str, Any]:
        return {"n_outputs_": self.target_encoder_.n_outputs_, "n_outputs_expected_": 1}
