"""The ops behind tf.math: log1p, expm1, sin, cos, tan, erf, the step functions, floor division and modulo, the
squared difference, add_n, prod, logsumexp, the scans and the segment sum. Gradients against finite differences
(float64, Hypothesis shapes), values and gradients against PyTorch."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu as sd
from shendu.ops import arithmetic, elementwise, reduce

CHECK = settings(max_examples=20, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
seeds = st.integers(0, 2**32 - 1)


def rand(seed, shape, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def off_grid(seed, shape):
    """Values at least 0.1 away from every multiple of 0.5, so that finite differences never cross a step."""
    rng = np.random.default_rng(seed)
    return rng.integers(-4, 4, shape) * 0.5 + rng.uniform(0.1, 0.4, shape)


UNARY = {
    "log1p": (elementwise.Log1p, {"low": -0.8}),
    "expm1": (elementwise.Expm1, {}),
    "sin": (elementwise.Sin, {}),
    "cos": (elementwise.Cos, {}),
    "tan": (elementwise.Tan, {"low": -1.2, "high": 1.2}),
    "erf": (elementwise.Erf, {"low": -3.0, "high": 3.0}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@CHECK
@given(shape=shapes, seed=seeds)
def test_unary_gradients(name, shape, seed):
    op, kw = UNARY[name]
    assert sd.gradcheck(lambda t: op.apply(t), [rand(seed, shape, **kw)])


@pytest.mark.parametrize("op", [elementwise.Sign, elementwise.Floor, elementwise.Ceil, elementwise.Round])
@CHECK
@given(shape=shapes, seed=seeds)
def test_step_functions_have_zero_gradient(op, shape, seed):
    x = sd.tensor(off_grid(seed, shape), requires_grad=True)
    op.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))


@CHECK
@given(shapes=pairs, seed=seeds)
def test_squared_difference_gradient(shapes, seed):
    sa, sb = shapes.input_shapes
    assert sd.gradcheck(lambda x, y: arithmetic.SquaredDifference.apply(x, y), [rand(seed, sa), rand(seed + 1, sb)])


@CHECK
@given(shapes=pairs, seed=seeds)
def test_floormod_gradient(shapes, seed):
    """b = +-c for one c, and a = c (k + f) with f in [0.2, 0.8]: every a / b stays away from the integers."""
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 2.0)
    a = c * (rng.integers(-3, 3, sa) + rng.uniform(0.2, 0.8, sa))
    b = c * rng.choice([-1.0, 1.0], sb)
    assert sd.gradcheck(lambda x, y: arithmetic.FloorMod.apply(x, y), [a, b])


def test_floordiv_is_python_floor_division_with_zero_gradient():
    a, b = np.array([7.0, -7.0, 7.5, -0.5]), np.array([2.0, 2.0, -2.0, 3.0])
    x = sd.tensor(a, requires_grad=True)
    y = arithmetic.FloorDiv.apply(x, sd.tensor(b))
    np.testing.assert_array_equal(y.numpy(), a // b)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))
    np.testing.assert_array_equal(arithmetic.FloorMod.apply(x, sd.tensor(b)).numpy(), a % b)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_add_n(n):
    xs = [rand(i, (2, 3)) for i in range(n)]
    np.testing.assert_allclose(arithmetic.AddN.apply(*[sd.tensor(x) for x in xs]).numpy(), sum(xs))
    assert sd.gradcheck(lambda *ts: arithmetic.AddN.apply(*ts) * np.arange(6).reshape(2, 3), xs)


@pytest.mark.parametrize("op", [arithmetic.Maximum, arithmetic.Minimum])
def test_maximum_minimum_ties_first_give_the_whole_gradient_to_a(op):
    a, b = sd.tensor([1.0, 2.0, 3.0], requires_grad=True), sd.tensor([2.0, 2.0, 2.0], requires_grad=True)
    op.apply(a, b, ties="first").sum().backward()
    wins = [0.0, 1.0, 1.0] if op is arithmetic.Maximum else [1.0, 1.0, 0.0]
    np.testing.assert_array_equal(a.grad.numpy(), wins)
    np.testing.assert_array_equal(b.grad.numpy(), 1 - np.array(wins))


@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    axis = draw(st.none() | hnp.valid_tuple_axes(len(shape)) | st.integers(-len(shape), len(shape) - 1)
                if shape else st.none())
    return shape, axis


@CHECK
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds, zeros=st.integers(0, 2))
def test_prod_gradient_also_with_zero_factors(case, keepdims, seed, zeros):
    shape, axis = case
    x = rand(seed, shape)
    x.reshape(-1)[:zeros] = 0.0
    assert sd.gradcheck(lambda t: reduce.Prod.apply(t, axis=axis, keepdims=keepdims), [x])


@CHECK
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_logsumexp_gradient(case, keepdims, seed):
    shape, axis = case
    assert sd.gradcheck(lambda t: reduce.LogSumExp.apply(t, axis=axis, keepdims=keepdims), [rand(seed, shape, -3, 3)])


def test_logsumexp_never_overflows_and_keeps_infinities():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 0.0]])
    y = reduce.LogSumExp.apply(sd.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(y, [1000.0 + math.log(2), -np.inf, np.inf])


@pytest.mark.parametrize("op", [reduce.Cumsum, reduce.Cumprod])
@CHECK
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_scan_gradients(op, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    exclusive, reverse = data.draw(st.booleans()), data.draw(st.booleans())
    x = rand(seed, shape, 0.5, 2.0) * np.random.default_rng(seed).choice([-1.0, 1.0], shape)
    assert sd.gradcheck(lambda t: op.apply(t, axis=axis, exclusive=exclusive, reverse=reverse), [x])


@pytest.mark.parametrize(("exclusive", "reverse", "sums", "products"), [
    (False, False, [1, 3, 6], [1, 2, 6]),
    (True, False, [0, 1, 3], [1, 1, 2]),
    (False, True, [6, 5, 3], [6, 6, 3]),
    (True, True, [5, 3, 0], [6, 3, 1]),
])
def test_scan_values(exclusive, reverse, sums, products):
    x = sd.tensor(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(reduce.Cumsum.apply(x, axis=0, exclusive=exclusive, reverse=reverse).numpy(), sums)
    np.testing.assert_array_equal(reduce.Cumprod.apply(x, axis=0, exclusive=exclusive, reverse=reverse).numpy(),
                                  products)


def test_segment_sum_values_and_gradient():
    ids = np.array([[0, 2], [2, -1]])  # ids over two leading axes; -1 is dropped
    x = rand(0, (2, 2, 3))
    y = reduce.SegmentSum.apply(sd.tensor(x), ids=ids, n=4).numpy()
    np.testing.assert_allclose(y, [x[0, 0], np.zeros(3), x[0, 1] + x[1, 0], np.zeros(3)])
    assert sd.gradcheck(lambda t: reduce.SegmentSum.apply(t, ids=ids, n=4) * np.arange(12).reshape(4, 3), [x])


def test_min_of_unsigned_integers():
    x = sd.tensor(np.array([[0, 3], [5, 1]], dtype=np.uint8))
    np.testing.assert_array_equal(reduce.Min.apply(x, axis=1).numpy(), [0, 1])
    assert reduce.Min.apply(x).numpy() == 0


def _torch_cases(torch):
    pos = np.random.default_rng(1).uniform(0.3, 2.0, (3, 4))
    normal = np.random.default_rng(2).normal(size=(3, 4))
    with_zero = normal.copy()
    with_zero[1, 2] = with_zero[2, 0] = with_zero[2, 3] = 0.0
    return [
        (lambda t: elementwise.Log1p.apply(t), torch.log1p, pos - 0.2),
        (lambda t: elementwise.Expm1.apply(t), torch.expm1, normal),
        (lambda t: elementwise.Sin.apply(t), torch.sin, normal),
        (lambda t: elementwise.Cos.apply(t), torch.cos, normal),
        (lambda t: elementwise.Tan.apply(t), torch.tan, normal * 0.5),
        (lambda t: elementwise.Erf.apply(t), torch.erf, normal * 2),
        (lambda t: elementwise.Floor.apply(t), torch.floor, normal * 3),
        (lambda t: elementwise.Ceil.apply(t), torch.ceil, normal * 3),
        (lambda t: elementwise.Round.apply(t), torch.round, np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.4, 2.6])),
        (lambda t: elementwise.Sign.apply(t), torch.sign, with_zero),
        (lambda t: reduce.Prod.apply(t, axis=1), lambda t: t.prod(dim=1), with_zero),
        (lambda t: reduce.LogSumExp.apply(t, axis=0), lambda t: t.logsumexp(dim=0), normal * 10),
        (lambda t: reduce.Cumsum.apply(t, axis=1), lambda t: t.cumsum(dim=1), normal),
        (lambda t: reduce.Cumprod.apply(t, axis=0), lambda t: t.cumprod(dim=0), pos),
    ]


def test_values_and_gradients_match_torch(torch):
    for i, (sd_f, torch_f, a) in enumerate(_torch_cases(torch)):
        x, t = sd.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = sd_f(x), torch_f(t)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"case {i}")
        g = np.random.default_rng(i).normal(size=y.shape)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=f"case {i}")


def test_floormod_and_squared_difference_match_torch(torch):
    a, b = np.random.default_rng(3).normal(size=(3, 4)) * 4, np.random.default_rng(4).uniform(0.5, 2, 4)
    b[::2] *= -1
    for sd_op, torch_f in [(arithmetic.FloorMod, torch.remainder),
                           (arithmetic.SquaredDifference, lambda x, y: (x - y) ** 2)]:
        x, y = sd.tensor(a, requires_grad=True), sd.tensor(b, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out, tout = sd_op.apply(x, y), torch_f(tx, ty)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
