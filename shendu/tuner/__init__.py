"""Hyperparameter search with KerasTuner's API: `import shendu.tuner as kt` and follow a KerasTuner tutorial.

`HyperParameters` (Int, Float, Choice, Boolean, Fixed, conditional scopes), a `build_model(hp)` function or a
`HyperModel`, and the tuners `GridSearch` and `RandomSearch` (NumPy alone), `BayesianOptimization` and
`Hyperband` (optuna's TPE sampler and Hyperband pruner: `pip install 'shendu[tune]'`). A search is kept in
`directory/project_name` and continues where it stopped; `plot_trials` draws its progress.
"""

from shendu.tuner import errors, oracles, tuners
from shendu.tuner.bayesian import BayesianOptimization
from shendu.tuner.grid_search import GridSearch
from shendu.tuner.hyperband import Hyperband
from shendu.tuner.hypermodel import HyperModel
from shendu.tuner.hyperparameters import HyperParameters
from shendu.tuner.objective import Objective
from shendu.tuner.oracle import Oracle
from shendu.tuner.plot import plot_trials
from shendu.tuner.random_search import RandomSearch
from shendu.tuner.trial import Trial, TrialStatus
from shendu.tuner.tuner import Tuner

__all__ = [
    "BayesianOptimization", "GridSearch", "HyperModel", "HyperParameters", "Hyperband", "Objective", "Oracle",
    "RandomSearch", "Trial", "TrialStatus", "Tuner", "errors", "oracles", "plot_trials", "tuners",
]
