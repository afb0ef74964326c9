"""Learning-rate schedules: Keras's documented formulas, PyTorch's schedulers where equivalent, serialization."""

import json
import math

import numpy as np
import pytest

from shendu import optimizers, schedules
from shendu.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from shendu.variable import Variable

STEPS = [0, 1, 7, 10, 11, 25, 99, 100, 150]


def test_exponential_decay():
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    for step in STEPS:
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 10), rel=1e-12)
    st = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [st(k) for k in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_inverse_time_decay():
    s = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    for step in STEPS:
        assert s(step) == pytest.approx(0.1 / (1 + 0.5 * step), rel=1e-12)
    st = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0, staircase=True)
    assert [st(k) for k in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.1 / 3])


def test_piecewise_constant_boundaries_belong_to_the_earlier_interval():
    s = PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 100000, 100001, 110000, 110001, 10**7)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="1 less than the length of values"):
        PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1])


def test_polynomial_decay():
    s = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=0.5)
    for step in STEPS:
        p = min(step, 100) / 100
        assert s(step) == pytest.approx((0.1 - 0.01) * (1 - p) ** 0.5 + 0.01, rel=1e-12)
    c = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0, cycle=True)
    assert c(0) == pytest.approx(0.1)
    assert c(150) == pytest.approx(0.1 * (1 - 150 / 200))  # stretched to the next multiple, 200
    assert c(200) == pytest.approx(0.0)


def test_cosine_decay_without_and_with_warmup():
    s = CosineDecay(0.1, decay_steps=100, alpha=0.1)
    for step in STEPS:
        cos = 0.5 * (1 + math.cos(math.pi * min(step, 100) / 100))
        assert s(step) == pytest.approx(0.1 * ((1 - 0.1) * cos + 0.1), rel=1e-12)
    w = CosineDecay(0.02, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    assert [w(k) for k in (0, 5, 10)] == pytest.approx([0.02, 0.06, 0.1])
    assert w(60) == pytest.approx(0.05)  # halfway through the decay
    assert w(110) == pytest.approx(0.0, abs=1e-15) and w(1000) == pytest.approx(0.0, abs=1e-15)


def test_cosine_decay_restarts():
    s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, alpha=0.0)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.5)
    assert s(10) == pytest.approx(0.5)  # first restart at 10, peak scaled by m_mul
    assert s(20) == pytest.approx(0.25)  # the second period lasts 20 steps: halfway at 20
    assert s(30) == pytest.approx(0.25)  # second restart at 10 + 20
    flat = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=1.0, m_mul=1.0, alpha=0.2)
    assert [flat(k) for k in (0, 10, 20)] == pytest.approx([1.0, 1.0, 1.0])
    assert flat(15) == pytest.approx(0.8 * 0.5 + 0.2)


def test_step_can_be_a_variable_or_numpy_integer():
    s = ExponentialDecay(0.1, 10, 0.5)
    opt = optimizers.SGD(learning_rate=s)
    v = Variable(np.zeros(1))
    for _ in range(10):
        opt.apply_gradients([(np.ones(1), v)])
    assert s(opt.iterations) == pytest.approx(0.05)
    assert s(np.int64(10)) == pytest.approx(0.05)
    assert opt.learning_rate == pytest.approx(0.05)


@pytest.mark.parametrize("cls", [ExponentialDecay, InverseTimeDecay, PolynomialDecay, CosineDecay])
def test_decay_steps_must_be_positive(cls):
    args = (0.1, 0) if cls in (PolynomialDecay, CosineDecay) else (0.1, 0, 0.5)
    with pytest.raises(ValueError, match=r"decay_steps` must be > 0"):
        cls(*args)


def test_cosine_decay_restarts_first_decay_steps_must_be_positive():
    with pytest.raises(ValueError, match="first_decay_steps"):
        CosineDecayRestarts(0.1, 0)


# --- PyTorch's schedulers where the formulas coincide (stepped once per optimizer step) ----------------------
def _torch_lrs(torch, make_scheduler, steps, lr=0.1):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make_scheduler(torch.optim.lr_scheduler, opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


TORCH_CASES = [  # (schedule, scheduler factory); torch's cosine rises again after T_max, Keras's stays at alpha
    (ExponentialDecay(0.1, 1, 0.9), lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    (ExponentialDecay(0.1, 7, 0.5, staircase=True), lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    (CosineDecay(0.1, 30, alpha=0.05), lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.005)),
    (PolynomialDecay(0.1, 30, end_learning_rate=0.0, power=2.0), lambda m, o: m.PolynomialLR(o, total_iters=30,
                                                                                              power=2.0)),
    (InverseTimeDecay(0.1, 5, 0.5), lambda m, o: m.LambdaLR(o, lambda k: 1 / (1 + 0.5 * k / 5))),
    (PiecewiseConstantDecay([9, 19], [0.1, 0.01, 0.001]), lambda m, o: m.MultiStepLR(o, [10, 20], gamma=0.1)),
]


@pytest.mark.parametrize(("schedule", "make"), TORCH_CASES, ids=lambda x: type(x).__name__)
def test_matches_pytorch_schedulers(torch, schedule, make):
    steps = 31 if isinstance(schedule, CosineDecay) else 40
    want = _torch_lrs(torch, make, steps)
    opt = optimizers.SGD(learning_rate=schedule)
    v = Variable(np.zeros(1))
    got = []
    for _ in range(steps):
        got.append(opt.learning_rate)
        opt.apply_gradients([(np.zeros(1), v)])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)


# --- serialization -----------------------------------------------------------------------------------------
ALL = [
    ExponentialDecay(0.1, 1000, 0.96, staircase=True), PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
    PolynomialDecay(0.1, 100, 0.01, power=0.5, cycle=True), InverseTimeDecay(0.1, 1.0, 0.5),
    CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.1, warmup_steps=10),
    CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.01),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_serialize_round_trip_through_json(schedule):
    d = json.loads(json.dumps(schedules.serialize(schedule)))
    assert d["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(d)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(k) for k in STEPS] == [schedule(k) for k in STEPS]
    assert type(schedule).from_config(schedule.get_config()).get_config() == schedule.get_config()


class HalvingSchedule(schedules.LearningRateSchedule):
    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate / 2 ** float(step)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


def test_custom_schedule_and_errors():
    d = schedules.serialize(HalvingSchedule(1.0))
    with pytest.raises(ValueError, match=r"unknown learning rate schedule 'HalvingSchedule'.*CosineDecay"):
        schedules.deserialize(d)
    clone = schedules.deserialize(d, custom_objects={"HalvingSchedule": HalvingSchedule})
    assert clone(3) == 0.125
    opt = optimizers.deserialize(optimizers.serialize(optimizers.Adam(learning_rate=HalvingSchedule(1.0))),
                                 custom_objects={"HalvingSchedule": HalvingSchedule})
    assert isinstance(opt._learning_rate, HalvingSchedule)
    with pytest.raises(TypeError, match="expected a LearningRateSchedule"):
        schedules.serialize(lambda step: 0.1)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)


def test_keras_config_keys():
    assert CosineDecay(0.1, 10).get_config() == {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.0,
                                                 "name": "CosineDecay", "warmup_target": None, "warmup_steps": 0}
    assert set(CosineDecayRestarts(0.1, 10).get_config()) == {"initial_learning_rate", "first_decay_steps", "t_mul",
                                                              "m_mul", "alpha", "name"}
    assert optimizers.schedules is schedules
