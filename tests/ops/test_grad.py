"""Every op's gradient checked against finite differences (float64), on shapes and broadcast patterns
drawn by Hypothesis. Values are drawn away from kinks and singularities (0 for abs/relu, ties for max)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu as sd

CHECK = settings(max_examples=25, deadline=None)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
seeds = st.integers(0, 2**32 - 1)


def rand(seed, shape, low=-2.0, high=2.0, min_abs=0.0):
    """Uniform values; with min_abs, |value| >= min_abs with a random sign (away from a kink at 0)."""
    rng = np.random.default_rng(seed)
    if min_abs:
        return rng.uniform(min_abs, high, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(low, high, shape)


def distinct(seed, shape, offset=0.0):
    """Values on a grid of step 0.2 (plus offset), all different, so max/min have no ties."""
    n = int(np.prod(shape))
    return ((np.random.default_rng(seed).permutation(n) - n // 2) * 0.2 + offset).reshape(shape)


UNARY = {
    "neg": (lambda t: -t, {}),
    "exp": (lambda t: t.exp(), {}),
    "log": (lambda t: t.log(), {"low": 0.2}),
    "sqrt": (lambda t: t.sqrt(), {"low": 0.2}),
    "abs": (lambda t: t.abs(), {"min_abs": 0.1}),
    "tanh": (lambda t: t.tanh(), {}),
    "sigmoid": (lambda t: t.sigmoid(), {}),
    "relu": (lambda t: t.relu(), {"min_abs": 0.1}),
    "leaky_relu": (lambda t: t.leaky_relu(0.1), {"min_abs": 0.1}),
    "clip": (lambda t: t.clip(-0.5, 0.5), {"min_abs": 0.1, "high": 0.45}),
    "clip_far": (lambda t: t.clip(-1.0, 1.0), {"low": 1.1, "high": 2.0}),
    "clip_lo_only": (lambda t: t.clip(0.0, None), {"min_abs": 0.1}),
    "square": (lambda t: t**2, {}),
    "cube": (lambda t: t**3, {}),
    "pow_half": (lambda t: t**0.5, {"low": 0.2}),
    "pow_neg": (lambda t: t**-1.5, {"low": 0.3}),
    "pow_numpy_scalar": (lambda t: t ** np.float32(3), {}),
    "pow_zero": (lambda t: t**0, {}),
    "rdiv": (lambda t: 2.0 / t, {"min_abs": 0.3}),
    "rsub": (lambda t: 1.0 - t, {}),
    "rpow": (lambda t: 3.0**t, {}),
    "astype64": (lambda t: t.astype("float64") * 2, {}),
    "pos": (lambda t: +t, {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@CHECK
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    f, kw = UNARY[name]
    assert sd.gradcheck(f, [rand(seed, shape, **kw)])


BINARY = {
    "add": (lambda a, b: a + b, {}, {}),
    "sub": (lambda a, b: a - b, {}, {}),
    "mul": (lambda a, b: a * b, {}, {}),
    "div": (lambda a, b: a / b, {}, {"min_abs": 0.5}),
    "pow": (lambda a, b: a**b, {"low": 0.3}, {}),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@CHECK
@given(shapes=pairs, seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    f, kw_a, kw_b = BINARY[name]
    sa, sb = shapes.input_shapes
    assert sd.gradcheck(f, [rand(seed, sa, **kw_a), rand(seed + 1, sb, **kw_b)])


@pytest.mark.parametrize("f", [sd.maximum, sd.minimum], ids=["maximum", "minimum"])
@CHECK
@given(shapes=pairs, seed=seeds)
def test_maximum_minimum_broadcasting(f, shapes, seed):
    sa, sb = shapes.input_shapes
    a, b = distinct(seed, sa), distinct(seed + 1, sb, offset=0.1)  # grids offset by 0.1: never equal
    assert sd.gradcheck(f, [a, b])


@CHECK
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_broadcasting(shapes, seed):
    sc, sa, sb = shapes.input_shapes
    cond = np.random.default_rng(seed).random(sc) < 0.5
    assert sd.gradcheck(lambda a, b: sd.where(cond, a, b), [rand(seed, sa), rand(seed + 1, sb)])


@st.composite
def matmul_shapes(draw):
    """Operand shapes for a @ b: 1-D, 2-D, or batched with broadcast batch axes."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) else (*batch[0], n, k)
    b = (k,) if draw(st.booleans()) else (*batch[1], k, m)
    return a, b


@CHECK
@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul(shapes, seed):
    sa, sb = shapes
    assert sd.gradcheck(lambda a, b: a @ b, [rand(seed, sa), rand(seed + 1, sb)])


@st.composite
def shape_and_axis(draw, min_dims=0):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3))
    axis = draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1) | st.integers(-len(shape), len(shape) - 1)
                if shape else st.none())
    return shape, axis


