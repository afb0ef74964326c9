"""Optimizers: Keras 3 formulas (NumPy transcription and Keras's own expected values), PyTorch parity,
clipping, decay, weight decay, state round trips, lookup and serialization."""

import json
import math
import warnings

import numpy as np
import pytest

from shendu import optimizers, schedules
from shendu.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop
from shendu.tensor import Tensor
from shendu.variable import Variable

SHAPES = [(5, 3), (3,)]


def _problem(steps, seed=0, dtype=np.float64):
    """Initial weights and a gradient sequence for two variables."""
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return w0, grads


def _run(opt, w0, grads):
    vs = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(w0)]
    for gs in grads:
        opt.apply_gradients(zip(gs, vs))
    return [v.data for v in vs]


# --- NumPy transcription of Keras 3's update_step (keras/src/optimizers/*.py), float64 --------------------
def _keras_reference(name, cfg, w0, grads):
    lr = cfg.get("learning_rate", 0.01 if name == "sgd" else 0.001)
    ws = [w.copy() for w in w0]
    st = [{} for _ in ws]
    u_product = 1.0
    for it, gs in enumerate(grads):
        t = it + 1
        if name == "nadam":
            b1 = cfg.get("beta_1", 0.9)
            u_product *= b1 * (1.0 - 0.5 * 0.96**t)
        for w, g, s in zip(ws, gs, st):
            if cfg.get("weight_decay"):
                w -= w * cfg["weight_decay"] * lr
            if name == "sgd":
                mom = cfg.get("momentum", 0.0)
                if mom:
                    m = s["m"] = s.get("m", 0) * mom - g * lr
                    w += m * mom - g * lr if cfg.get("nesterov") else m
                else:
                    w -= g * lr
            elif name in ("adam", "adamw"):
                b1, b2, eps = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999), cfg.get("epsilon", 1e-7)
                alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
                s["v"] = s.get("v", 0) + (g**2 - s.get("v", 0)) * (1 - b2)
                v = s["v"]
                if cfg.get("amsgrad"):
                    v = s["vh"] = np.maximum(s.get("vh", 0), s["v"])
                w -= s["m"] * alpha / (np.sqrt(v) + eps)
            elif name == "rmsprop":
                rho, mom, eps = cfg.get("rho", 0.9), cfg.get("momentum", 0.0), cfg.get("epsilon", 1e-7)
                s["v"] = rho * s.get("v", 0) + (1 - rho) * g**2
                if cfg.get("centered"):
                    s["a"] = rho * s.get("a", 0) + (1 - rho) * g
                    denom = s["v"] - s["a"] ** 2 + eps
                else:
                    denom = s["v"] + eps
                inc = lr * g / np.sqrt(denom)
                if mom > 0:
                    s["mb"] = mom * s.get("mb", 0) + inc
                    w -= s["mb"]
                else:
                    w -= inc
            elif name == "adagrad":
                s["acc"] = s.get("acc", cfg.get("initial_accumulator_value", 0.1)) + g**2
                w -= lr * g / np.sqrt(s["acc"] + cfg.get("epsilon", 1e-7))
            elif name == "adadelta":
                rho, eps = cfg.get("rho", 0.95), cfg.get("epsilon", 1e-7)
                s["ag"] = rho * s.get("ag", 0) + (1 - rho) * g**2
                delta = -(np.sqrt(s.get("ad", 0) + eps) * g / np.sqrt(s["ag"] + eps))
                s["ad"] = rho * s.get("ad", 0) + (1 - rho) * delta**2
                w += lr * delta
            elif name == "adamax":
                b1, b2, eps = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999), cfg.get("epsilon", 1e-7)
                s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
                s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
                w -= lr * s["m"] / ((1 - b1**t) * (s["u"] + eps))
            elif name == "nadam":
                b1, b2, eps = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999), cfg.get("epsilon", 1e-7)
                u_t = b1 * (1.0 - 0.5 * 0.96**t)
                u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
                s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - b1)
                s["v"] = s.get("v", 0) + (g**2 - s.get("v", 0)) * (1 - b2)
                m_hat = u_t1 * s["m"] / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
                v_hat = s["v"] / (1 - b2**t)
                w -= m_hat * lr / (np.sqrt(v_hat) + eps)
    return ws


