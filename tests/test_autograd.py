"""The backward pass: order, accumulation, freeing the graph, no_grad, errors, and gradient ownership; `grad()`,
which returns gradients instead of storing them; the gradient mode per thread."""

import threading

import numpy as np
import pytest

import shendu as sd
from shendu.tensor import Tensor, grad


def leaf(values, dtype=np.float64):
    return sd.tensor(np.array(values, dtype=dtype), requires_grad=True)


def test_grad_is_a_tensor_or_none():
    x = leaf([1.0, 2.0])
    assert x.grad is None
    (x * x).sum().backward()
    assert isinstance(x.grad, Tensor)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_shared_subexpression_gets_both_contributions():
    x = leaf(3.0)
    y = x * x  # used twice below
    z = y * y + y  # z = x^4 + x^2, dz/dx = 4x^3 + 2x
    z.backward()
    assert x.grad.item() == pytest.approx(4 * 27 + 6)


def test_gradients_accumulate_until_cleared():
    x = leaf([1.0, -1.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_second_backward_through_freed_graph_raises_and_does_not_double():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_freed_intermediate_raises_for_a_new_output():
    x = leaf([1.0, 2.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_backward_frees_saved_arrays():
    x = leaf(np.ones(3))
    y = x.exp()
    fn = y.grad_fn
    assert fn.inputs is not None and hasattr(fn, "y")
    y.sum().backward()
    assert fn.inputs is None and not hasattr(fn, "y")


def test_deep_chain_of_ten_thousand_ops_does_not_recurse():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-9)


def test_long_sum_of_many_terms():
    x = leaf(2.0)
    total = x * 0
    for _ in range(5000):
        total = total + x
    total.backward()
    assert x.grad.item() == 5000


def test_non_scalar_backward_needs_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\), not a scalar.*grad="):
        (x * 2).backward()


def test_backward_with_explicit_grad():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 12.0])
    x.grad = None
    z = x * 3
    z.backward(sd.tensor(np.ones(3)))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match=r"grad has shape \(2,\) but the output has shape \(3,\)"):
        (x * 3).backward(np.ones(2))


def test_backward_on_a_leaf():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    s = leaf(5.0)
    s.backward()
    assert s.grad.item() == 1.0


def test_backward_on_a_constant_raises():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        (sd.tensor([1.0]) * 2).sum().backward()


def test_constants_get_no_grad_and_integer_inputs_pass_through():
    x = leaf([1.0, 2.0])
    c = sd.tensor([3.0, 4.0])
    idx = sd.tensor(np.array([1, 1, 0]))
    (x * c)[idx].sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 8.0])


def test_no_grad_context_and_decorator():
    x = leaf([1.0, 2.0])
    with sd.no_grad():
        assert not sd.is_grad_enabled()
        y = x * 2
        with sd.enable_grad():
            assert (x * 2).requires_grad
        assert not sd.is_grad_enabled()
    assert sd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @sd.no_grad()
    def infer(t):
        return t * 2

    @sd.no_grad
    def infer_bare(t):
        return t * 2

    assert not infer(x).requires_grad
    assert not infer_bare(x).requires_grad
    assert (x * 2).requires_grad and sd.is_grad_enabled()


def test_no_grad_restores_after_exception():
    with pytest.raises(KeyError), sd.no_grad():
        raise KeyError("boom")
    assert sd.is_grad_enabled()


def test_incompatible_shapes_name_the_op_and_both_shapes():
    a, b = sd.tensor(np.ones((2, 3))), sd.tensor(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"Add: .*\(2, 3\) and \(4, 3\)"):
        a + b
    with pytest.raises(ValueError, match=r"Mul: .*\(2, 3\) and \(4, 3\)"):
        a * b
    with pytest.raises(ValueError, match=r"MatMul: .*\(2, 3\) and \(4, 3\)"):
        a @ b
    with pytest.raises(ValueError, match=r"Concatenate: .*\(2, 3\) and \(4, 2\)"):
        sd.concatenate([a, sd.tensor(np.ones((4, 2)))], axis=0)


