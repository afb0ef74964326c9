"""KerasTuner's `keras_tuner.tuners` names (aliases)."""

from shendu.tuner.bayesian import BayesianOptimization
from shendu.tuner.grid_search import GridSearch
from shendu.tuner.hyperband import Hyperband
from shendu.tuner.random_search import RandomSearch
from shendu.tuner.tuner import Tuner

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch", "Tuner"]
