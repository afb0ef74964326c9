"""Forward values and gradients of every op equal PyTorch's, including its conventions at ties and kinks
(max/maximum split ties evenly, relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds)."""

import importlib

import numpy as np
import pytest

import shendu as sd
from shendu import functions  # NumPy-style maximum/minimum (sd.maximum is TensorFlow's: ties go to x)


def F():
    """torch.nn.functional, imported when a test runs (the `torch` fixture skips the tests without PyTorch)."""
    return importlib.import_module("torch.nn.functional")

rng = np.random.default_rng(1234)


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.2, 2.0, size=shape)


def with_kinks(*shape):
    """Values that include exact zeros, ties and the clip bounds used below."""
    base = np.array([0.0, -0.5, 0.5, 1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 0.25, -0.25, 1.0])
    return np.resize(base, shape) + 0.0


def ties(*shape):
    """Small integers as floats: many exact ties along every axis."""
    return rng.integers(0, 3, size=shape).astype(np.float64)


def check(torch, sd_fn, torch_fn, *arrays, rtol=1e-7, atol=1e-10):
    """Same output and same gradient for every input, for a random upstream gradient."""
    xs = [sd.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = sd_fn(*xs), torch_fn(*ts)
    assert y.shape == tuple(ty.shape)
    assert y.dtype == np.dtype(str(ty.dtype).removeprefix("torch."))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(0).normal(size=y.shape).astype(y.dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        expected = np.zeros_like(arrays[i]) if t.grad is None else t.grad.numpy()
        actual = np.zeros_like(arrays[i]) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


BINARY = [
    ("add", lambda a, b: a + b, normal(2, 3, 4), normal(3, 1)),
    ("sub", lambda a, b: a - b, normal(3, 1), normal(2, 1, 4)),
    ("mul", lambda a, b: a * b, normal(4), normal(3, 1)),
    ("div", lambda a, b: a / b, normal(2, 3), positive(2, 1)),
    ("pow", lambda a, b: a**b, positive(2, 3), normal(3)),
    ("pow_zero_base", lambda a, b: a**b, np.array([0.0, 0.0, 2.0, 0.0]), np.array([2.0, 0.0, 1.5, 1.0])),
    ("matmul_1d_1d", lambda a, b: a @ b, normal(4), normal(4)),
    ("matmul_1d_2d", lambda a, b: a @ b, normal(4), normal(4, 3)),
    ("matmul_2d_1d", lambda a, b: a @ b, normal(3, 4), normal(4)),
    ("matmul_2d_2d", lambda a, b: a @ b, normal(3, 4), normal(4, 5)),
    ("matmul_batched", lambda a, b: a @ b, normal(2, 3, 4), normal(2, 4, 5)),
    ("matmul_broadcast", lambda a, b: a @ b, normal(2, 1, 3, 4), normal(5, 4, 2)),
    ("matmul_1d_batched", lambda a, b: a @ b, normal(4), normal(2, 4, 3)),
    ("matmul_batched_1d", lambda a, b: a @ b, normal(2, 3, 4), normal(4)),
]


@pytest.mark.parametrize(("name", "f", "a", "b"), BINARY, ids=[c[0] for c in BINARY])
def test_binary(torch, name, f, a, b):
    check(torch, f, f, a, b)


@pytest.mark.parametrize(("sd_f", "torch_f"), [(functions.maximum, lambda a, b: a.maximum(b)),
                                               (functions.minimum, lambda a, b: a.minimum(b))],
                         ids=["maximum", "minimum"])
def test_maximum_minimum_split_ties_evenly(torch, sd_f, torch_f):
    a = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, -1.0]])
    b = np.array([2.0, 2.0, -1.0])  # ties at [0, 1] and [1, 2]
    check(torch, sd_f, torch_f, a, b)
    check(torch, sd_f, torch_f, ties(3, 4), ties(4))


def test_where(torch):
    cond = rng.random((3, 4)) < 0.5
    check(torch, lambda a, b: sd.where(cond, a, b), lambda a, b: torch.where(torch.tensor(cond), a, b),
          normal(3, 1), normal(4))


