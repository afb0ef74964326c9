"""The update rules: the fast versions (in place, compiled) against the readable `_update`; Keras's own expected
values, one step worked by hand and PyTorch parity for every version (the `version` fixture)."""


import numpy as np
import pytest

from shendu import optimizers, parallel
from shendu.ops import kernels
from shendu.optimizers import Adam, Optimizer, compiled
from shendu.optimizers import optimizer as optimizer_module
from shendu.variable import Variable

from .harness import problem, run

CASES = [
    ("sgd", {}), ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("rmsprop", {}), ("rmsprop", {"centered": True, "learning_rate": 0.01}),
    ("rmsprop", {"momentum": 0.5, "rho": 0.8}), ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adam", {}), ("adam", {"amsgrad": True, "learning_rate": 0.05}),
    ("adam", {"beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5, "weight_decay": 0.1}),
    ("adamw", {"weight_decay": 0.004}), ("adamw", {"weight_decay": 0.05, "amsgrad": True, "learning_rate": 0.1}),
    ("adagrad", {}), ("adagrad", {"initial_accumulator_value": 0.3, "epsilon": 1e-6, "learning_rate": 0.2}),
    ("adadelta", {}), ("adadelta", {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6}),
    ("adamax", {}), ("adamax", {"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6}),
    ("nadam", {}), ("nadam", {"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}),
    ("nadam", {"weight_decay": 0.1, "use_ema": True}),
]
CASE_IDS = [f"{n}-{sorted(c)}" for n, c in CASES]
TOLERANCE = {np.float32: {"rtol": 2e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}


def _pair(name, cfg):
    """A readable optimizer and a fast one (in place, or compiled as the `compiled` fixture says)."""
    readable = optimizers.get({"class_name": name, "config": cfg})
    readable.readable = True
    return readable, optimizers.get({"class_name": name, "config": cfg})


def _assert_same_state(fast, readable, tolerance):
    state, want = fast.get_state(), readable.get_state()
    assert state.keys() == want.keys()
    for key, value in want.items():
        np.testing.assert_allclose(state[key], value, err_msg=key, **tolerance)


# --- the fast versions give the readable rule's values, slots included ----------------------------------------
@pytest.mark.parametrize(("name", "cfg"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_versions_match_readable_update(name, cfg, dtype, compiled):
    w0, grads = problem(6, dtype=dtype)
    readable, fast = _pair(name, cfg)
    want, got = run(readable, w0, grads), run(fast, w0, grads)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **TOLERANCE[dtype])
    _assert_same_state(fast, readable, TOLERANCE[dtype])
    assert not np.allclose(got[0], w0[0])  # the optimizer did move the weights


@pytest.mark.parametrize(("name", "cfg"), CASES, ids=CASE_IDS)
def test_fast_versions_match_readable_update_in_slices(name, cfg, compiled, monkeypatch):
    """A large variable is updated in slices on the threads; the slices give the whole array's values."""
    sliced = []
    monkeypatch.setattr(optimizer_module, "MIN_UPDATE_WORK", 1 << 15)  # slices of this 2^17 variable
    monkeypatch.setattr(optimizer_module, "MIN_PASSES_WORK", 1 << 15)
    in_slices = Optimizer._update_in_slices
    monkeypatch.setattr(Optimizer, "_update_in_slices", lambda self, *a: sliced.append(1) or in_slices(self, *a))
    with parallel.num_threads(2):
        w0, grads = problem(3, seed=2, shapes=[(1 << 17,)])
        readable, fast = _pair(name, cfg)
        want, got = run(readable, w0, grads), run(fast, w0, grads)
    assert sliced
    np.testing.assert_allclose(got[0], want[0], **TOLERANCE[np.float64])
    _assert_same_state(fast, readable, TOLERANCE[np.float64])


@pytest.mark.parametrize("shape", [(7, 5), (1 << 17,)])  # one piece, and slices on the threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_gives_the_inplace_values_bit_for_bit(shape, dtype, numba, monkeypatch):
    monkeypatch.setattr(optimizer_module, "MIN_UPDATE_WORK", 1 << 15)
    monkeypatch.setattr(optimizer_module, "MIN_PASSES_WORK", 1 << 15)
    calls = []
    loop, group = kernels.adam, compiled.adam_group
    monkeypatch.setattr(kernels, "adam", lambda *a: calls.append(1) or loop(*a))
    monkeypatch.setattr(compiled, "adam_group", lambda *a: calls.append(1) or group(*a))
    results = []
    for flag in (True, False):
        before = kernels.set_enabled(flag)
        try:
            rng = np.random.default_rng(3)
            var = Variable(rng.standard_normal(shape).astype(dtype), name="w")
            opt = Adam(0.01)
            for _ in range(3):
                opt.apply_gradients([(rng.standard_normal(shape).astype(dtype), var)])
        finally:
            kernels.set_enabled(before)
        results.append((var.numpy(), opt.get_state()))
    assert results[0][0].dtype == dtype and calls  # the compiled loop ran in the first pass
    (compiled_w, compiled_state), (inplace_w, inplace_state) = results
    np.testing.assert_array_equal(compiled_w, inplace_w)
    for key in ("w/momentum", "w/velocity"):
        np.testing.assert_array_equal(compiled_state[key], inplace_state[key])


def test_grouped_adam_gives_the_per_variable_values_bit_for_bit(numba, monkeypatch):
    """Small variables go to one compiled call per group of GROUP (tuples padded with empty arrays); more variables
    than a group, two dtypes, a Fortran-ordered and a large (sliced) variable each get the per-variable values."""
    monkeypatch.setattr(optimizer_module, "MIN_UPDATE_WORK", 1 << 15)
    groups = []
    group = compiled.adam_group
    monkeypatch.setattr(compiled, "adam_group", lambda *a: groups.append(len(a[1])) or group(*a))
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (5,), (), (2, 3, 2), *[(k + 1,) for k in range(compiled.GROUP)], (1 << 17,)]
    values = [rng.standard_normal(s).astype(np.float64 if i % 5 == 1 else np.float32) for i, s in enumerate(shapes)]
    values.append(np.asfortranarray(rng.standard_normal((4, 6)).astype(np.float32)))
    grads = [[rng.standard_normal(v.shape).astype(v.dtype) for v in values] for _ in range(3)]
    results = []
    monkeypatch.setattr(kernels, "_enabled", True)
    for grouped in (True, False):
        if not grouped:
            monkeypatch.setattr(Optimizer, "_flat_slots", lambda self, key, slots: None)  # no variable grouped
        variables = [Variable(v.copy(), name=f"w{i}") for i, v in enumerate(values)]
        opt = Adam(0.01)
        for step in grads:
            opt.apply_gradients(zip(step, variables))
        results.append(([v.numpy() for v in variables], opt.get_state()))
    assert groups and all(n == compiled.GROUP for n in groups)
    (w_group, s_group), (w_each, s_each) = results
    for a, b in zip(w_group, w_each):
        np.testing.assert_array_equal(a, b)
    assert s_group.keys() == s_each.keys()
    for key in s_each:
        np.testing.assert_array_equal(s_group[key], s_each[key])


@pytest.mark.parametrize("name", sorted(optimizers.ALL_OPTIMIZERS))
def test_fast_version_is_the_default_and_readable_is_a_switch(name, monkeypatch):
    def readable_ran(*args):
        raise AssertionError("the readable _update ran")

    opt = optimizers.get(name)
    monkeypatch.setattr(type(opt), "_update", readable_ran)
    v = Variable(np.ones(4), name="w")
    opt.apply_gradients([(np.ones(4), v)])
    opt.readable = True
    with pytest.raises(AssertionError, match="readable _update ran"):
        opt.apply_gradients([(np.ones(4), v)])


def test_optimizer_with_only_a_readable_rule():
    """A user's optimizer writes the formula alone (as Keras's `update_step`); `_step` runs it."""

    class SignSGD(Optimizer):
        def slot_names(self):
            return ("steps",)

        def _update(self, g, w, slots, lr, t):
            return w - lr * np.sign(g), {"steps": slots["steps"] + t}

    v = Variable(np.zeros(3), name="w")
    opt = SignSGD(learning_rate=0.5)
    for _ in range(2):
        opt.apply_gradients([(np.array([2.0, -3.0, 0.0]), v)])
    np.testing.assert_array_equal(v.data, [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(opt.get_state()["w/steps"], [3.0, 3.0, 3.0])


def test_subclass_overriding_the_rule_runs_its_own_rule():
    """A subclass that rewrites `_update` of a built-in optimizer is not given the parent's fast versions."""

    class HalfStepAdam(optimizers.Adam):
        def _update(self, g, w, slots, lr, t):
            new_w, new_slots = super()._update(g, w, slots, lr, t)
            return w + (new_w - w) / 2, new_slots

    w_half, w_full = Variable(np.zeros(3), name="w"), Variable(np.zeros(3), name="w")
    g = np.array([1.0, -2.0, 0.5])
    HalfStepAdam(learning_rate=0.1).apply_gradients([(g, w_half)])
    optimizers.Adam(learning_rate=0.1).apply_gradients([(g, w_full)])
    np.testing.assert_allclose(w_half.data, w_full.data / 2, rtol=1e-12)
    assert not np.allclose(w_full.data, 0)


# --- one step worked by hand, epsilon placed where Keras places it --------------------------------------------
HAND = [  # (name, config, gradient, weight after one step from 0)
    # v = 0.1 g^2 = 0.1; w -= 1 * 1 / sqrt(0.1 + 0.9)
    ("rmsprop", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 0.9}, 1.0, -1.0),
    # v = 0.5 * 4 = 2, a = 0.5 * 2 = 1; w -= 1 * 2 / sqrt(2 - 1 + 3)
    ("rmsprop", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 3.0, "centered": True}, 2.0, -1.0),
    # buffer = 0 + 1 * 2 / sqrt(0.5 * 4 + 2) = 1; w -= buffer
    ("rmsprop", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 2.0, "momentum": 0.5}, 2.0, -1.0),
    # m = 0.5, v = 0.25, alpha = sqrt(1 - 0.75) / (1 - 0.5) = 1; w -= 1 * 0.5 / (sqrt(0.25) + 0.5)
    ("adam", {"learning_rate": 1.0, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}, 1.0, -0.5),
    # as adam, then v_hat = max(0, v) = v
    ("adam", {"learning_rate": 1.0, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5, "amsgrad": True}, 1.0, -0.5),
    # accumulator = 0 + 1; w -= 1 * 1 / sqrt(1 + 3)
    ("adagrad", {"learning_rate": 1.0, "initial_accumulator_value": 0.0, "epsilon": 3.0}, 1.0, -0.5),
    # m = 0.5, u = max(0, 1) = 1; w -= 1 / (1 - 0.5) * 0.5 / (1 + 1)
    ("adamax", {"learning_rate": 1.0, "beta_1": 0.5, "beta_2": 0.5, "epsilon": 1.0}, 1.0, -0.5),
    # Eg2 = 0.5 * 16 = 8; delta = sqrt(0 + 1) / sqrt(8 + 1) * 4 = 4/3; w -= 1 * delta
    ("adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1.0}, 4.0, -4 / 3),
    # mu_1 = 0.5 * (1 - 0.5 * 0.96) = 0.26, mu_2 = 0.2696, m = 0.5, v_hat = 0.25 / (1 - 0.75) = 1
    ("nadam", {"learning_rate": 1.0, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}, 1.0,
     -(0.2696 * 0.5 / (1 - 0.26 * 0.2696) + 0.74 / (1 - 0.26)) / (1 + 0.5)),
    # velocity = -0.5 * 1; w += 0.5 * velocity - 0.5 * 1
    ("sgd", {"learning_rate": 0.5, "momentum": 0.5, "nesterov": True}, 1.0, -0.75),
]


@pytest.mark.parametrize(("name", "cfg", "g", "want"), HAND, ids=[f"{n}-{sorted(c)}" for n, c, _, _ in HAND])
def test_one_step_worked_by_hand(name, cfg, g, want, version):
    v = Variable(np.zeros(3), name="w")
    optimizers.get({"class_name": name, "config": cfg}).apply_gradients([(np.full(3, g), v)])
    np.testing.assert_allclose(v.data, want, rtol=1e-14)


@pytest.mark.parametrize("name", ["adam", "adamw", "nadam"])
def test_slots_hold_keras_moments(name, version):
    """Saved state means what Keras's does: "momentum" = m and "velocity" = v, the plain moving averages."""
    w0, grads = problem(4, seed=4, shapes=[(6,)])
    opt = optimizers.get({"class_name": name, "config": {"beta_1": 0.8, "beta_2": 0.9}})
    run(opt, w0, grads)
    m = v = 0.0
    for (g,) in grads:
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g**2
    state = opt.get_state()
    np.testing.assert_allclose(state["w0/momentum"], m, rtol=1e-13)
    np.testing.assert_allclose(state["w0/velocity"], v, rtol=1e-13)


def test_amsgrad_slot_holds_the_running_max_of_velocity(version):
    w0, grads = problem(5, seed=6, shapes=[(8,)])
    grads[3] = [np.zeros(8)]  # velocity falls: velocity_hat keeps its maximum
    opt = Adam(beta_2=0.5, amsgrad=True)
    v = vmax = 0.0
    for (g,) in grads:
        v = 0.5 * v + 0.5 * g**2
        vmax = np.maximum(vmax, v)
    run(opt, w0, grads)
    state = opt.get_state()
    np.testing.assert_allclose(state["w0/velocity"], v, rtol=1e-13)
    np.testing.assert_allclose(state["w0/velocity_hat"], vmax, rtol=1e-13)
    assert np.any(state["w0/velocity_hat"] > state["w0/velocity"])


# --- Keras's own expected values (keras/src/optimizers/*_test.py), float32 -------------------------------
SINGLE_STEP = {
    "adam": [0.5, 1.5, 2.5, 3.5], "adamw": [0.4980, 1.4960, 2.494, 3.492], "nadam": [0.4686, 1.4686, 2.4686, 3.4686],
    "rmsprop": [-0.5811, 0.4189, 1.4189, 2.4189], "sgd": [0.5, -1.0, -0.5, 3.0], "adamax": [0.5, 1.5, 2.5, 3.5],
    "adagrad": [0.5233, 1.5007, 2.5005, 3.5061], "adadelta": [0.9993, 1.9993, 2.9993, 3.9993],
}


@pytest.mark.parametrize("name", sorted(SINGLE_STEP))
def test_keras_single_step(name, version):
    opt = optimizers.get({"class_name": name, "config": {"learning_rate": 0.5}})
    v = Variable(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32))
    opt.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0], dtype=np.float32)], [v]))
    assert v.dtype == np.float32
    np.testing.assert_allclose(v.data, SINGLE_STEP[name], rtol=1e-4, atol=1e-4)


GOLDEN = {
    "adam": ({"amsgrad": True}, np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10))),
    "rmsprop": ({"centered": True}, np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10))),
    "adadelta": ({"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6},
                 np.tile([[0.9978], [0.9947], [0.9915], [0.9882], [0.9849]], (1, 10))),
    "sgd": ({"nesterov": True}, np.array([
        [0.9999] * 10,
        [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
        [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
        [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
        [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599]])),
    "adamw": ({"learning_rate": 1.0, "weight_decay": 0.5, "epsilon": 2}, np.array([
        [0.4998] * 10,
        [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
        [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
        [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
        [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]])),
    "nadam": ({"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}, np.array([
        [0.4281] * 10,
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]])),
    "adamax": ({"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6}, np.array([
        [0.8] * 10,
        [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
        [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
        [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
        [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]])),
    "adagrad": ({"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-6}, np.array([
        [0.9963] * 10,
        [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
        [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
        [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
        [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]])),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_keras_golden_sequence(name, version):
    cfg, golden = GOLDEN[name]
    opt = optimizers.get({"class_name": name, "config": cfg})
    x = Variable(np.ones(10, dtype=np.float32))
    grads = np.arange(1, 11, dtype=np.float32) / 10
    opt.apply_gradients([(np.full(10, 0.01, np.float32), x)])
    for row in golden:
        np.testing.assert_allclose(x.data, row, rtol=5e-4, atol=5e-4)
        opt.apply_gradients([(grads, x)])


# --- PyTorch parity where the formulas coincide ----------------------------------------------------------
# Mapping: SGD momentum buffer b = -velocity/lr; RMSprop alpha = rho; NAdam momentum_decay=1 gives Keras's
# 0.96**t schedule. Adam/AdamW/RMSprop/Adagrad/Adamax place epsilon differently, so both sides use epsilon 0

# --- PyTorch parity where the formulas coincide ----------------------------------------------------------
# Mapping: SGD momentum buffer b = -velocity/lr; RMSprop alpha = rho; NAdam momentum_decay=1 gives Keras's
# 0.96**t schedule. Adam/AdamW/RMSprop/Adagrad/Adamax place epsilon differently, so both sides use epsilon 0
# (PyTorch requires eps >= 0 and the gradients here are nonzero); Adadelta and NAdam match with any epsilon.
TORCH_CASES = [
    ("SGD", {"learning_rate": 0.1}, {"lr": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.0}, {"lr": 0.01, "eps": 0.0}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.0, "amsgrad": True}, {"lr": 0.01, "eps": 0.0, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "epsilon": 0.0, "weight_decay": 0.1}, {"lr": 0.01, "eps": 0.0,
                                                                             "weight_decay": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "epsilon": 1e-300}, {"lr": 0.01, "alpha": 0.9, "eps": 0.0}),
    ("RMSprop", {"learning_rate": 0.01, "epsilon": 1e-300, "centered": True, "momentum": 0.5},
     {"lr": 0.01, "alpha": 0.9, "eps": 0.0, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"learning_rate": 0.1, "epsilon": 0.0}, {"lr": 0.1, "eps": 0.0, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}, {"lr": 1.0, "rho": 0.95, "eps": 1e-7}),
    ("Adamax", {"learning_rate": 0.01, "epsilon": 0.0}, {"lr": 0.01, "eps": 0.0}),
    ("Nadam", {"learning_rate": 0.01}, {"lr": 0.01, "eps": 1e-7, "momentum_decay": 1.0}),
]


@pytest.mark.parametrize(("name", "cfg", "torch_kw"), TORCH_CASES,
                         ids=[f"{n}-{sorted(c)}" for n, c, _ in TORCH_CASES])
def test_matches_pytorch(name, cfg, torch_kw, version, torch):
    w0, grads = problem(5, seed=1)
    got = run(getattr(optimizers, name)(**cfg), w0, grads)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in w0]
    torch_name = {"Nadam": "NAdam"}.get(name, name)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # PyTorch keeps step counters and NAdam's mu product in this dtype
    try:
        opt = getattr(torch.optim, torch_name)(params, **torch_kw)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = torch.tensor(g)
            opt.step()
    finally:
        torch.set_default_dtype(default_dtype)
    for g, p in zip(got, params):
        np.testing.assert_allclose(g, p.detach().numpy(), rtol=1e-9, atol=1e-12)


def _flush_step(dtype):
    """One Adam step with zero gradients from moments next to the smallest normal number (and a NaN)."""
    tiny = np.finfo(dtype).tiny
    w = Variable(np.ones(5, dtype), name="w")
    opt = Adam(0.01)
    opt.apply_gradients([(np.zeros(5, dtype), w)])  # builds the slots
    m, v = opt._slots[id(w)]["momentum"], opt._slots[id(w)]["velocity"]
    m[...] = np.array([1.05 * tiny, -1.05 * tiny, 20 * tiny, 0.5, np.nan], dtype)
    v[...] = np.array([1.0005 * tiny, 0.5, 0.5, 0.5, 0.5], dtype)
    opt.apply_gradients([(np.zeros(5, dtype), w)])
    return m, v, w.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_flushes_subnormal_moments_to_zero_in_every_version(dtype, monkeypatch):
    """A moment that decays below the smallest normal number (a gradient that stays 0) becomes 0 at once instead of
    sitting at subnormal values, where arithmetic is 10-100x slower; NaN is kept; the readable rule, the in-place
    passes and the compiled loop give the same values bit for bit."""
    tiny = np.finfo(dtype).tiny
    results = []
    for readable, numba_on in ((True, False), (False, False), (False, True)):
        if numba_on and kernels.numba is None:
            continue
        monkeypatch.setattr(Optimizer, "readable", readable)
        before = kernels.set_enabled(numba_on)
        try:
            results.append(_flush_step(dtype))
        finally:
            kernels.set_enabled(before)
    m, v, _ = results[0]
    np.testing.assert_array_equal(m[:2], 0)  # 0.9 * 1.05 tiny is subnormal: flushed
    assert m[2] == dtype(0.9) * dtype(20 * tiny) and m[3] == dtype(0.45) and np.isnan(m[4])
    assert v[0] == 0 and v[1] == dtype(0.999) * dtype(0.5)
    assert not ((m != 0) & (np.abs(m) < tiny)).any() and not ((v != 0) & (v < tiny)).any()
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("name", "cfg"), [("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
                                           ("rmsprop", {"momentum": 0.5, "centered": True}), ("nadam", {}),
                                           ("adamax", {}), ("adadelta", {})])
def test_decaying_slots_of_the_other_optimizers_are_flushed_too(name, cfg, monkeypatch):
    """With zero gradients every slot only decays: those that fall below the smallest normal number become 0, in the
    readable rule and the in-place passes alike."""
    tiny = np.finfo(np.float32).tiny
    results = []
    for readable in (True, False):
        monkeypatch.setattr(Optimizer, "readable", readable)
        w = Variable(np.ones(3, np.float32), name="w")
        opt = optimizers.get({"class_name": name, "config": cfg})
        opt.apply_gradients([(np.zeros(3, np.float32), w)])
        for slot in opt._slots[id(w)].values():
            slot[...] = np.array([1.0005 * tiny, 0.25, -1.0005 * tiny], np.float32)  # below tiny after a 0.999 decay
        opt.apply_gradients([(np.zeros(3, np.float32), w)])
        slots = opt.get_state()
        results.append(slots)
        assert sum(key.startswith("w/") for key in slots) == len(opt.slot_names())
        for key, value in slots.items():
            if key.startswith("w/"):
                assert value[0] == 0 and value[2] == 0 and value[1] > tiny, key
    for key, value in results[0].items():
        np.testing.assert_array_equal(results[1][key], value)
