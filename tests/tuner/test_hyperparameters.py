"""HyperParameters: each kind's values, sampling and bounds, conditional scopes and the config round trip."""

import math

import numpy as np
import pytest

import shendu.tuner as kt
from shendu.tuner import hp_types


def test_int_values_bounds_and_sampling_follow_keras_tuner():
    hp = kt.HyperParameters()
    assert hp.Int("layers", 6, 12) == 6  # the default is min_value
    space = {p.name: p for p in hp.space}
    assert list(space["layers"].values) == [6, 7, 8, 9, 10, 11, 12]
    assert list(hp_types.Int("n", 6, 13, step=3).values) == [6, 9, 12]
    assert list(hp_types.Int("b", 2, 32, step=2, sampling="log").values) == [2, 4, 8, 16, 32]
    probs = np.linspace(0, 0.999999, 701)
    linear = [hp_types.Int("n", 6, 12).prob_to_value(p) for p in probs]
    assert set(linear) == set(range(6, 13)) and min(linear) == 6 and max(linear) == 12
    counts = np.bincount(linear)[6:]
    assert counts.min() >= 99 and counts.max() <= 101  # uniform over the 7 values
    log = hp_types.Int("u", 1, 1000, sampling="log")
    assert log.prob_to_value(0.0) == 1 and log.prob_to_value(0.999999) == 1000
    assert log.prob_to_value(0.5) == 31  # int(a ((b + 1) / a)^p) = int(1001^0.5)


def test_float_linear_log_and_step():
    lin = hp_types.Float("dropout", 0.0, 0.5)
    assert lin.prob_to_value(0.0) == 0.0 and lin.prob_to_value(0.5) == pytest.approx(0.25)
    log = hp_types.Float("lr", 1e-4, 1e-1, sampling="log")
    assert log.prob_to_value(0.5) == pytest.approx(math.sqrt(1e-4 * 1e-1))
    assert log.value_to_prob(1e-2) == pytest.approx(2 / 3)
    assert list(hp_types.Float("r", 0, 1, step=0.2).values) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert list(hp_types.Float("lr", 0.001, 10, step=10, sampling="log").values) == pytest.approx(
        [0.001, 0.01, 0.1, 1, 10])
    rev = hp_types.Float("m", 0.1, 0.999, sampling="reverse_log")
    assert rev.prob_to_value(0.0) == pytest.approx(0.1) and rev.prob_to_value(1.0) == pytest.approx(0.999)
    for kind in (lin, log, rev):
        draws = [kind.random_sample(seed) for seed in range(200)]
        assert min(draws) >= kind.min_value and max(draws) <= kind.max_value
        assert kind.prob_to_value(kind.value_to_prob(draws[0])) == pytest.approx(draws[0])


def test_choice_boolean_fixed():
    hp = kt.HyperParameters()
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Choice("units", [16, 32, 64], default=32) == 32
    assert hp.Boolean("bn") is False
    assert hp.Fixed("opt", "adam") == "adam"
    choice = hp_types.Choice("units", [16, 32, 64])
    assert choice.ordered is True and hp_types.Choice("a", ["x", "y"]).ordered is False
    assert sorted({choice.random_sample(s) for s in range(100)}) == [16, 32, 64]
    assert {hp_types.Boolean("b").random_sample(s) for s in range(100)} == {True, False}
    assert hp.values == {"act": "relu", "units": 32, "bn": False, "opt": "adam"}
    assert hp.get("units") == 32 and hp["act"] == "relu" and "bn" in hp and "nope" not in hp


@pytest.mark.parametrize("make, match", [
    (lambda hp: hp.Int("n", 5, 1), "min_value 5 is greater than max_value 1"),
    (lambda hp: hp.Int("n", 1, 5, step=1.5), "step must be an int"),
    (lambda hp: hp.Float("lr", 0.0, 1.0, sampling="log"), "min_value > 0"),
    (lambda hp: hp.Float("lr", 0.1, 1.0, sampling="cubic"), "sampling must be one of"),
    (lambda hp: hp.Float("lr", 0.1, 1.0, step=1, sampling="log"), "must be > 1"),
    (lambda hp: hp.Choice("c", []), "non-empty list"),
    (lambda hp: hp.Choice("c", [1, "a"]), "one type"),
    (lambda hp: hp.Choice("c", [1, 2], default=3), "not one of the values"),
    (lambda hp: hp.Choice("c", ["a", "b"], ordered=True), "numeric"),
    (lambda hp: hp.Boolean("b", default=3), "True or False"),
])
def test_bad_arguments_are_refused_with_the_name(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(kt.HyperParameters())


def test_conditional_scope_values_only_for_active_children():
    hp = kt.HyperParameters()
    kind = hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["mlp"]):
        units = hp.Int("units", 8, 64, step=8)
    with hp.conditional_scope("model", "cnn"):
        filters = hp.Int("filters", 4, 16, step=4)
    assert (kind, units, filters) == ("mlp", 8, None)
    assert hp.values == {"model": "mlp", "units": 8}
    with pytest.raises(ValueError, match="inactive"):
        hp.get("filters")
    with pytest.raises(KeyError, match="does not exist"):
        hp.get("depth")
    with pytest.raises(ValueError, match="no hyperparameter named 'missing'"), hp.conditional_scope("missing", [1]):
        pass
    hp.values = {"model": "cnn"}
    hp.ensure_active_values()
    assert set(hp.values) == {"model", "filters"} and hp.values["filters"] in (4, 8, 12, 16)


def test_name_scope_and_config_round_trip():
    hp = kt.HyperParameters()
    with hp.name_scope("block1"):
        hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2)
    hp.Choice("opt", ["adam", "sgd"])
    with hp.conditional_scope("opt", ["sgd"]):
        hp.Float("momentum", 0.0, 0.9)
    copy = kt.HyperParameters.from_config(hp.get_config())
    assert copy.values == hp.values == {"block1/dropout": 0.2, "opt": "adam"}
    assert [repr(p) for p in copy.space] == [repr(p) for p in hp.space]
    assert copy.space[2].conditions[0].values == ["sgd"]
    copy.values["opt"] = "sgd"
    assert copy.is_active("momentum") and not hp.is_active("momentum")
