"""Tensor construction, dtype policy, array attributes, conversions, comparisons and creation helpers."""

import numpy as np
import pytest

import shendu as sd
from shendu.tensor import Tensor


def test_python_numbers_and_lists_become_float32():
    assert sd.tensor(1.5).dtype == np.float32
    assert sd.tensor([[1.0, 2.0], [3.0, 4.5]]).dtype == np.float32
    assert sd.tensor(np.float64(2.0)).dtype == np.float64


def test_arrays_keep_their_dtype():
    assert sd.tensor(np.zeros(3, dtype=np.float64)).dtype == np.float64
    assert sd.tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16
    assert sd.tensor(np.arange(3)).dtype == np.arange(3).dtype
    assert sd.tensor([1, 2, 3]).dtype.kind == "i"
    assert sd.tensor(np.array([True, False])).dtype == bool


def test_explicit_dtype():
    t = sd.tensor([1, 2], dtype="float64")
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("data", [np.arange(3), [1, 2], np.array([True])])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating-point"):
        sd.tensor(data, requires_grad=True)


def test_attributes():
    t = sd.tensor(np.ones((2, 3, 4), dtype=np.float32))
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.dtype == np.float32
    assert t.size == 24
    assert len(t) == 2
    with pytest.raises(TypeError, match="0-d"):
        len(sd.tensor(1.0))


def test_numpy_and_array_protocol_share_values():
    a = np.arange(6.0).reshape(2, 3)
    t = sd.tensor(a)
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t)
    assert not np.shares_memory(copied, a)
    copied[0, 0] = 100
    assert t.numpy()[0, 0] == 0
    np.testing.assert_allclose(np.exp(t), np.exp(a))


def test_item_and_conversions():
    assert sd.tensor([[3.5]]).item() == 3.5
    assert float(sd.tensor(2.0)) == 2.0
    assert int(sd.tensor(np.array(7))) == 7
    assert sd.tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"item\(\).*\(2,\)"):
        sd.tensor([1.0, 2.0]).item()


def test_detach_cuts_the_graph():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_astype():
    x = sd.tensor([1.5, -2.5], requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32
    z = x.astype(np.int32)
    assert z.dtype == np.int32 and not z.requires_grad
    np.testing.assert_array_equal(z.numpy(), [1, -2])


def test_repr_shows_values_shape_dtype_and_grad_fn():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], shape=(2,), dtype=float32, requires_grad=True)"
    r = repr(x * 3)
    assert r.startswith("tensor([3., 6.], shape=(2,), dtype=float32") and "grad_fn=<Mul>" in r
    assert repr(sd.tensor(np.arange(3))).startswith("tensor([0, 1, 2], shape=(3,)")


def test_comparisons_give_bool_tensors_without_grad():
    x = sd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (x > sd.tensor([0.0, 5.0, 1.0]), [True, False, True]),
    ]:
        assert isinstance(result, Tensor)
        assert result.dtype == bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), expected)


def test_reflected_operators_with_arrays_and_numbers():
    x = sd.tensor([1.0, 2.0])
    for value, expected in [
        (np.array([10.0, 20.0]) + x, [11.0, 22.0]),
        (1 - x, [0.0, -1.0]),
        (2 * x, [2.0, 4.0]),
        (1 / x, [1.0, 0.5]),
        (2**x, [2.0, 4.0]),
        (np.array([[1.0, 1.0]]) @ x, [3.0]),
    ]:
        assert isinstance(value, Tensor)
        np.testing.assert_allclose(value.numpy(), expected)


def test_python_scalars_keep_the_tensor_dtype():
    x = sd.tensor(np.ones(2, dtype=np.float32))
    assert (x * 0.1).dtype == np.float32
    assert (x + 3).dtype == np.float32
    assert (x**2).dtype == np.float32
    assert (2.0**x).dtype == np.float32
    assert (sd.tensor(np.ones(2)) * 0.1).dtype == np.float64
    assert (np.int64(3) + x).dtype == np.float32
    assert (x * np.float64(0.5)).dtype == np.float32
    assert repr((sd.tensor([2.0], requires_grad=True) ** np.float32(2)).grad_fn) == "<PowScalar>"


def test_float32_float64_promotion_and_gradient_dtypes():
    a = sd.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = sd.tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    h = a * 2  # float32 intermediate
    y = h * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_methods_shape_helpers():
    x = sd.tensor(np.arange(6.0).reshape(2, 3))
    assert x.reshape(3, 2).shape == (3, 2)
    assert x.reshape((-1,)).shape == (6,)
    assert x.reshape([1, 6]).shape == (1, 6)
    assert x.transpose().shape == (3, 2)
    assert x.T.shape == (3, 2)
    assert x.expand_dims(0).shape == (1, 2, 3)
    assert x.expand_dims((0, -1)).shape == (1, 2, 3, 1)
    assert x.expand_dims(1).squeeze().shape == (2, 3)
    assert sd.zeros((1, 2, 1)).squeeze(axis=0).shape == (2, 1)
    assert x.flatten().shape == (6,)
    y = sd.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(y.transpose(2, 0, 1).numpy(), np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1))
    np.testing.assert_array_equal(y.transpose((0, -1, 1)).numpy(), np.arange(24.0).reshape(2, 3, 4).transpose(0, 2, 1))


def test_argmax_argmin_are_integer_and_not_differentiable():
    x = sd.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    am = x.argmax(axis=1)
    assert am.dtype.kind == "i" and not am.requires_grad
    np.testing.assert_array_equal(am.numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=1).numpy(), [0, 1])
    assert x.argmax().item() == 3


