"""Optimizer behaviour around the update rules: defaults, apply_gradients, clipping, learning rates and decay,
weight decay, EMA, gradient accumulation, loss scaling, state round trips, lookup and serialization."""

import json
import math
import warnings

import numpy as np
import pytest

from shendu import optimizers, schedules
from shendu.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop
from shendu.tensor import Tensor
from shendu.variable import Variable

from .harness import problem, run


# --- defaults ----------------------------------------------------------------------------------------------
def test_keras_defaults():
    a = Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad, a.name) == (0.001, 0.9, 0.999, 1e-7, False,
                                                                                   "adam")
    s = SGD()
    assert (s.learning_rate, s.momentum, s.nesterov) == (0.01, 0.0, False)
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    assert (AdamW().weight_decay, AdamW().learning_rate) == (0.004, 0.001)
    assert (Adagrad().learning_rate, Adagrad().initial_accumulator_value, Adagrad().epsilon) == (0.001, 0.1, 1e-7)
    assert (Adadelta().learning_rate, Adadelta().rho, Adadelta().epsilon) == (0.001, 0.95, 1e-7)
    for cls in (Adamax, Nadam):
        o = cls()
        assert (o.learning_rate, o.beta_1, o.beta_2, o.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    assert Adam().weight_decay is None and Adam().clipnorm is None


# --- apply_gradients behaviour -----------------------------------------------------------------------------
def test_updates_in_place_and_counts_iterations():
    v = Variable(np.ones((4, 3), dtype=np.float32))
    buf = v.data
    opt = Adam(learning_rate=0.1)
    assert int(opt.iterations) == 0
    ret = opt.apply_gradients([(np.ones((4, 3), np.float32), v)])
    opt.apply([Tensor(np.ones((4, 3), np.float32))], [v])
    assert v.data is buf and v.dtype == np.float32
    assert int(opt.iterations) == 2 and ret is opt.iterations and opt.iterations.dtype == np.int64
    assert not np.allclose(buf, 1.0)


def test_gradient_arrays_are_never_modified():
    for opt in (Adam(clipnorm=0.1), SGD(momentum=0.9, clipvalue=0.01), RMSprop(global_clipnorm=0.1),
                Nadam(weight_decay=0.1), Adadelta()):
        v = Variable(np.ones(5, dtype=np.float32))
        g = np.linspace(-3, 3, 5).astype(np.float32)
        g0 = g.copy()
        for _ in range(3):
            opt.apply_gradients([(g, v)])
        np.testing.assert_array_equal(g, g0)


def test_none_gradients_are_skipped_and_all_none_raises():
    a, b = Variable(np.ones(3, np.float32), name="a"), Variable(np.ones(3, np.float32), name="b")
    opt = SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match=r"\['b'\]"):
        opt.apply_gradients([(np.ones(3, np.float32), a), (None, b)])
    np.testing.assert_allclose(a.data, 0.5)
    np.testing.assert_allclose(b.data, 1.0)
    with pytest.raises(ValueError, match="no gradients provided"):
        opt.apply_gradients([(None, a), (None, b)])


def test_gradient_dtype_is_cast_and_shape_checked():
    v = Variable(np.ones(3, np.float32), name="dense/kernel")
    SGD(learning_rate=1.0).apply_gradients([(np.full(3, 0.5, np.float64), v)])
    assert v.dtype == np.float32
    np.testing.assert_allclose(v.data, 0.5)
    with pytest.raises(ValueError, match=r"dense/kernel.*\(4,\).*\(3,\)"):
        SGD().apply_gradients([(np.ones(4, np.float32), v)])


def test_apply_without_variables_uses_built_list():
    vs = [Variable(np.ones(2, np.float32)), Variable(np.ones(3, np.float32))]
    opt = SGD(learning_rate=1.0)
    with pytest.raises(ValueError, match="built on 0 variables"):
        opt.apply([np.ones(2, np.float32)])
    opt.build(vs)
    opt.apply([np.ones(2, np.float32), np.ones(3, np.float32)])
    np.testing.assert_allclose(vs[1].data, 0.0)


def test_scalar_variable():
    v = Variable(np.float32(2.0))
    Adam(learning_rate=0.5).apply_gradients([(np.float32(1.0), v)])
    np.testing.assert_allclose(v.data, 1.5, rtol=1e-5)


class _ConstrainedVariable(Variable):
    """A Variable that can carry a `constraint` (as layers' add_weight sets)."""


