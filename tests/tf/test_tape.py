"""tf.GradientTape: watching, persistence, nested sources and targets, jacobians, what it leaves untouched, the
error for second derivatives, and a custom training loop that trains exactly as `fit`."""

import threading

import numpy as np
import pytest

import shendu as tf
from shendu.tf.tf_function import function

GradientTape, UnconnectedGradients = tf.GradientTape, tf.UnconnectedGradients


def test_watched_constant_gives_its_gradient_and_is_given_back_unchanged():
    x = tf.constant(3.0)
    with GradientTape() as g:
        g.watch(x)
        y = x * x
    assert float(g.gradient(y, x)) == 6.0
    assert not x.requires_grad and x.grad is None


def test_trainable_variables_are_watched_and_constants_are_not():
    v, c = tf.Variable(2.0), tf.constant(5.0)
    with GradientTape() as g:
        y = v * c
    dv, dc = g.gradient(y, [v, c])
    assert float(dv) == 5.0 and dc is None


def test_unconnected_gradients_none_or_zero():
    v, w = tf.Variable([1.0, 2.0]), tf.Variable([[3.0]], dtype="float64")
    with GradientTape(persistent=True) as g:
        y = (v * 2.0).sum()
    assert g.gradient(y, w) is None
    zero = g.gradient(y, w, unconnected_gradients=UnconnectedGradients.ZERO)
    assert zero.shape == (1, 1) and zero.dtype == np.float64 and float(zero.numpy().sum()) == 0.0
    assert g.gradient(y, w, unconnected_gradients="zero").shape == (1, 1)
    with pytest.raises(ValueError, match="unconnected_gradients"):
        g.gradient(y, w, unconnected_gradients="zeros")


def test_non_persistent_tape_gives_one_gradient():
    v = tf.Variable(3.0)
    with GradientTape() as g:
        y = v * v
    g.gradient(y, v)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        g.gradient(y, v)


def test_persistent_tape_gives_several_gradients():
    x = tf.constant(3.0)
    with GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    assert float(g.gradient(z, x)) == 108.0  # 4 x^3
    assert float(g.gradient(y, x)) == 6.0
    assert float(g.gradient(z, y)) == 18.0  # a source made inside the tape
    assert float(g.gradient(y, y)) == 1.0


def test_watch_takes_nested_structures_and_refuses_other_objects():
    a, b = tf.constant([1.0, 2.0]), tf.constant(3.0)
    with GradientTape(persistent=True) as g:
        g.watch({"a": a, "rest": [b]})
        y = (a * b).sum()
    grads = g.gradient(y, {"a": a, "b": (b,)})
    np.testing.assert_array_equal(grads["a"].numpy(), [3.0, 3.0])
    assert isinstance(grads["b"], tuple) and float(grads["b"][0]) == 3.0
    with pytest.raises(ValueError, match=r"not tf\.Tensor"):
        g.watch(np.ones(2))
    with pytest.raises(ValueError, match="sources must be Tensors"):
        g.gradient(y, [a, 1.0])


def test_watching_an_integer_tensor_warns_and_gives_none():
    i = tf.constant(np.array([1, 2]))
    with GradientTape() as g, pytest.warns(UserWarning, match="floating"):
        g.watch(i)
    assert g.gradient(i, i) is None


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    x, v = tf.Variable(2.0), tf.Variable(5.0)
    with GradientTape(watch_accessed_variables=False) as g:
        g.watch(x)
        y = x * v
    dx, dv = g.gradient(y, [x, v])
    assert float(dx) == 5.0 and dv is None


def test_non_trainable_variable_is_watched_only_on_request():
    v = tf.Variable(2.0, trainable=False)
    with GradientTape(persistent=True) as g:
        y = v * v
    assert g.gradient(y, v) is None
    with GradientTape() as g:
        g.watch(v)
        y = v * v
    assert float(g.gradient(y, v)) == 4.0
    assert not v.requires_grad


def test_stop_recording_makes_a_constant():
    x = tf.constant(4.0)
    with GradientTape(persistent=True) as g:
        g.watch(x)
        with g.stop_recording():
            y = x**2
        z = x * 3.0
    dy, dz = g.gradient(y, x), g.gradient(z, x)
    assert dy is None and float(dz) == 3.0
    with pytest.raises(RuntimeError, match="not recording"), g.stop_recording():
        pass


def test_ops_outside_the_tape_are_constants():
    v = tf.Variable(2.0)
    y = v * 2.0  # before the tape
    with GradientTape() as g:
        z = y * v
    assert float(g.gradient(z, v)) == 4.0  # d(y v)/dv with y a constant, not 2 * 2v = 8


