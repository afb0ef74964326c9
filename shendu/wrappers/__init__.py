"""scikit-learn wrappers: a shendu model as an estimator for GridSearchCV, cross_val_score and Pipeline.

`KerasClassifier` and `KerasRegressor` follow SciKeras (routed parameters such as `model__units`,
`optimizer__learning_rate`, `fit__epochs`); `SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` are
Keras 3's `keras.wrappers`. They import and run with NumPy alone; scikit-learn (`pip install 'shendu[sklearn]'`)
is what uses them.
"""

from shendu.wrappers.classifier import KerasClassifier
from shendu.wrappers.regressor import KerasRegressor
from shendu.wrappers.sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["KerasClassifier", "KerasRegressor", "SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
