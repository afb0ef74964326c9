"""Occlusion on a linear model against the hand computation, and on images."""

import numpy as np
import pytest

from shendu import explain
from tests.explain.models import images, linear, small_cnn


def by_hand(x, w, target, window, stride, baseline):
    """Every window position (the last one cut at the edge), the drop of a linear output, averaged per element."""
    n, d = x.shape
    total, count = np.zeros((n, d)), np.zeros(d)
    for start in range(0, d, stride):
        if start > 0 and start - stride + window >= d:
            break
        cover = slice(start, min(start + window, d))
        drop = ((x[:, cover] - baseline) * w[cover, target].T).sum(axis=1)  # f(x) - f(x occluded)
        total[:, cover] += drop[:, None]
        count[cover] += 1
    return total / count


@pytest.mark.parametrize("window, stride", [(1, 1), (2, 1), (2, 2), (4, 3), (6, 1)])
def test_occlusion_of_a_linear_model_is_the_hand_computation(window, stride):
    model = linear()
    w = model.layers[0].kernel.numpy().astype(np.float64)
    x = np.random.default_rng(2).normal(size=(3, 6)).astype(np.float32)
    target = np.array([1, 0, 1])
    got = explain.occlusion(model, x, target, window=(window,), stride=stride, baseline=0.5)
    np.testing.assert_allclose(got, by_hand(x.astype(np.float64), w, target, window, stride, 0.5), rtol=1e-5,
                               atol=1e-6)


def test_occlusion_of_single_elements_is_the_gradient_x_input_of_a_linear_model():
    model, x = linear(), np.random.default_rng(3).normal(size=(2, 6)).astype(np.float32)
    np.testing.assert_allclose(explain.occlusion(model, x, window=1), explain.gradient_x_input(model, x), rtol=1e-5,
                               atol=1e-6)


def test_image_occlusion_covers_the_channels_and_checks_its_window():
    model, x = small_cnn(), images(2)
    a = explain.occlusion(model, x, window=(3, 3), stride=2)
    assert a.shape == x.shape and np.isfinite(a).all() and np.abs(a).max() > 0
    with pytest.raises(ValueError, match="larger than the input's sample shape"):
        explain.occlusion(model, x, window=(9, 3))
    with pytest.raises(ValueError, match="stride must be a positive int or 2 positive ints"):
        explain.occlusion(model, x, window=(3, 3), stride=(1, 0))