def test_a_list_of_targets_is_summed_and_a_non_scalar_target_too(torch):
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    w = tf.Variable(a)
    with GradientTape(persistent=True) as g:
        y1 = (w * w).sum()
        y2 = w.exp()  # non-scalar: the sum of its elements
    weights = np.array([[1.0, 2.0], [3.0, 4.0]])
    tw = torch.tensor(a, requires_grad=True)
    ((tw * tw).sum() + tw.exp().sum()).backward()
    np.testing.assert_allclose(g.gradient([y1, y2], w).numpy(), tw.grad.numpy())
    tw.grad = None
    (tw.exp() * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(g.gradient(y2, w, output_gradients=tf.constant(weights)).numpy(), tw.grad.numpy())
    with pytest.raises(ValueError, match="output_gradients"):
        g.gradient([y1, y2], w, output_gradients=[None])


def test_gradients_do_not_touch_or_depend_on_grad_fields():
    v = tf.Variable([1.0, 2.0])
    stale = tf.constant([100.0, 100.0])
    v.grad = stale
    with GradientTape() as g:
        y = (v * v).sum()
    dv = g.gradient(y, v)
    np.testing.assert_array_equal(dv.numpy(), [2.0, 4.0])
    assert v.grad is stale and stale.numpy().tolist() == [100.0, 100.0]


def test_a_source_given_twice_gets_two_independent_arrays():
    v = tf.Variable([1.0, 2.0])
    with GradientTape() as g:
        y = (v * 3.0).sum()
    a, b = g.gradient(y, [v, v])
    assert not np.shares_memory(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_non_persistent_tape_frees_the_graph_it_walked_and_persistent_keeps_it():
    v = tf.Variable([1.0, 2.0])
    with GradientTape() as g:
        y = (v * v).sum()
    g.gradient(y, v)
    assert y.grad_fn.inputs is None
    with GradientTape(persistent=True) as g:
        y = (v * v).sum()
    g.gradient(y, v)
    assert y.grad_fn.inputs is not None


def test_gradient_inside_a_non_persistent_tape_ends_its_recording():
    x = tf.Variable(2.0)
    with GradientTape() as g:
        y = x * x
        assert float(g.gradient(y, x)) == 4.0
        with pytest.raises(RuntimeError, match="not recording"), g.stop_recording():
            pass
    with pytest.raises(RuntimeError, match="one set of gradients"):
        g.gradient(y, x)


def test_reset_forgets_what_was_recorded():
    v = tf.Variable(3.0)
    with GradientTape() as g:
        loss = v * v
        g.reset()
        loss = loss + v * 2.0
    assert float(g.gradient(loss, v)) == 2.0
    with pytest.raises(ValueError, match="not recording"):
        g.reset()


def test_reentering_a_recording_tape_raises():
    g = GradientTape()
    with g, pytest.raises(ValueError, match="still recording"), g:
        pass


def test_jacobian_and_batch_jacobian(torch):
    x0 = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])
    w0 = np.array([[0.2, -0.4], [1.0, 0.5], [-0.3, 0.8]])
    x, w = tf.constant(x0), tf.Variable(w0)
    with GradientTape(persistent=True) as g:
        g.watch(x)
        y = (x @ w).tanh()
    jx, jw = g.jacobian(y, [x, w])
    tjx, tjw = torch.autograd.functional.jacobian(lambda a, b: torch.tanh(a @ b),
                                                  (torch.tensor(x0), torch.tensor(w0)))
    assert jx.shape == (2, 2, 2, 3) and jw.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(jx.numpy(), tjx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(jw.numpy(), tjw.numpy(), rtol=1e-12)
    bj = g.batch_jacobian(y, x)
    assert bj.shape == (2, 2, 3)
    np.testing.assert_allclose(bj.numpy(), np.stack([tjx.numpy()[i, :, i] for i in range(2)]), rtol=1e-12)
    assert g.jacobian(y, tf.Variable(1.0)) is None
    assert g.jacobian(y, tf.Variable([1.0]), unconnected_gradients="zero").shape == (2, 2, 1)
    with pytest.raises(ValueError, match="first dimensions match"):
        g.batch_jacobian(y, w)


def test_second_derivatives_raise_instead_of_a_wrong_value():
    x = tf.constant(5.0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x
        dy_dx = inner.gradient(y, x)
    assert float(dy_dx) == 10.0
    with pytest.raises(RuntimeError, match="higher-order gradients are not supported"):
        outer.gradient(dy_dx, x)


def test_an_outer_tape_still_gives_first_derivatives_after_an_inner_one():
    x = tf.constant(2.0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        assert float(inner.gradient(y, x)) == 12.0
    assert float(outer.gradient(y, x)) == 12.0  # the inner tape did not free the outer's graph


def test_inner_gradient_taken_while_the_outer_tape_stopped_recording_is_a_constant():
    x = tf.constant(2.0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x
        with outer.stop_recording():
            dy_dx = inner.gradient(y, x)
        z = dy_dx * x
    assert float(outer.gradient(z, x)) == 4.0


def _dense(n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    return tf.Variable(rng.standard_normal((n_in, n_out)) * 0.5), tf.Variable(np.zeros(n_out))


def test_two_tapes_in_one_block_as_in_the_dcgan_tutorial(torch):
    (gw, gb), (dw, db) = _dense(2, 3, 0), _dense(3, 1, 1)
    noise = np.random.default_rng(2).standard_normal((4, 2))
    with GradientTape() as gen_tape, GradientTape() as disc_tape:
        fake = (tf.constant(noise) @ gw + gb).tanh()
        out = (fake @ dw + db).sigmoid()
        gen_loss = -(out.log()).mean()
        disc_loss = -((1.0 - out).log()).mean()
    g_grads = gen_tape.gradient(gen_loss, [gw, gb])
    d_grads = disc_tape.gradient(disc_loss, [dw, db])
    t = {k: torch.tensor(v.numpy(), requires_grad=True) for k, v in (("gw", gw), ("gb", gb), ("dw", dw), ("db", db))}
    tout = torch.sigmoid(torch.tanh(torch.tensor(noise) @ t["gw"] + t["gb"]) @ t["dw"] + t["db"])
    tg = torch.autograd.grad(-torch.log(tout).mean(), [t["gw"], t["gb"]], retain_graph=True)
    td = torch.autograd.grad(-torch.log(1 - tout).mean(), [t["dw"], t["db"]])
    for ours, theirs in zip([*g_grads, *d_grads], [*tg, *td]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_tapes_in_two_threads_do_not_mix():
    results = {}

    def work(name, scale):
        v = tf.Variable([1.0, 2.0])
        for _ in range(50):
            with GradientTape() as g:
                with tf.no_grad():
                    (v * 7.0).sum()
                y = (v * scale).sum()
            results[name] = g.gradient(y, v).numpy()

    threads = [threading.Thread(target=work, args=(f"t{i}", float(i + 1))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        np.testing.assert_array_equal(results[f"t{i}"], [i + 1.0, i + 1.0])


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 2)) + 0.1).astype(np.float32)
    return x, y


def _model(seed_weights=None):
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(5,)),
                                 tf.keras.layers.Dense(2)])
    if seed_weights is not None:
        model.set_weights(seed_weights)
    return model


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf.function"])
@pytest.mark.parametrize("make_optimizer", [lambda: tf.keras.optimizers.SGD(0.05),
                                            lambda: tf.keras.optimizers.Adam(0.01)], ids=["sgd", "adam"])
def test_custom_training_loop_trains_exactly_as_fit(compiled, make_optimizer):
    x, y = _data()
    reference = _model()
    initial = reference.get_weights()
    reference.compile(optimizer=make_optimizer(), loss="mse")
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)

    model, optimizer, loss_fn = _model(initial), make_optimizer(), tf.keras.losses.MeanSquaredError()

    def train_step(xb, yb):
        with GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    step = function(train_step) if compiled else train_step
    for _ in range(2):
        for i in range(0, 32, 8):
            step(x[i:i + 8], y[i:i + 8])
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert all(v.grad is None for v in model.trainable_variables)


def test_a_layer_unfrozen_after_fit_gets_gradients_on_a_tape():
    """fit leaves frozen weights without requires_grad; setting `trainable` again says so to the weights."""
    model = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(2,)), tf.keras.layers.Dense(1)])
    model.layers[0].trainable = False
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    assert len(model.trainable_variables) == 2
    model.layers[0].trainable = True
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(np.ones((4, 2))))
    grads = tape.gradient(loss, model.trainable_variables)
    assert len(grads) == 4 and all(g is not None for g in grads)
    model.layers[0].trainable = False
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(np.ones((4, 2))))
    assert tape.gradient(loss, model.layers[0].kernel) is None


