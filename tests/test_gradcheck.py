"""gradcheck itself: it passes correct backwards, catches wrong ones and says where."""

import numpy as np
import pytest

import shendu as sd


class WrongSquare(sd.Function):
    """y = x^2 with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (g * 3 * self.x,)


class WrongSecondInput(sd.Function):
    """y = a * b whose gradient for b forgets a factor."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, g


def test_passes_a_correct_backward():
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert sd.gradcheck(lambda t: (t * t).tanh(), [x]) is True


def test_catches_a_wrong_backward_and_names_the_input():
    x = np.array([1.0, 2.0, -3.0])
    with pytest.raises(sd.GradcheckError, match=r"input 0 \(shape \(3,\)\): largest error [\d.]+ at index \(2,\)"):
        sd.gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_names_the_second_input():
    a, b = np.array([2.0, 3.0]), np.array([0.5, 4.0])
    with pytest.raises(sd.GradcheckError, match=r"input 1 \(shape \(2,\)\)") as info:
        sd.gradcheck(lambda x, y: WrongSecondInput.apply(x, y), [a, b])
    assert "largest error" in str(info.value)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(sd.GradcheckError, AssertionError)


def test_runs_in_float64_even_for_float32_inputs():
    seen = []

    def f(t):
        seen.append(t.dtype)
        return t.exp()

    assert sd.gradcheck(f, [np.ones(2, dtype=np.float32)])
    assert set(seen) == {np.dtype(np.float64)}


def test_accepts_tensors_and_leaves_them_alone():
    x = sd.tensor(np.array([0.3, 0.7]), requires_grad=True)
    assert sd.gradcheck(lambda t: t.sigmoid(), [x])
    assert x.grad is None
    np.testing.assert_array_equal(x.numpy(), [0.3, 0.7])


def test_input_not_used_gets_zero_gradient():
    assert sd.gradcheck(lambda a, b: a * 2, [np.ones(2), np.ones(3)])


def test_tolerances_are_respected():
    x = np.array([1.0])
    # the wrong backward is off by 1 at x = 1: a huge atol accepts it
    assert sd.gradcheck(lambda t: WrongSquare.apply(t), [x], atol=2.0)
    with pytest.raises(sd.GradcheckError):
        sd.gradcheck(lambda t: WrongSquare.apply(t), [x], atol=0.5, rtol=0.0)


def test_integer_inputs_are_constants():
    x = np.random.default_rng(1).normal(size=(4, 3))
    labels = np.array([0, 2, 2, 1])
    assert sd.gradcheck(lambda t, y: t.log_softmax()[np.arange(4), y], [x, labels])
    mask = np.array([True, False, True])
    assert sd.gradcheck(lambda t, m: sd.where(m, t, 0.0), [x, mask])
