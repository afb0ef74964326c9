"""tf.math and the top-level math names: TensorFlow's names, arguments, defaults and dtype rules; values against
NumPy (and PyTorch where NumPy has no reference), gradients against finite differences in float64."""

import math

import numpy as np
import pytest

import shendu as tf
from shendu.tf import math_ops

rng = np.random.default_rng(7)
A = rng.normal(size=(2, 3))
B = rng.normal(size=(3,))
POS = rng.uniform(0.3, 2.0, size=(2, 3))


def grad_of(f, *arrays):
    """The gradients of sum(f(*xs) * w) for a fixed weighting w, as arrays (zeros where none arrives)."""
    xs = [tf.Variable(np.array(a, dtype=np.float64)) for a in arrays]
    y = f(*xs)
    (y * np.random.default_rng(0).uniform(0.5, 1.5, y.shape)).sum().backward()
    return [np.zeros_like(x.numpy()) if x.grad is None else x.grad.numpy() for x in xs]


# --- names ---------------------------------------------------------------------------------------------------

def test_top_level_names_are_tf_math_functions():
    for name in math_ops.__all__:
        assert getattr(tf, name) is getattr(tf.math, name), name
    for name in ["add", "reduce_sum", "argmax", "where", "maximum", "clip_by_global_norm", "cumsum", "round"]:
        assert name in math_ops.__all__


@pytest.mark.parametrize("name", ["log", "log1p", "expm1", "rsqrt", "reciprocal", "softplus", "erf", "ceil",
                                  "floordiv", "mod", "floormod", "squared_difference", "logical_xor", "reduce_std",
                                  "reduce_variance", "cumprod", "l2_normalize", "top_k", "is_nan", "is_inf",
                                  "is_finite", "count_nonzero", "confusion_matrix", "segment_sum",
                                  "unsorted_segment_sum", "log_sigmoid", "divide_no_nan"])
def test_math_only_names_are_not_top_level(name):
    assert callable(getattr(tf.math, name))
    assert name not in math_ops.__all__


# --- element-wise values, dtypes and gradients ---------------------------------------------------------------

UNARY = [
    ("abs", np.abs, A), ("negative", np.negative, A), ("sign", np.sign, A), ("square", np.square, A),
    ("sqrt", np.sqrt, POS), ("rsqrt", lambda x: 1 / np.sqrt(x), POS), ("reciprocal", lambda x: 1 / x, POS),
    ("exp", np.exp, A), ("expm1", np.expm1, A), ("log", np.log, POS), ("log1p", np.log1p, POS),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), A), ("tanh", np.tanh, A),
    ("softplus", lambda x: np.log1p(np.exp(x)), A), ("log_sigmoid", lambda x: -np.log1p(np.exp(-x)), A),
    ("erf", np.vectorize(math.erf), A), ("sin", np.sin, A), ("cos", np.cos, A), ("tan", np.tan, A),
    ("floor", np.floor, A * 3), ("ceil", np.ceil, A * 3), ("round", np.round, A * 3),
]