UNARY = [
    ("neg", lambda t: -t, lambda t: -t, normal),
    ("exp", lambda t: t.exp(), lambda t: t.exp(), normal),
    ("log", lambda t: t.log(), lambda t: t.log(), positive),
    ("sqrt", lambda t: t.sqrt(), lambda t: t.sqrt(), positive),
    ("abs", lambda t: t.abs(), lambda t: t.abs(), with_kinks),
    ("tanh", lambda t: t.tanh(), lambda t: t.tanh(), normal),
    ("sigmoid", lambda t: t.sigmoid(), lambda t: t.sigmoid(), normal),
    ("relu", lambda t: t.relu(), lambda t: t.relu(), with_kinks),
    ("leaky_relu", lambda t: t.leaky_relu(0.1), lambda t: F().leaky_relu(t, 0.1), with_kinks),
    ("leaky_relu_default", lambda t: t.leaky_relu(), lambda t: F().leaky_relu(t, 0.2), with_kinks),
    ("leaky_relu_steep", lambda t: t.leaky_relu(1.5), lambda t: F().leaky_relu(t, 1.5), with_kinks),
    ("clip", lambda t: t.clip(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), with_kinks),
    ("clip_hi_only", lambda t: t.clip(None, 0.5), lambda t: t.clamp(max=0.5), with_kinks),
    ("square", lambda t: t**2, lambda t: t**2, with_kinks),
    ("pow_1_5", lambda t: t**1.5, lambda t: t**1.5, positive),
    ("pow_zero", lambda t: t**0, lambda t: t**0, with_kinks),
    ("rpow", lambda t: 2.0**t, lambda t: 2.0**t, normal),
    ("rdiv", lambda t: 1.0 / t, lambda t: 1.0 / t, positive),
    ("softmax_last", lambda t: t.softmax(), lambda t: t.softmax(-1), normal),
    ("softmax_0", lambda t: t.softmax(axis=0), lambda t: t.softmax(0), normal),
    ("log_softmax_last", lambda t: t.log_softmax(), lambda t: t.log_softmax(-1), normal),
    ("log_softmax_1", lambda t: t.log_softmax(axis=1), lambda t: t.log_softmax(1), normal),
    ("astype", lambda t: t.astype("float32"), lambda t: t.float(), normal),
    ("reshape", lambda t: t.reshape(4, -1), lambda t: t.reshape(4, -1), normal),
    ("transpose", lambda t: t.transpose(2, 0, 1), lambda t: t.permute(2, 0, 1), normal),
    ("transpose_negative", lambda t: t.transpose(0, -1, 1), lambda t: t.permute(0, 2, 1), normal),
    ("T", lambda t: t.T, lambda t: t.permute(2, 1, 0), normal),
    ("expand_dims", lambda t: t.expand_dims(1), lambda t: t.unsqueeze(1), normal),
    ("squeeze", lambda t: t.expand_dims(-1).squeeze(-1), lambda t: t.unsqueeze(-1).squeeze(-1), normal),
]


@pytest.mark.parametrize(("name", "sd_f", "torch_f", "make"), UNARY, ids=[c[0] for c in UNARY])
def test_unary(torch, name, sd_f, torch_f, make):
    check(torch, sd_f, torch_f, make(2, 3, 4), rtol=1e-6 if name == "astype" else 1e-7)