CASES = [
    ("sgd", {}), ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {}), ("rmsprop", {"centered": True, "learning_rate": 0.01}),
    ("rmsprop", {"momentum": 0.5, "rho": 0.8}), ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adam", {}), ("adam", {"amsgrad": True, "learning_rate": 0.05}),
    ("adam", {"beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5, "weight_decay": 0.1}),
    ("adamw", {"weight_decay": 0.004}), ("adamw", {"weight_decay": 0.05, "amsgrad": True, "learning_rate": 0.1}),
    ("adagrad", {}), ("adagrad", {"initial_accumulator_value": 0.3, "epsilon": 1e-6, "learning_rate": 0.2}),
    ("adadelta", {}), ("adadelta", {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6}),
    ("adamax", {}), ("adamax", {"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6}),
    ("nadam", {}), ("nadam", {"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
]


@pytest.mark.parametrize(("name", "cfg"), CASES, ids=[f"{n}-{sorted(c)}" for n, c in CASES])
@pytest.mark.parametrize("steps", [1, 6])
def test_matches_keras_formula(name, cfg, steps, compiled):
    w0, grads = _problem(steps)
    got = _run(optimizers.get({"class_name": name, "config": cfg}), w0, grads)
    want = _keras_reference(name, cfg, w0, grads)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)
    assert not np.allclose(got[0], w0[0])  # the optimizer did move the weights


# --- Keras's own expected values (keras/src/optimizers/*_test.py), float32 -------------------------------
SINGLE_STEP = {
    "adam": [0.5, 1.5, 2.5, 3.5], "adamw": [0.4980, 1.4960, 2.494, 3.492], "nadam": [0.4686, 1.4686, 2.4686, 3.4686],
    "rmsprop": [-0.5811, 0.4189, 1.4189, 2.4189], "sgd": [0.5, -1.0, -0.5, 3.0], "adamax": [0.5, 1.5, 2.5, 3.5],
    "adagrad": [0.5233, 1.5007, 2.5005, 3.5061], "adadelta": [0.9993, 1.9993, 2.9993, 3.9993],
}


@pytest.mark.parametrize("name", sorted(SINGLE_STEP))
def test_keras_single_step(name, compiled):
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
def test_keras_golden_sequence(name):
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
def test_matches_pytorch(name, cfg, torch_kw, compiled):
    torch = pytest.importorskip("torch")
    w0, grads = _problem(5, seed=1)
    got = _run(getattr(optimizers, name)(**cfg), w0, grads)
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


@pytest.mark.parametrize("shape", [(7, 5), (1 << 17,)])  # one piece, and slices on the threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_gives_the_numpy_passes_values_bit_for_bit(shape, dtype, monkeypatch):
    pytest.importorskip("numba")
    from shendu.ops import kernels

    calls = []
    loop = kernels.adam
    monkeypatch.setattr(kernels, "adam", lambda *a: calls.append(1) or loop(*a))
    results = []
    for flag in (True, False):
        before = kernels.set_enabled(flag)
        try:
            rng = np.random.default_rng(3)
            var = Variable(rng.standard_normal(shape).astype(dtype))
            opt = Adam(0.01)
            for _ in range(3):
                opt.apply_gradients([(rng.standard_normal(shape).astype(dtype), var)])
        finally:
            kernels.set_enabled(before)
        results.append(var.numpy())
    assert results[0].dtype == dtype and calls  # the compiled loop ran in the first pass
    np.testing.assert_array_equal(*results)


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
    w0, grads = _problem(4, seed=3)
    acc = _run(Adam(learning_rate=0.1, gradient_accumulation_steps=2), w0, grads)
    means = [[(a + b) / 2 for a, b in zip(grads[i], grads[i + 1])] for i in (0, 2)]
    ref = _run(Adam(learning_rate=0.1), w0, means)
    for a, r in zip(acc, ref):
        np.testing.assert_allclose(a, r, rtol=1e-12)
    opt = Adam(gradient_accumulation_steps=2)
    _run(opt, w0, grads[:3])
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
def test_state_round_trip_resumes_exactly(name, cfg, build_first):
    w0, grads = _problem(4, seed=5, dtype=np.float32)
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