REDUCTIONS = {
    "sum": lambda t, axis, keepdims: t.sum(axis=axis, keepdims=keepdims),
    "mean": lambda t, axis, keepdims: t.mean(axis=axis, keepdims=keepdims),
    "var": lambda t, axis, keepdims: t.var(axis=axis, keepdims=keepdims),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@CHECK
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reductions(name, case, keepdims, seed):
    shape, axis = case
    f = REDUCTIONS[name]
    assert sd.gradcheck(lambda t: f(t, axis, keepdims), [rand(seed, shape)])


@pytest.mark.parametrize("name", ["max", "min"])
@CHECK
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_max_min_without_ties(name, case, keepdims, seed):
    shape, axis = case
    assert sd.gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [distinct(seed, shape)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@CHECK
@given(case=shape_and_axis(min_dims=1), seed=seeds)
def test_softmax(name, case, seed):
    shape, axis = case
    axis = axis if isinstance(axis, int) else -1
    assert sd.gradcheck(lambda t: getattr(t, name)(axis=axis), [rand(seed, shape, -3, 3)])


@CHECK
@given(shape=nonscalar_shapes, seed=seeds, data=st.data())
def test_reshape_transpose_expand_squeeze(shape, seed, data):
    perm = data.draw(st.permutations(range(len(shape))))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = rand(seed, shape)
    assert sd.gradcheck(lambda t: t.reshape(-1) * np.arange(x.size), [x])
    assert sd.gradcheck(lambda t: t.reshape(tuple(reversed(shape))), [x])
    assert sd.gradcheck(lambda t: t.transpose(*perm), [x])
    assert sd.gradcheck(lambda t: t.T, [x])
    assert sd.gradcheck(lambda t: t.expand_dims(axis).squeeze(axis), [x])
    assert sd.gradcheck(lambda t: t.expand_dims(axis).squeeze(), [x])


@st.composite
def indices(draw):
    """A shape and an index into it: ints (negative too), slices with steps, integer arrays with
    repeats and negatives, boolean masks, None and Ellipsis."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "int_array", "mask", "mixed"]))
    if kind == "basic":
        return shape, draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "int_array":
        n = shape[0]
        idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
        return shape, np.array(idx)
    if kind == "mask":
        return shape, draw(hnp.arrays(bool, shape[: draw(st.integers(1, len(shape)))]))
    n = shape[-1]
    idx = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
    return shape, (Ellipsis, idx) if len(shape) == 1 else (slice(None, None, -1), Ellipsis, idx)


@settings(max_examples=40, deadline=None)
@given(case=indices(), seed=seeds)
def test_getitem(case, seed):
    shape, index = case
    x = rand(seed, shape)
    np.testing.assert_array_equal(sd.tensor(x)[index].numpy(), x[index])
    if x[index].size:
        assert sd.gradcheck(lambda t: t[index], [x])


def test_getitem_repeated_indices_add_up():
    x = sd.tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, -1, 3, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 0.0, 2.0])


def test_getitem_with_tensor_index():
    x = sd.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    idx = sd.tensor(np.array([2, 0]))
    y = x[idx, 1]
    np.testing.assert_array_equal(y.numpy(), [5.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [0, 0], [0, 1]])


@st.composite
def join_case(draw):
    shape = list(draw(nonscalar_shapes))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(count)]
    cat_shapes = [tuple(s if i != axis % len(shape) else n for i, s in enumerate(shape)) for n in sizes]
    return tuple(shape), axis, cat_shapes


@CHECK
@given(case=join_case(), seed=seeds)
def test_concatenate_and_stack(case, seed):
    shape, axis, cat_shapes = case
    xs = [rand(seed + i, s) for i, s in enumerate(cat_shapes)]
    assert sd.gradcheck(lambda *ts: sd.concatenate(ts, axis=axis), xs)
    same = [rand(seed + i, shape) for i in range(len(cat_shapes))]
    assert sd.gradcheck(lambda *ts: sd.stack(ts, axis=axis), same)
    assert sd.gradcheck(lambda *ts: sd.stack(ts, axis=-1), same)


@CHECK
@given(shape=nonscalar_shapes, seed=seeds, data=st.data())
def test_pad(shape, seed, data):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    x = rand(seed, shape)
    y = sd.pad(sd.tensor(x), widths, constant_values=0.5)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, widths, constant_values=0.5))
    assert sd.gradcheck(lambda t: sd.pad(t, widths), [x])
    assert sd.gradcheck(lambda t: sd.pad(t, [(1, 1)] * len(shape)), [x])
    assert sd.gradcheck(lambda t: sd.pad(t, [(2, 1)] * len(shape)), [x])


def test_composite_expression():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)

    def mlp(x, w, b):
        h = (x @ w + b).tanh()
        return (h.log_softmax(axis=-1) * h.softmax(axis=0)).mean() + h.var(axis=0).sum() ** 0.5

    assert sd.gradcheck(mlp, [x, w, b])