REDUCTIONS = [
    ("sum", lambda t, axis, k: t.sum(axis=axis, keepdims=k), lambda t, dim, k: t.sum(dim=dim, keepdim=k)),
    ("mean", lambda t, axis, k: t.mean(axis=axis, keepdims=k), lambda t, dim, k: t.mean(dim=dim, keepdim=k)),
    ("var", lambda t, axis, k: t.var(axis=axis, keepdims=k),
     lambda t, dim, k: t.var(dim=dim, keepdim=k, correction=0)),
    ("max", lambda t, axis, k: t.max(axis=axis, keepdims=k), lambda t, dim, k: t.amax(dim=dim, keepdim=k)),
    ("min", lambda t, axis, k: t.min(axis=axis, keepdims=k), lambda t, dim, k: t.amin(dim=dim, keepdim=k)),
]
AXES = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize(("name", "sd_f", "torch_f"), REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
@pytest.mark.parametrize("make", [normal, ties])
def test_reductions(torch, name, sd_f, torch_f, axis, keepdims, make):
    dim = tuple(range(3)) if axis is None else axis
    check(torch, lambda t: sd_f(t, axis, keepdims), lambda t: torch_f(t, dim, keepdims), make(2, 3, 4))


def test_full_max_with_ties_matches_torch_max(torch):
    x = np.array([[1.0, 3.0], [3.0, 3.0]])
    check(torch, lambda t: t.max(), lambda t: t.max(), x)
    check(torch, lambda t: t.min(), lambda t: t.min(), -x)


def test_argmax_ties_take_the_first_like_torch(torch):
    x = ties(5, 6)
    for axis in (0, 1):
        np.testing.assert_array_equal(sd.tensor(x).argmax(axis=axis).numpy(), torch.tensor(x).argmax(dim=axis).numpy())
        np.testing.assert_array_equal(sd.tensor(x).argmin(axis=axis).numpy(), torch.tensor(x).argmin(dim=axis).numpy())
    assert sd.tensor(x).argmax().item() == torch.tensor(x).argmax().item()


def test_comparisons_match(torch):
    a, b = ties(3, 4), ties(4)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        got = getattr(sd.tensor(a), op)(sd.tensor(b)).numpy()
        np.testing.assert_array_equal(got, getattr(torch.tensor(a), op)(torch.tensor(b)).numpy())


INDICES = [
    ("slice", (slice(1, None), slice(None, None, 2))),
    ("negative_int", (-1, slice(None), -2)),
    ("int_array_repeats", np.array([0, 2, 2, -1])),
    ("int_arrays_pair", (np.array([0, 1, 1]), np.array([2, -1, 2]))),
    ("mask", rng.random((4, 3, 5)) < 0.5),
    ("row_mask", np.array([True, False, True, True])),
    ("ellipsis_int", (Ellipsis, 1)),
    ("newaxis", (None, slice(0, 2))),
]


@pytest.mark.parametrize(("name", "index"), INDICES, ids=[c[0] for c in INDICES])
def test_getitem(torch, name, index):
    def torch_index(i):
        return torch.tensor(i) if isinstance(i, np.ndarray) else i

    t_index = tuple(torch_index(i) for i in index) if isinstance(index, tuple) else torch_index(index)
    check(torch, lambda t: t[index], lambda t: t[t_index], normal(4, 3, 5))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(torch, axis):
    a, b = normal(2, 3), normal(2, 3)
    check(torch, lambda x, y: sd.concatenate([x, y], axis=axis), lambda x, y: torch.cat([x, y], dim=axis), a, b)
    check(torch, lambda x, y: sd.stack([x, y], axis=axis), lambda x, y: torch.stack([x, y], dim=axis), a, b)


def test_pad(torch):
    widths = ((1, 2), (0, 3))
    torch_pad = (0, 3, 1, 2)  # last axis first
    check(torch, lambda t: sd.pad(t, widths, constant_values=0.5), lambda t: F().pad(t, torch_pad, value=0.5),
          normal(3, 4))


def test_float32_mlp_step(torch):
    x, w, b = normal(8, 5).astype(np.float32), normal(5, 3).astype(np.float32), normal(3).astype(np.float32)

    xs = [sd.tensor(w, requires_grad=True), sd.tensor(b, requires_grad=True)]
    ts = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    y = (sd.tensor(x) @ xs[0] + xs[1]).relu().mean()
    ty = torch.relu(torch.tensor(x) @ ts[0] + ts[1]).mean()
    y.backward()
    ty.backward()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-5)
    for s, t in zip(xs, ts):
        assert s.grad.dtype == np.float32
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