@pytest.mark.parametrize(("name", "ref", "x"), UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_keep_float32_and_gradients_check(name, ref, x):
    f = getattr(tf.math, name)
    y = f(x.astype(np.float32))
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y.numpy(), ref(x.astype(np.float32)), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(f(x).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    assert tf.gradcheck(f, [x])


@pytest.mark.parametrize("name", ["sqrt", "exp", "log", "sigmoid", "tanh", "sin", "erf", "rsqrt", "softplus"])
def test_float_only_functions_refuse_integers(name):
    with pytest.raises(TypeError, match=rf"tf\.(math\.)?{name}: expected a floating-point tensor, got dtype int32"):
        getattr(tf.math, name)(tf.constant([1, 4]))


def test_step_functions_have_zero_gradient_and_round_halves_to_even():
    np.testing.assert_array_equal(tf.round([0.5, 1.5, 2.5, -0.5, -1.5]).numpy(), [0, 2, 2, -0, -2])
    for f in (tf.floor, tf.math.ceil, tf.round, tf.sign):
        (g,) = grad_of(f, A * 3)
        np.testing.assert_array_equal(g, np.zeros_like(A))
    ints = tf.constant([1, -2])
    assert tf.floor(ints) is ints and tf.round(ints).dtype == np.int32


BINARY = [
    ("add", np.add, A, B), ("subtract", np.subtract, A, B), ("multiply", np.multiply, A, B),
    ("divide", np.divide, A, POS), ("truediv", np.divide, A, POS), ("pow", np.power, POS, B),
    ("maximum", np.maximum, A, B), ("minimum", np.minimum, A, B),
    ("squared_difference", lambda a, b: (a - b) ** 2, A, B),
    ("floormod", np.mod, A * 3, POS), ("divide_no_nan", np.divide, A, POS),
]


@pytest.mark.parametrize(("name", "ref", "a", "b"), BINARY, ids=[c[0] for c in BINARY])
def test_binary_values_broadcast_and_gradients_check(name, ref, a, b):
    f = getattr(tf.math, name)
    y = f(a.astype(np.float32), b.astype(np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref(a, b).astype(np.float32), rtol=1e-5, atol=1e-6)
    assert tf.gradcheck(f, [a, b])


def test_mod_is_floormod_and_floordiv_is_python_floor_division():
    a, b = np.array([7.0, -7.0, 7.0, -7.5]), np.array([2.0, 2.0, -2.0, 2.0])
    np.testing.assert_array_equal(tf.math.mod(a, b).numpy(), a % b)
    np.testing.assert_array_equal(tf.math.floordiv(a, b).numpy(), a // b)
    np.testing.assert_array_equal(tf.math.floordiv(tf.constant([7, -7]), 2).numpy(), [3, -4])
    assert tf.math.floordiv(tf.constant([7, -7]), 2).dtype == np.int32


def test_integer_math_stays_integer_and_true_division_gives_floats():
    i = tf.constant([1, 2, 3])
    assert i.dtype == np.int32
    for y in (tf.add(i, 1), tf.multiply(2, i), tf.subtract(i, i), tf.pow(i, 2), tf.square(i), tf.abs(-i),
              tf.maximum(i, 2), tf.reduce_sum(i), tf.reduce_prod(i), tf.cumsum(i)):
        assert y.dtype == np.int32
    np.testing.assert_array_equal(tf.pow(i, 2).numpy(), [1, 4, 9])
    assert tf.divide(i, 2).dtype == np.float64 and tf.truediv(i, i).dtype == np.float64
    np.testing.assert_array_equal(tf.divide(i, 2).numpy(), [0.5, 1.0, 1.5])
    assert tf.divide(np.array([1, 2], np.int16), np.array([2, 2], np.int16)).dtype == np.float32


def test_python_numbers_and_arrays_take_the_tensor_dtype():
    x = tf.constant([1.0, 2.0])
    assert tf.add(x, 1).dtype == np.float32
    assert tf.multiply(np.array([2.0, 3.0]), x).dtype == np.float32  # a float64 array converts to float32
    assert tf.add(np.array([1.0]), 2).dtype == np.float64
    assert tf.pow(x, np.float64(2.0)).dtype == np.float32


def test_mismatched_operands_raise_naming_the_function():
    with pytest.raises(TypeError, match=r"tf\.add: cannot convert 2\.5"):
        tf.add(tf.constant([1, 2]), 2.5)
    with pytest.raises(TypeError, match=r"tf\.multiply: x has dtype float32 but y has dtype int32"):
        tf.multiply(tf.constant([1.0]), tf.constant([1]))
    with pytest.raises(ValueError, match=r"tf\.math\.squared_difference: incompatible shapes \[2\] and \[3\]"):
        tf.math.squared_difference([1.0, 2.0], [1.0, 2.0, 3.0])


def test_maximum_and_minimum_give_a_tie_to_x_as_tensorflow():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    np.testing.assert_array_equal(grad_of(lambda a, b: tf.maximum(a, b), x, y)[0] > 0, [False, True, True])
    np.testing.assert_array_equal(grad_of(lambda a, b: tf.minimum(a, b), x, y)[0] > 0, [True, True, False])


def test_add_n_and_scalar_mul():
    xs = [A, A * 2, A * 3]
    np.testing.assert_allclose(tf.add_n(xs).numpy(), A * 6)
    assert tf.gradcheck(lambda *ts: tf.add_n(list(ts)), xs)
    np.testing.assert_allclose(tf.scalar_mul(2.0, A).numpy(), 2 * A)
    with pytest.raises(ValueError, match=r"tf\.add_n: inputs must have one shape and dtype"):
        tf.add_n([A, B])


def test_divide_no_nan_gives_zero_and_a_finite_gradient_where_y_is_zero():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, 4.0])
    np.testing.assert_array_equal(tf.math.divide_no_nan(x, y).numpy(), [0.5, 0.0, 0.75])
    gx, gy = grad_of(tf.math.divide_no_nan, x, y)
    assert np.isfinite(gx).all() and np.isfinite(gy).all() and gx[1] == 0 and gy[1] == 0


def test_clip_by_value_passes_the_gradient_inside_the_bounds_included():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(tf.clip_by_value(x, -1.0, 1.0).numpy(), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda t: tf.clip_by_value(t, -1.0, 1.0), x)[0] > 0,
                                  [False, True, True, True, False])
    np.testing.assert_array_equal(tf.clip_by_value(A, np.zeros(3), [0.1, 0.2, 0.3]).numpy(),
                                  np.clip(A, 0, [0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"tf\.clip_by_value: the bounds"):
        tf.clip_by_value(B, np.zeros((2, 3)), 1.0)


# --- comparisons and logic -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "ref"), [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                                           ("less_equal", np.less_equal), ("greater", np.greater),
                                           ("greater_equal", np.greater_equal)])
def test_comparisons_give_bool_tensors(name, ref):
    a, b = np.array([[1, 2, 3], [3, 2, 1]], np.int32), np.array([2, 2, 2], np.int32)
    y = getattr(tf, name)(a, b)
    assert y.dtype == np.bool_ and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), ref(a, b))
    np.testing.assert_array_equal(getattr(tf, name)(tf.constant([1.0, 3.0]), 2).numpy(), ref([1.0, 3.0], 2))