def test_constraint_is_applied_after_the_update():
    v = _ConstrainedVariable(np.array([0.5, -0.5], np.float32))
    v.constraint = lambda w: np.maximum(w, 0.0)
    SGD(learning_rate=1.0).apply_gradients([(np.array([1.0, 1.0], np.float32), v)])
    np.testing.assert_allclose(v.data, [0.0, 0.0])
    v.constraint = lambda w: Tensor(w * 0 + 7)
    SGD(learning_rate=1.0).apply_gradients([(np.zeros(2, np.float32), v)])
    np.testing.assert_allclose(v.data, [7.0, 7.0])


# --- clipping ----------------------------------------------------------------------------------------------
def test_clipnorm_clipvalue_global_clipnorm():
    def clipped(**kw):
        vs = [Variable(np.zeros(2)), Variable(np.zeros(1))]
        SGD(learning_rate=-1.0, **kw).apply_gradients(zip([np.array([100.0, 100.0]), np.array([0.5])], vs))
        return [v.data for v in vs]

    a, b = clipped(clipnorm=1.0)
    np.testing.assert_allclose(a, [2**0.5 / 2] * 2)
    np.testing.assert_allclose(b, [0.5])  # under the norm: unchanged
    a, b = clipped(clipvalue=1.0)
    np.testing.assert_allclose(a, [1.0, 1.0])
    np.testing.assert_allclose(b, [0.5])
    a, b = clipped(global_clipnorm=2.0)
    norm = math.sqrt(2 * 100.0**2 + 0.25)
    np.testing.assert_allclose(a, [200.0 / norm] * 2)
    np.testing.assert_allclose(b, [1.0 / norm])
    a, b = clipped(global_clipnorm=1000.0)
    np.testing.assert_allclose(a, [100.0, 100.0])
    with pytest.raises(ValueError, match="only one of"):
        SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm"):
        SGD(clipnorm=-1.0)


# --- learning rate, legacy decay, schedules ----------------------------------------------------------------
def test_legacy_decay_and_lr_alias():
    v = Variable(np.zeros(1))
    with pytest.warns(DeprecationWarning, match="lr"):
        opt = SGD(lr=0.1, decay=0.5)
    for _ in range(4):
        opt.apply_gradients([(np.ones(1), v)])
    expected = -sum(0.1 / (1 + 0.5 * t) for t in range(4))
    np.testing.assert_allclose(v.data, [expected])
    assert opt.learning_rate == 0.1 and opt.lr == 0.1
    assert optimizers.deserialize(optimizers.serialize(opt)).decay == 0.5


def test_learning_rate_schedule_setter_and_callable():
    sched = schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    opt = SGD(learning_rate=sched)
    v = Variable(np.zeros(1))
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(1), v)])
    assert seen == [1.0, 1.0, 0.5, 0.25]
    np.testing.assert_allclose(v.data, [-2.75])
    opt.learning_rate = 0.125  # a float replaces the schedule (e.g. ReduceLROnPlateau)
    opt.apply_gradients([(np.ones(1), v)])
    np.testing.assert_allclose(v.data, [-2.875])
    assert opt.get_config()["learning_rate"] == 0.125
    opt.learning_rate = lambda: 0.5
    assert opt.learning_rate == 0.5 and opt.get_config()["learning_rate"] == 0.5
    opt.lr = 0.01
    assert opt.learning_rate == 0.01
    with pytest.raises(TypeError, match="learning_rate"):
        SGD(learning_rate="fast")


# --- weight decay ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(optimizers.ALL_OPTIMIZERS))
def test_weight_decay_and_exclusions(name):
    """Keras's test: w = 2 with zero gradient, decay 0.004 at lr 1 applied by three optimizers -> 2 * 0.996**3."""
    g = np.zeros((), np.float32)
    var1, var2, var3 = (Variable(np.float32(2.0), name=n) for n in ("var1", "exclude", "var3"))
    cfg = {"learning_rate": 1.0, "weight_decay": 0.004}
    opt1 = optimizers.get({"class_name": name, "config": cfg})
    opt1.apply_gradients(zip([g], [var1]))
    opt2 = optimizers.get({"class_name": name, "config": cfg})
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients(zip([g, g], [var1, var2]))
    opt3 = optimizers.get({"class_name": name, "config": cfg})
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients(zip([g, g], [var1, var3]))
    np.testing.assert_allclose(var1.data, 1.9760959, atol=1e-6)
    np.testing.assert_allclose(var2.data, 2.0)
    np.testing.assert_allclose(var3.data, 2.0)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt3.exclude_from_weight_decay(var_names=["x"])


