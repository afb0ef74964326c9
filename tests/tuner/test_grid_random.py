"""GridSearch and RandomSearch (NumPy alone): the grid is exactly the product of the values, random search
repeats itself with a seed and never repeats a set of values."""

import itertools

import pytest

import shendu.tuner as kt
from shendu.tuner.grid_search import GridSearchOracle
from shendu.tuner.random_search import RandomSearchOracle
from tests.tuner.problems import Grid, Quadratic


def test_grid_tries_exactly_the_product_once(tmp_path):
    model = Grid()
    tuner = kt.GridSearch(model, objective=kt.Objective("score", "min"), directory=tmp_path, project_name="g")
    tuner.search(verbose=0)
    assert sorted(model.calls) == sorted(itertools.product([1, 2, 3], [10, 20, 30, 40]))
    assert len(set(model.calls)) == 12
    assert model.calls[:3] == [(1, 10), (1, 20), (1, 30)]  # defaults first, the last hyperparameter fastest
    best = tuner.get_best_hyperparameters(2)
    assert [hp.values for hp in best] == [{"a": 1, "b": 10}, {"a": 1, "b": 20}]
    assert tuner.oracle.get_best_trials()[0].score == pytest.approx(2.0)


def test_grid_with_steps_and_a_conditional_branch():
    space = kt.HyperParameters()
    space.Float("dropout", 0.0, 0.4, step=0.2)
    space.Choice("opt", ["adam", "sgd"])
    with space.conditional_scope("opt", ["sgd"]):
        space.Choice("momentum", [0.0, 0.9])
    oracle = GridSearchOracle(objective="val_loss", hyperparameters=space)
    seen, values = [], oracle.populate_space("0")["values"]
    while values is not None:
        seen.append(tuple(sorted(values.items())))
        values = oracle._get_next_combination(values)
    expected = [(("dropout", d), ("opt", "adam")) for d in (0.0, 0.2, 0.4)]
    expected += [(("dropout", d), ("momentum", m), ("opt", "sgd")) for d in (0.0, 0.2, 0.4) for m in (0.0, 0.9)]
    assert sorted(seen) == sorted(expected) and len(seen) == 9


def test_grid_max_trials_caps_the_search(tmp_path):
    model = Grid()
    kt.GridSearch(model, objective=kt.Objective("score", "min"), max_trials=5, directory=tmp_path).search(verbose=0)
    assert len(model.calls) == 5


def _random_values(seed, tmp_path, name, n=8):
    model = Quadratic()
    tuner = kt.RandomSearch(model, max_trials=n, seed=seed, directory=tmp_path, project_name=name)
    tuner.search(verbose=0)
    return model.calls


def test_random_search_repeats_with_a_seed_and_differs_without(tmp_path):
    first = _random_values(7, tmp_path, "a")
    assert first == _random_values(7, tmp_path, "b")
    assert first != _random_values(8, tmp_path, "c")
    assert all(0.0 <= c["x"] <= 1.0 and c["units"] in (4, 16, 64) for c in first)
    assert len({tuple(c.values()) for c in first}) == 8


def test_random_search_stops_when_the_space_is_exhausted(tmp_path):
    space = kt.HyperParameters()
    space.Boolean("flag")
    space.Choice("k", [1, 2])
    oracle = RandomSearchOracle(objective="val_loss", max_trials=10, seed=1, hyperparameters=space)
    oracle._set_project_dir(str(tmp_path), "r")
    values = []
    while (trial := oracle.create_trial("t")).status == kt.TrialStatus.RUNNING:
        values.append(tuple(trial.hyperparameters.values.values()))
        oracle.update_trial(trial.trial_id, {"val_loss": 1.0})
        trial.status = kt.TrialStatus.COMPLETED
        oracle.end_trial(trial)
    assert sorted(values) == sorted(itertools.product([False, True], [1, 2]))