def test_logical_functions_need_bools():
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    np.testing.assert_array_equal(tf.logical_and(a, b).numpy(), a & b)
    np.testing.assert_array_equal(tf.logical_or(a, b).numpy(), a | b)
    np.testing.assert_array_equal(tf.math.logical_xor(a, b).numpy(), a ^ b)
    np.testing.assert_array_equal(tf.logical_not(a).numpy(), ~a)
    with pytest.raises(TypeError, match=r"tf\.logical_and: expected bool tensors, got dtype int32"):
        tf.logical_and(tf.constant([1]), tf.constant([0]))
    with pytest.raises(TypeError, match=r"tf\.logical_not: expected a bool tensor"):
        tf.logical_not([1.0])


def test_is_nan_is_inf_is_finite():
    x = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(tf.math.is_nan(x).numpy(), [False, True, False, False])
    np.testing.assert_array_equal(tf.math.is_inf(x).numpy(), [False, False, True, True])
    np.testing.assert_array_equal(tf.math.is_finite(x).numpy(), [True, False, False, False])


def test_where_chooses_broadcasts_and_routes_the_gradient():
    cond = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(tf.where(cond, A, B).numpy(), np.where(cond, A, B))
    np.testing.assert_array_equal(tf.where(tf.constant(cond), A, 0.0).numpy(), np.where(cond, A, 0.0))
    assert tf.gradcheck(lambda a, b: tf.where(cond, a, b), [A, B])
    x = tf.Variable([1.0, -1.0])
    y = tf.where(x > 0, x, 0)
    assert y.dtype == np.float32