def test_adamw_requires_weight_decay():
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=None)


# --- EMA, gradient accumulation, loss scaling --------------------------------------------------------------
def test_ema_average_and_finalize():
    v = Variable(np.zeros(2), name="w")
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    values = []
    for _ in range(3):
        opt.apply_gradients([(np.ones(2), v)])
        values.append(v.data[0])
    assert values == [-1.0, -2.0, -3.0]
    avg = -1.0  # first step: average = w; then 0.5 * average + 0.5 * w
    for w in values[1:]:
        avg = 0.5 * avg + 0.5 * w
    np.testing.assert_allclose(opt.get_state()["w/average"], [avg, avg])
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.data, [avg, avg])
    v2 = Variable(np.zeros(1))
    opt2 = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt2.apply_gradients([(np.ones(1), v2)])
    opt2.apply_gradients([(np.ones(1), v2)])  # second step: w = -2, average = -1.5, overwritten
    np.testing.assert_allclose(v2.data, [-1.5])


def test_gradient_accumulation_equals_mean_gradient():
    w0, grads = problem(4, seed=3)
    acc = run(Adam(learning_rate=0.1, gradient_accumulation_steps=2), w0, grads)
    means = [[(a + b) / 2 for a, b in zip(grads[i], grads[i + 1])] for i in (0, 2)]
    ref = run(Adam(learning_rate=0.1), w0, means)
    for a, r in zip(acc, ref):
        np.testing.assert_allclose(a, r, rtol=1e-12)
    opt = Adam(gradient_accumulation_steps=2)
    run(opt, w0, grads[:3])
    assert int(opt.iterations) == 1


def test_loss_scale_factor_divides_gradients():
    v = Variable(np.zeros(1))
    opt = SGD(learning_rate=1.0, loss_scale_factor=8.0)
    assert opt.scale_loss(2.0) == 16.0
    opt.apply_gradients([(np.array([8.0]), v)])
    np.testing.assert_allclose(v.data, [-1.0])


# --- state -------------------------------------------------------------------------------------------------
STATE_CASES = [("sgd", {"momentum": 0.9, "nesterov": True}), ("rmsprop", {"centered": True, "momentum": 0.3}),
               ("adam", {"amsgrad": True}), ("adamw", {}), ("adagrad", {}), ("adadelta", {}), ("adamax", {}),
               ("nadam", {}), ("adam", {"use_ema": True}), ("sgd", {"learning_rate": 0.3})]


@pytest.mark.parametrize(("name", "cfg"), STATE_CASES, ids=[f"{n}-{sorted(c)}" for n, c in STATE_CASES])
@pytest.mark.parametrize("build_first", [False, True])
def test_state_round_trip_resumes_exactly(name, cfg, build_first, version):
    w0, grads = problem(4, seed=5, dtype=np.float32)
    first = optimizers.get({"class_name": name, "config": cfg})
    vs = [Variable(w.copy(), name=f"dense/w{i}") for i, w in enumerate(w0)]
    for gs in grads[:3]:
        first.apply_gradients(zip(gs, vs))
    first.learning_rate = first.learning_rate * 0.5  # as ReduceLROnPlateau would
    state = first.get_state()
    assert int(state["iterations"]) == 3
    assert all(isinstance(a, np.ndarray) for a in state.values())
    saved = {k: a.copy() for k, a in state.items()}
    second = optimizers.get(optimizers.serialize(first))
    vs2 = [Variable(v.data.copy(), name=v.name) for v in vs]
    if build_first:
        second.build(vs2)
    second.set_state(saved)
    assert second.learning_rate == first.learning_rate and int(second.iterations) == 3
    first.apply_gradients(zip(grads[3], vs))
    second.apply_gradients(zip(grads[3], vs2))
    for a, b in zip(vs, vs2):
        np.testing.assert_array_equal(a.data, b.data)
    for key, value in first.get_state().items():
        np.testing.assert_array_equal(value, second.get_state()[key])


def test_state_keys_and_copies():
    v = Variable(np.zeros(3, np.float32), name="dense/kernel")
    twin = Variable(np.zeros(2, np.float32), name="dense/kernel")
    opt = Adam(amsgrad=True)
    opt.apply_gradients([(np.ones(3, np.float32), v), (np.ones(2, np.float32), twin)])
    state = opt.get_state()
    assert set(state) == {"iterations", "learning_rate"} | {
        f"{n}/{s}" for n in ("dense/kernel", "dense/kernel_1") for s in ("momentum", "velocity", "velocity_hat")}
    state["dense/kernel/momentum"][...] = 99.0
    assert not np.any(opt.get_state()["dense/kernel/momentum"] == 99.0)