def test_leaf_gradients_own_writable_memory():
    # Sum's and Add's gradients could alias: the same array to two leaves, or a read-only broadcast view.
    a, b = leaf(np.ones(3)), leaf(np.ones(3))
    (a + b).sum().backward()
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 10
    np.testing.assert_allclose(b.grad.numpy(), np.ones(3))


def test_user_grad_is_not_aliased():
    x = leaf(np.zeros(2))
    g = np.array([1.0, 2.0])
    (x + 0).backward(g)
    x.grad.data[:] = 0
    np.testing.assert_allclose(g, [1.0, 2.0])


def test_broadcast_gradients_are_summed_back():
    x = leaf(np.ones((3, 1)))
    b = leaf(np.ones(4))
    (x * b).sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


def test_custom_function_returning_none_for_a_required_input():
    class Halve(sd.Function):
        def forward(self, x, unused):
            return x / 2

        def backward(self, g):
            return g / 2, None

    x, u = leaf([2.0]), leaf([1.0])
    y = Halve.apply(x, u * 3)  # u*3's node receives no gradient: it must be skipped, not crash
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5])
    assert u.grad is None


def test_grad_returns_what_backward_would_store_and_stores_nothing(torch):
    a0, b0 = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([1.5, -0.5])
    a, b = leaf(a0), leaf(b0)
    stale = sd.tensor([9.0, 9.0])
    b.grad = stale
    h = (a @ b).tanh()
    loss = (h * h).sum() + b.sum()
    ga, gb, gh = grad(loss, [a, b, h], retain_graph=True)
    assert a.grad is None and b.grad is stale
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    th = torch.tanh(ta @ tb)
    th.retain_grad()
    ((th * th).sum() + tb.sum()).backward()
    for ours, theirs in [(ga, ta.grad), (gb, tb.grad), (gh, th.grad)]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), ga.numpy())


def test_grad_of_several_outputs_with_weights_and_unconnected_inputs():
    x, unused = leaf([1.0, 2.0]), leaf([3.0])
    y1, y2 = x * x, x.exp().sum()
    gx, gu = grad([y1, y2], [x, unused], grad_outputs=[sd.tensor([1.0, 0.0]), None], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0 + np.e, np.exp(2.0)])
    assert gu is None
    with pytest.raises(RuntimeError, match="not a scalar"):
        grad(y1, x)
    with pytest.raises(ValueError, match="has shape"):
        grad(y1, x, grad_outputs=sd.tensor([1.0]))


def test_grad_frees_the_walked_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    grad(y, x, retain_graph=True)
    grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        grad(y, x)


def test_grad_gives_each_input_its_own_writable_array():
    x = leaf([1.0, 2.0])
    y = x + x  # Add's backward hands the same array to both operands
    g1, g2 = grad(y.sum(), [x, x])
    assert not np.shares_memory(g1.numpy(), g2.numpy()) and g1.numpy().flags.writeable
    np.testing.assert_array_equal(g1.numpy(), [2.0, 2.0])


def test_no_grad_restores_the_exact_previous_mode():
    with sd.no_grad():
        with sd.no_grad():
            assert not sd.is_grad_enabled()
        assert not sd.is_grad_enabled()
        with sd.enable_grad():
            assert sd.is_grad_enabled()
        assert not sd.is_grad_enabled()
    assert sd.is_grad_enabled()


def test_grad_mode_is_per_thread():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def infer():
        with sd.no_grad():
            inside.set()
            outside.wait(5)
            seen["worker"] = sd.is_grad_enabled()

    worker = threading.Thread(target=infer)
    worker.start()
    inside.wait(5)
    x = leaf([1.0])
    seen["main"] = (x * 2).requires_grad and sd.is_grad_enabled()
    outside.set()
    worker.join()
    assert seen == {"main": True, "worker": False}


def test_a_no_grad_decorated_function_runs_in_several_threads_at_once():
    barrier = threading.Barrier(4)
    modes = []

    @sd.no_grad()
    def infer():
        barrier.wait(5)
        modes.append(sd.is_grad_enabled())

    threads = [threading.Thread(target=infer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert modes == [False] * 4 and sd.is_grad_enabled()