def test_where_with_condition_alone_gives_int64_indices():
    cond = np.array([[True, False, True], [False, False, True]])
    idx = tf.where(cond)
    assert idx.dtype == np.int64 and idx.shape == (3, 2)
    np.testing.assert_array_equal(idx.numpy(), [[0, 0], [0, 2], [1, 2]])
    assert tf.where(np.zeros((2, 2), bool)).shape == (0, 2)
    with pytest.raises(ValueError, match=r"tf\.where: give both x and y"):
        tf.where(cond, A)
    with pytest.raises(TypeError, match=r"tf\.where: condition must be a bool tensor"):
        tf.where(A, A, B)


# --- reductions ----------------------------------------------------------------------------------------------

X3 = rng.normal(size=(2, 3, 4))
REDUCTIONS = [
    ("reduce_sum", np.sum), ("reduce_mean", np.mean), ("reduce_max", np.max), ("reduce_min", np.min),
    ("reduce_prod", np.prod), ("reduce_variance", np.var), ("reduce_std", np.std),
    ("reduce_logsumexp", lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
]


@pytest.mark.parametrize(("name", "ref"), REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (1,), np.array([2, 0])],
                         ids=["none", "0", "-1", "list", "tuple", "array"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy_and_gradients_check(name, ref, axis, keepdims):
    f = getattr(tf.math, name)
    np_axis = None if axis is None else tuple(np.atleast_1d(axis).tolist())
    y = f(X3, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(y.numpy(), ref(X3, axis=np_axis, keepdims=keepdims), rtol=1e-12)
    assert tf.gradcheck(lambda t: f(t, axis, keepdims), [X3])


def test_reductions_default_to_all_axes_and_take_tensor_axes():
    assert tf.reduce_sum(X3).shape == ()
    np.testing.assert_allclose(tf.reduce_mean(X3, axis=tf.constant([1])).numpy(), X3.mean(axis=1))
    np.testing.assert_allclose(tf.reduce_sum(X3, axis=[]).numpy(), X3)
    with pytest.raises(ValueError, match=r"tf\.reduce_sum: axis 3 is out of bounds"):
        tf.reduce_sum(X3, axis=3)


def test_integer_mean_truncates_toward_zero_as_tensorflow():
    assert tf.reduce_mean([1, 2]).numpy() == 1
    assert tf.reduce_mean(tf.constant([-3, 0])).numpy() == -1
    np.testing.assert_array_equal(tf.reduce_mean(tf.constant([[1, 2], [4, 4]]), axis=1).numpy(), [1, 4])
    assert tf.reduce_mean(tf.constant([1, 2])).dtype == np.int32
    with pytest.raises(TypeError, match=r"tf\.reduce_mean: cannot average a bool tensor"):
        tf.reduce_mean([True, False])


def test_reduce_max_splits_the_gradient_between_ties_and_prod_handles_zeros():
    (g,) = grad_of(lambda t: tf.reduce_max(t), np.array([1.0, 3.0, 3.0]))
    np.testing.assert_allclose(g / g.sum(), [0, 0.5, 0.5])
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0]])
    assert tf.gradcheck(lambda t: tf.reduce_prod(t, axis=1), [x])


def test_reduce_logsumexp_never_overflows():
    np.testing.assert_allclose(tf.reduce_logsumexp(np.array([1000.0, 1000.0])).numpy(), 1000 + math.log(2))
    assert tf.reduce_logsumexp(tf.constant([[1.0, 2.0]]), axis=1).dtype == np.float32


def test_reduce_any_all_and_count_nonzero():
    b = np.array([[True, False], [True, True]])
    assert tf.reduce_any(b).numpy() and not tf.reduce_all(b).numpy()
    np.testing.assert_array_equal(tf.reduce_all(b, axis=1).numpy(), [False, True])
    np.testing.assert_array_equal(tf.reduce_any(b, axis=0, keepdims=True).numpy(), [[True, True]])
    c = tf.math.count_nonzero(np.array([[0, 1, 2], [0, 0, 3]]), axis=1)
    assert c.dtype == np.int64
    np.testing.assert_array_equal(c.numpy(), [2, 1])
    assert tf.math.count_nonzero([0.0, 1.5], dtype=tf.int32).dtype == np.int32


