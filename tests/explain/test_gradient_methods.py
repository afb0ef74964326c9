"""Saliency, gradient x input, SmoothGrad and integrated gradients: shapes, targets, the values on models whose
gradient is known by hand, and IG's completeness."""

import numpy as np
import pytest

from shendu import explain
from tests.explain.models import images, linear, small_cnn, two_inputs


def test_one_attribution_per_input_in_the_input_shape():
    model, x = small_cnn(), images()
    for method in (explain.saliency, explain.gradient_x_input, explain.integrated_gradients):
        a = method(model, x)
        assert a.shape == x.shape and a.dtype == np.float32, method.__name__
    assert explain.smooth_grad(model, x, samples=2, seed=0).shape == x.shape
    both = [np.ones((2, 3), np.float32), np.full((2, 2), 0.5, np.float32)]
    out = explain.integrated_gradients(two_inputs(), both)
    assert isinstance(out, list) and [o.shape for o in out] == [(2, 3), (2, 2)]


def test_the_gradient_of_a_linear_model_is_its_kernel_column():
    model = linear()
    kernel = model.layers[0].kernel.numpy()
    x = np.random.default_rng(1).normal(size=(4, 6)).astype(np.float32)
    target = np.array([0, 1, 1, 0])
    np.testing.assert_allclose(explain.saliency(model, x, target, abs=False), kernel[:, target].T, rtol=1e-6)
    np.testing.assert_allclose(explain.saliency(model, x, target), np.abs(kernel[:, target].T), rtol=1e-6)
    np.testing.assert_allclose(explain.gradient_x_input(model, x, target), x * kernel[:, target].T, rtol=1e-6)
    # IG from zeros is exact for a linear model whatever the quadrature
    ig = explain.integrated_gradients(model, x, target, steps=3, method="riemann_left")
    np.testing.assert_allclose(ig, x * kernel[:, target].T, rtol=1e-5, atol=1e-6)


def test_target_defaults_to_the_predicted_class_and_an_int_applies_to_every_sample():
    model, x = small_cnn(), images(4)
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    np.testing.assert_array_equal(explain.saliency(model, x), explain.saliency(model, x, predicted))
    other = (predicted + 1) % 3
    assert not np.allclose(explain.saliency(model, x), explain.saliency(model, x, other))
    np.testing.assert_array_equal(explain.saliency(model, x, 2), explain.saliency(model, x, np.full(4, 2)))


def test_bad_targets_and_inputs_are_refused():
    model, x = small_cnn(), images(2)
    with pytest.raises(ValueError, match="target class 3 is out of range for a model with 3 output"):
        explain.saliency(model, x, 3)
    with pytest.raises(ValueError, match="one class index per sample \\(2\\)"):
        explain.saliency(model, x, [0, 1, 2])
    with pytest.raises(ValueError, match="target must be a class index"):
        explain.saliency(model, x, 0.5)
    with pytest.raises(ValueError, match=r"integer dtype .* layer="):
        explain.gradient_x_input(model, (x * 10).astype(np.int64))
    with pytest.raises(ValueError, match="method must be one of"):
        explain.integrated_gradients(model, x, method="simpson")
    with pytest.raises(ValueError, match="baseline 0 of shape \\(3,\\) does not broadcast"):
        explain.integrated_gradients(model, x, baseline=np.zeros(3))


@pytest.mark.parametrize("method, steps", [("gausslegendre", 50), ("riemann_trapezoid", 200)])
def test_integrated_gradients_completeness(method, steps):
    """sum(IG) = f(x) - f(baseline), up to the quadrature error the function reports (under 1% of the change: the
    ReLUs' kinks keep any quadrature from being exact)."""
    model, x = small_cnn(), images(3)
    baseline = np.full_like(x, 0.5)
    attributions, delta = explain.integrated_gradients(model, x, baseline=baseline, steps=steps, method=method,
                                                       return_convergence_delta=True)
    p = model.predict(x, verbose=0)
    target = p.argmax(axis=1)
    change = p[np.arange(3), target] - model.predict(baseline, verbose=0)[np.arange(3), target]
    assert np.abs(change).min() > 1e-3  # a real change to account for
    np.testing.assert_allclose(attributions.reshape(3, -1).sum(axis=1) - change, delta, atol=1e-6)
    assert np.all(np.abs(delta) < 0.01 * np.abs(change))


def test_more_steps_shrink_the_completeness_error():
    model, x = small_cnn(), images(2)
    errors = [np.abs(explain.integrated_gradients(model, x, steps=s, method="riemann_trapezoid",
                                                  return_convergence_delta=True)[1]).max() for s in (4, 64)]
    assert errors[1] < errors[0] / 4


def test_smooth_grad_is_seeded_and_without_noise_is_the_saliency():
    model, x = small_cnn(), images(2)
    np.testing.assert_allclose(explain.smooth_grad(model, x, noise=0.0, samples=2), explain.saliency(model, x),
                               rtol=1e-6)
    a = explain.smooth_grad(model, x, samples=4, seed=7)
    np.testing.assert_array_equal(a, explain.smooth_grad(model, x, samples=4, seed=7))
    assert not np.allclose(a, explain.saliency(model, x))
    with pytest.raises(ValueError, match="samples must be a positive int"):
        explain.smooth_grad(model, x, samples=0)


def test_batches_give_the_same_attributions():
    model, x = small_cnn(), images(5)
    np.testing.assert_allclose(explain.integrated_gradients(model, x, steps=8, batch_size=3),
                               explain.integrated_gradients(model, x, steps=8, batch_size=64), rtol=1e-5, atol=1e-7)