def test_set_state_errors():
    v = Variable(np.zeros(3, np.float32), name="k")
    opt = Adam()
    opt.apply_gradients([(np.ones(3, np.float32), v)])
    good = opt.get_state()
    with pytest.raises(ValueError, match="iterations"):
        Adam().set_state({"k/momentum": np.zeros(3)})
    bad = dict(good, **{"k/momentum": np.zeros(4)})
    with pytest.raises(ValueError, match=r"'k/momentum' has shape \(4,\).*\(3,\)"):
        opt.set_state(bad)
    with pytest.raises(ValueError, match=r"unknown variables.*other/momentum"):
        opt.set_state(dict(good, **{"other/momentum": np.zeros(3)}))
    partial = {k: a for k, a in good.items() if k != "k/velocity"}
    with pytest.raises(ValueError, match=r"lacks entries.*k/velocity"):
        opt.set_state(partial)
    fresh = Adam()
    fresh.set_state(dict(good, **{"other/momentum": np.zeros(3)}))
    with pytest.raises(ValueError, match=r"unknown variables.*other/momentum"):
        fresh.build([Variable(np.zeros(3, np.float32), name="k")])


def test_state_from_unbuilt_optimizer_loads_into_built_one():
    v = Variable(np.zeros(3, np.float32), name="k")
    opt = Adam()
    opt.build([v])
    opt.set_state(Adam().get_state())  # saved before training: only iterations and learning rate
    assert int(opt.iterations) == 0


# --- lookup and serialization ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam"])
def test_get_by_name(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name
    assert type(optimizers.get(name.upper())) is type(opt)


def test_get_passthrough_and_errors():
    opt = Adam()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'.*adadelta, adagrad, adam, adamax"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="could not interpret"):
        optimizers.get(3)
    with pytest.raises(ValueError, match=r"not recognized.*beta1"):
        Adam(beta1=0.9)


CONFIG_CASES = [
    SGD(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
    RMSprop(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True, clipnorm=2.0),
    Adam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True, global_clipnorm=1.0),
    AdamW(learning_rate=0.5, weight_decay=0.008, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
    Adagrad(learning_rate=0.5, initial_accumulator_value=0.2, epsilon=1e-5, clipvalue=0.5),
    Adadelta(learning_rate=0.5, rho=0.9, epsilon=1e-5, use_ema=True, ema_momentum=0.9),
    Adamax(learning_rate=0.5, beta_1=0.8, beta_2=0.95, epsilon=1e-5, name="my_adamax"),
    Nadam(learning_rate=schedules.ExponentialDecay(0.1, 1000, 0.96), beta_1=0.5, beta_2=0.67),
]


@pytest.mark.parametrize("opt", CONFIG_CASES, ids=lambda o: type(o).__name__)
def test_config_round_trip_through_json(opt):
    d = json.loads(json.dumps(optimizers.serialize(opt)))
    assert d["class_name"] == type(opt).__name__
    clone = optimizers.deserialize(d)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()


def test_config_has_keras_keys_and_schedule():
    cfg = Nadam(learning_rate=schedules.CosineDecay(0.1, 100)).get_config()
    assert cfg["learning_rate"] == {"class_name": "CosineDecay", "config": schedules.CosineDecay(0.1, 100).get_config()}
    assert set(Adam().get_config()) == {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
        "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps",
        "beta_1", "beta_2", "epsilon", "amsgrad"}


def test_deserialize_tf_keras2_config_and_custom_objects():
    legacy = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.01, "decay": 0.0, "beta_1": 0.9,
                                               "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False,
                                               "is_legacy_optimizer": False, "jit_compile": False}}
    assert optimizers.get(legacy).learning_rate == 0.01

    class MySGD(SGD):
        pass

    d = optimizers.serialize(MySGD(learning_rate=0.2))
    with pytest.raises(ValueError, match="unknown optimizer 'MySGD'"):
        optimizers.deserialize(d)
    assert type(optimizers.deserialize(d, custom_objects={"MySGD": MySGD})) is MySGD


def test_unknown_variable_type_and_warning_once():
    with pytest.raises(TypeError, match="expected Variables"):
        SGD().apply_gradients([(np.ones(2), np.ones(2))])
    a, b = Variable(np.ones(1)), Variable(np.ones(1))
    opt = SGD()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            opt.apply_gradients([(np.ones(1), a), (None, b)])
    assert len(caught) == 1
