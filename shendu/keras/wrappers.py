"""keras.wrappers: Keras 3's scikit-learn wrappers, and SciKeras's KerasClassifier/KerasRegressor."""

from shendu.wrappers import KerasClassifier, KerasRegressor, SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["KerasClassifier", "KerasRegressor", "SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
