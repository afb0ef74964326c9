"""The last-axis max and sum of the softmax ops (`max_last`, `sum_last`): column passes on a short axis, NumPy's
reductions on a long one, the same values either way."""

import numpy as np
import pytest

from shendu.ops.softmax import SHORT_AXIS, log_softmax, max_last, softmax, sum_last


@pytest.mark.parametrize("shape", [(7, 1), (60, 10), (3, 4, 10), (5, SHORT_AXIS), (5, SHORT_AXIS + 1), (2, 3, 100)])
def test_match_numpy_reductions(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(max_last(x), x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(sum_last(x), x.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-5)
    assert max_last(x).shape == sum_last(x).shape == (*shape[:-1], 1)


def test_nan_wins_the_max_as_in_numpy() -> None:
    x = np.arange(20, dtype=np.float64).reshape(2, 10)
    x[1, 3] = np.nan
    m = max_last(x)
    assert m[0, 0] == 9 and np.isnan(m[1, 0])


def test_strided_input() -> None:
    x = np.random.default_rng(1).standard_normal((10, 20)).astype(np.float32)[:, ::2]
    np.testing.assert_array_equal(max_last(x), x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(sum_last(x), x.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-5)


def test_softmax_rows_sum_to_one_and_match_the_axis_form() -> None:
    x = np.random.default_rng(2).standard_normal((50, 10)) * 30
    p = softmax(x)
    np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=1e-12)
    np.testing.assert_allclose(p, softmax(x.T, axis=0).T, rtol=1e-12)
    np.testing.assert_allclose(log_softmax(x), np.log(p), rtol=1e-9, atol=1e-12)