def test_watched_variables_lists_the_watched_and_the_accessed_trainable_variables():
    w, b = tf.Variable(2.0, name="w"), tf.Variable(1.0, name="b")
    frozen, unused, c = tf.Variable(3.0, trainable=False), tf.Variable(5.0, name="unused"), tf.constant(4.0)
    extra = tf.Variable(7.0, name="extra")
    with tf.GradientTape() as tape:
        tape.watch(extra)
        tape.watch(c)  # a tensor, not a variable: watched, but not listed
        y = w * c + b * frozen
    assert [v.name for v in tape.watched_variables()] == ["extra", "w", "b"]
    assert unused not in tape.watched_variables()
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(b)
        y = w * w + b
    assert [v.name for v in tape.watched_variables()] == ["b"]
    assert tape.gradient(y, [w, b])[0] is None


def test_watched_variables_outside_a_recording_tape_are_not_noted():
    from shendu.ops import function

    w = tf.Variable(2.0, name="w")
    with tf.GradientTape() as tape:
        pass
    assert function.record_hook is None  # no tape records: Function.apply pays nothing
    _ = w * w
    assert tape.watched_variables() == ()
    with tf.GradientTape() as outer, outer.stop_recording():
        _ = w * 3.0
    assert outer.watched_variables() == ()
