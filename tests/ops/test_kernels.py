"""The compiled loops (numba) against the NumPy code they stand in for: the same values bit for bit, float32 and
float64, ties to the first maximum, NaN as np.maximum, overlapping windows, and the switch that turns them off."""

from __future__ import annotations

import numpy as np
import pytest

from shendu.ops import conv, kernels, pool


def both_paths(fn):
    """fn() with the compiled loops on, then off."""
    before = kernels.set_enabled(True)
    try:
        on = fn()
        kernels.set_enabled(False)
        return on, fn()
    finally:
        kernels.set_enabled(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "window", "strides", "relu"), [
    ((3, 8, 8, 5), (2, 2), (2, 2), True),    # windows that tile the image
    ((2, 9, 7, 4), (2, 2), (2, 2), False),   # a row and a column left over
    ((2, 7, 8, 3), (3, 3), (2, 2), True),    # overlapping windows
    ((2, 6, 9, 3), (2, 3), (1, 3), False),
])
def test_max_pool_loops_match_numpy(numba, shape, window, strides, relu, dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, shape).astype(dtype)  # small integers: many ties
    x[0, 0, 0, 0] = np.nan

    def run():
        op = pool.MaxPool2D(pool_size=window, strides=strides)
        op.setup(x.shape)
        y = np.empty(op.out_shape, dtype=dtype)
        idx = op.forward_rows(x, y, relu)
        g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        dx = op.backward_rows(g, idx, np.empty(op.xpad_shape, dtype=dtype), y if relu else None)
        return y, dx, isinstance(idx, tuple)

    (y1, dx1, numpy_on), (y0, dx0, numpy_off) = both_paths(run)
    assert not numpy_on and numpy_off  # the first run took the compiled loop, the second NumPy's passes
    np.testing.assert_array_equal(y1, y0)  # NaN where NumPy has NaN
    np.testing.assert_array_equal(dx1, dx0)
    assert np.isnan(y1[0, 0, 0, 0])


@pytest.mark.parametrize(("kernel", "strides", "dilation", "groups"), [
    ((3, 3), (1, 1), (1, 1), 1), ((2, 3), (2, 1), (1, 2), 1), ((3, 3), (1, 1), (1, 1), 2)])
def test_col2im_loop_matches_numpy(numba, kernel, strides, dilation, groups):
    rng = np.random.default_rng(2)
    n, oh, ow, cg = 2, 4, 5, 3
    taps = rng.standard_normal((*kernel, groups, n, oh, ow, cg)).astype(np.float32)
    h = (oh - 1) * strides[0] + (kernel[0] - 1) * dilation[0] + 1
    w = (ow - 1) * strides[1] + (kernel[1] - 1) * dilation[1] + 1
    start = rng.standard_normal((n, h, w, groups * cg)).astype(np.float32)
    on, off = both_paths(lambda: conv.col2im(taps, start.copy(), oh, ow, strides, dilation))
    np.testing.assert_array_equal(on, off)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_loop_matches_numpy_to_rounding_and_keeps_nan(numba, dtype):
    rng = np.random.default_rng(3)
    g = rng.standard_normal((7744, 5)).astype(dtype)
    g[3, 4] = np.nan
    on, off = both_paths(lambda: conv.sum_rows(g))
    assert on.dtype == off.dtype == dtype and on.shape == (5,)
    np.testing.assert_allclose(on[:4], g[:, :4].astype(np.float64).sum(axis=0), rtol=1e-6 if dtype == np.float32
                               else 1e-13)
    np.testing.assert_allclose(on, off, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert np.isnan(on[4]) and np.isnan(off[4])
    strided = g[:, ::2]  # not contiguous: NumPy's sum either way
    np.testing.assert_array_equal(conv.sum_rows(strided), strided.sum(axis=0))


def test_set_enabled_returns_the_previous_setting_and_needs_numba(monkeypatch):
    before = kernels.set_enabled(False)
    assert kernels.set_enabled(before) is False and kernels.enabled() is before
    monkeypatch.setattr(kernels, "numba", None)
    with pytest.raises(RuntimeError, match="numba is not installed"):
        kernels.set_enabled(True)