def test_creation_functions():
    assert sd.zeros((2, 3)).shape == (2, 3) and sd.zeros([2, 3]).dtype == np.float32
    assert sd.ones((4,)).numpy().sum() == 4
    assert sd.zeros(2, dtype="float64").dtype == np.float64
    base = sd.tensor(np.ones((2, 2), dtype=np.float64))
    assert sd.zeros_like(base).dtype == np.float64 and sd.zeros_like(base).numpy().sum() == 0
    assert sd.ones_like(base, dtype="float32").dtype == np.float32
    assert sd.ones(2, requires_grad=True).requires_grad


def test_arange_dtypes():
    np.testing.assert_array_equal(sd.arange(4).numpy(), [0, 1, 2, 3])
    assert sd.arange(4).dtype.kind == "i"
    assert sd.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(sd.arange(1, 2, 0.5).numpy(), [1.0, 1.5])
    assert sd.arange(3, dtype="float64").dtype == np.float64


def test_random_is_seeded_and_repeatable():
    sd.random.seed(42)
    a = sd.random.normal((3, 4))
    b = sd.random.uniform([5], minval=-1, maxval=1)
    sd.random.seed(42)
    np.testing.assert_array_equal(a.numpy(), sd.random.normal((3, 4)).numpy())
    np.testing.assert_array_equal(b.numpy(), sd.random.uniform([5], minval=-1, maxval=1).numpy())
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert np.all((b.numpy() >= -1) & (b.numpy() < 1))
    assert not np.array_equal(a.numpy(), sd.random.normal((3, 4)).numpy())
    assert sd.random.normal([10], 2.0, 0.5, dtype="float64").dtype == np.float64


def test_random_statistics():
    sd.random.seed(0)
    n = sd.random.normal([20000], mean=3.0, stddev=2.0).numpy()
    assert abs(n.mean() - 3.0) < 0.05 and abs(n.std() - 2.0) < 0.05


def test_numpy_of_a_0d_tensor_is_a_numpy_scalar():
    value = sd.tensor(2.5).numpy()
    assert isinstance(value, np.float32) and value == 2.5
    count = sd.tensor(np.array(3, dtype=np.int32)).numpy()
    assert isinstance(count, np.int32)
    assert sd.layers.Dense(units=count).units == 3
    assert isinstance(sd.tensor([1.0]).numpy(), np.ndarray)


def test_numpy_functions_take_tensors_and_return_numpy_values():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0]])
    x = sd.tensor(a, requires_grad=True)
    for got, expected in [
        (np.mean(x), np.mean(a)), (np.sum(x, axis=0), a.sum(axis=0)), (np.max(x), 4.0), (np.std(x), np.std(a)),
        (np.concatenate([x, sd.tensor(b)]), np.concatenate([a, b])), (np.stack([x, x]), np.stack([a, a])),
        (np.transpose(x), a.T), (np.reshape(x, (4,)), a.reshape(4)), (np.where(x > 2, x, 0.0), np.where(a > 2, a, 0.0)),
        (np.clip(x, 1.5, 3.5), np.clip(a, 1.5, 3.5)), (np.exp(x), np.exp(a)),
    ]:
        assert not isinstance(got, Tensor)
        np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(x, a)
    assert np.shape(x) == (2, 2) and np.asarray(x) is x.data


def test_newaxis_indexing_and_its_gradient():
    x = sd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[..., None]
    assert y.shape == (3, 1) and x[None, :, None].shape == (1, 3, 1)
    (y * sd.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_iteration_over_the_first_axis_keeps_gradients():
    x = sd.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, Tensor) and r.shape == (2,) for r in rows)
    (rows[1] * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [3.0, 3.0]])
    a, b = sd.tensor([5.0, 6.0])
    assert float(a) == 5.0 and float(b) == 6.0
    with pytest.raises(TypeError, match="0-d"):
        iter(sd.tensor(1.0))


def test_python_conversions_of_small_tensors():
    assert bool(sd.tensor([1.0])) and not bool(sd.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(sd.tensor([1.0, 2.0]))
    n = sd.tensor(np.array(3))
    assert list(range(n)) == [0, 1, 2] and ["a", "b", "c", "d"][n] == "d"
    with pytest.raises(TypeError):
        range(sd.tensor(3.0))
    with pytest.raises(TypeError):
        range(sd.tensor(np.array([3])))
    loss = sd.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss}" == str(loss) and f"{loss:>8.2f}" == "    0.12"
    with pytest.raises(TypeError):
        f"{sd.tensor([1.0, 2.0]):.2f}"


def test_tensors_are_hashable_by_identity_and_ref_gives_a_handle():
    x, y = sd.tensor([1.0]), sd.tensor([1.0])
    assert len({x, y}) == 2 and {x: 1}[x] == 1
    assert x.ref() == x.ref() and x.ref() != y.ref() and x.ref().deref() is x
    assert {x.ref(): "x"}[x.ref()] == "x"


def test_dtype_names_and_rank():
    assert sd.tensor([1.0]).dtype.name == "float32" and sd.tensor(np.zeros((2, 3, 4))).ndim == 3


def test_device_names_the_cpu_for_numpy_values():
    assert sd.tensor([1.0]).device == "/job:localhost/replica:0/task:0/device:CPU:0"


def test_layers_list_their_trainable_variables():
    dense = sd.keras.layers.Dense(2)
    dense.build((None, 3))
    assert [v.shape for v in dense.trainable_variables] == [(3, 2), (2,)]
    assert dense.non_trainable_variables == []