def test_argmax_argmin_default_to_axis_0_and_int64():
    x = np.array([[1, 9, 3], [7, 2, 8]])
    assert tf.argmax(x).dtype == np.int64
    np.testing.assert_array_equal(tf.argmax(x).numpy(), [1, 0, 1])
    np.testing.assert_array_equal(tf.argmin(x, axis=1).numpy(), [0, 1])
    assert tf.argmax(x, axis=-1, output_type=tf.int32).dtype == np.int32
    with pytest.raises(ValueError, match=r"tf\.argmax: axis must be a single int"):
        tf.argmax(x, axis=[0, 1])


# --- scans ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("exclusive", "reverse", "expected"), [
    (False, False, [1, 3, 6]), (True, False, [0, 1, 3]), (False, True, [6, 5, 3]), (True, True, [5, 3, 0])])
def test_cumsum_exclusive_reverse(exclusive, reverse, expected):
    np.testing.assert_array_equal(tf.cumsum([1, 2, 3], exclusive=exclusive, reverse=reverse).numpy(), expected)


def test_cumsum_cumprod_axes_and_gradients():
    np.testing.assert_allclose(tf.cumsum(X3).numpy(), np.cumsum(X3, axis=0))
    np.testing.assert_allclose(tf.math.cumprod(X3, axis=-1).numpy(), np.cumprod(X3, axis=-1))
    np.testing.assert_array_equal(tf.math.cumprod([1, 2, 3], exclusive=True).numpy(), [1, 1, 2])
    assert tf.gradcheck(lambda t: tf.cumsum(t, axis=1, exclusive=True, reverse=True), [X3])
    assert tf.gradcheck(lambda t: tf.math.cumprod(t, axis=2, reverse=True), [X3])


# --- norms and clipping --------------------------------------------------------------------------------------

def test_clip_by_norm():
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0).numpy(), x / np.linalg.norm(x))
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0, axes=[1]).numpy(), [[0.6, 0.8], [0.3, 0.4]])
    assert tf.gradcheck(lambda t: tf.clip_by_norm(t, 1.0, axes=1), [x])
    (g,) = grad_of(lambda t: tf.clip_by_norm(t, 1.0), np.zeros(3))
    assert np.isfinite(g).all()


def test_clip_by_global_norm_returns_the_list_and_the_norm():
    a, b = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])
    clipped, norm = tf.clip_by_global_norm([a, None, b], 2.5)
    assert norm.numpy() == 5.0 and clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), a / 2)
    np.testing.assert_allclose(clipped[2].numpy(), b / 2)
    small, _ = tf.clip_by_global_norm((a, b), 10.0)
    np.testing.assert_allclose(small[0].numpy(), a)
    used, norm = tf.clip_by_global_norm([a], 1.0, use_norm=6.0)
    np.testing.assert_allclose(used[0].numpy(), a / 6)
    assert norm.numpy() == 6.0
    inf, _ = tf.clip_by_global_norm([np.array([np.inf, 1.0])], 1.0)
    assert np.isnan(inf[0].numpy()).all()
    assert tf.gradcheck(lambda s, t: tf.clip_by_global_norm([s, t], 1.0)[0][1], [a, b])
    with pytest.raises(TypeError, match=r"tf\.clip_by_global_norm: t_list must be a list or tuple"):
        tf.clip_by_global_norm(tf.constant(a), 1.0)


