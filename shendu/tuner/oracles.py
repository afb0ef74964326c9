"""KerasTuner's `keras_tuner.oracles` names (aliases)."""

from shendu.tuner.bayesian import BayesianOptimizationOracle
from shendu.tuner.grid_search import GridSearchOracle
from shendu.tuner.hyperband import HyperbandOracle
from shendu.tuner.random_search import RandomSearchOracle

__all__ = ["BayesianOptimizationOracle", "GridSearchOracle", "HyperbandOracle", "RandomSearchOracle"]