def test_l2_normalize():
    np.testing.assert_allclose(tf.math.l2_normalize(A, axis=1).numpy(),
                               A / np.linalg.norm(A, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(tf.math.l2_normalize(A).numpy(), A / np.linalg.norm(A), rtol=1e-12)
    np.testing.assert_array_equal(tf.math.l2_normalize(np.zeros(3)).numpy(), np.zeros(3))
    assert tf.gradcheck(lambda t: tf.math.l2_normalize(t, axis=0), [A])


# --- top_k, segments, confusion matrix -----------------------------------------------------------------------

def test_top_k_values_indices_and_ties():
    out = tf.math.top_k([1.0, 3.0, 2.0, 3.0], k=3)
    np.testing.assert_array_equal(out.values.numpy(), [3.0, 3.0, 2.0])
    np.testing.assert_array_equal(out.indices.numpy(), [1, 3, 2])  # equal values: the lower index first
    assert out.indices.dtype == np.int32
    values, indices = tf.math.top_k(X3, k=2)
    np.testing.assert_allclose(values.numpy(), -np.sort(-X3, axis=-1)[..., :2])
    np.testing.assert_array_equal(np.take_along_axis(X3, indices.numpy(), -1), values.numpy())
    assert tf.math.top_k(X3).values.shape == (2, 3, 1)
    assert tf.gradcheck(lambda t: tf.math.top_k(t, k=2).values, [X3])
    with pytest.raises(ValueError, match=r"tf\.math\.top_k: need 0 <= k"):
        tf.math.top_k([1.0, 2.0], k=3)


def test_top_k_of_unsigned_integers():
    out = tf.math.top_k(np.array([[0, 255, 7, 255]], np.uint8), k=2)
    np.testing.assert_array_equal(out.indices.numpy(), [[1, 3]])


def test_segment_sums():
    data = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(tf.math.segment_sum(data, [0, 0, 2, 2]).numpy(),
                                  [data[0] + data[1], np.zeros(3), data[2] + data[3]])
    np.testing.assert_array_equal(tf.math.unsorted_segment_sum(data, [1, -1, 0, 1], num_segments=3).numpy(),
                                  [data[2], data[0] + data[3], np.zeros(3)])
    assert tf.gradcheck(lambda t: tf.math.unsorted_segment_sum(t, [1, -1, 0, 1], 3), [data])
    assert tf.gradcheck(lambda t: tf.math.segment_sum(t, [0, 1, 1, 1]), [data])
    with pytest.raises(ValueError, match=r"tf\.math\.segment_sum: segment_ids must be a sorted"):
        tf.math.segment_sum(data, [1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"tf\.math\.unsorted_segment_sum: segment id 3 is not < num_segments=3"):
        tf.math.unsorted_segment_sum(data, [0, 3, 0, 0], 3)


def test_confusion_matrix():
    cm = tf.math.confusion_matrix([1, 2, 4], [2, 2, 4])
    assert cm.dtype == np.int32 and cm.shape == (5, 5)
    expected = np.zeros((5, 5), int)
    expected[1, 2] = expected[2, 2] = expected[4, 4] = 1
    np.testing.assert_array_equal(cm.numpy(), expected)
    w = tf.math.confusion_matrix([0, 0, 1], [0, 0, 0], num_classes=3, weights=[0.5, 1.0, 2.0], dtype=tf.float32)
    np.testing.assert_array_equal(w.numpy()[:2, 0], [1.5, 2.0])
    with pytest.raises(ValueError, match=r"tf\.math\.confusion_matrix: labels and predictions must lie in \[0, 2\)"):
        tf.math.confusion_matrix([0, 2], [0, 1], num_classes=2)


# --- against PyTorch -----------------------------------------------------------------------------------------

def test_values_and_gradients_match_torch(torch):
    x = rng.normal(size=(3, 4)) * 3
    cases = [
        (tf.math.erf, torch.erf), (tf.math.softplus, torch.nn.functional.softplus),
        (tf.math.log_sigmoid, torch.nn.functional.logsigmoid),
        (lambda t: tf.math.reduce_logsumexp(t, axis=1), lambda t: t.logsumexp(dim=1)),
        (lambda t: tf.math.reduce_std(t, axis=0), lambda t: t.std(dim=0, unbiased=False)),
        (lambda t: tf.math.l2_normalize(t, axis=1), lambda t: torch.nn.functional.normalize(t, dim=1)),
    ]
    for i, (f, torch_f) in enumerate(cases):
        v, t = tf.Variable(x), torch.tensor(x, requires_grad=True)
        y, ty = f(v), torch_f(t)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"case {i}")
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(v.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"case {i}")
