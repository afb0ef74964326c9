"""NumPy's own sgemm through ctypes (shendu.ops.blas), which the compiled recurrent loops call: it computes what
numpy.matmul does, on whole arrays and on row-major blocks with leading dimensions."""

import ctypes

import numpy as np
import pytest

from shendu.ops import blas


def test_sgemm_matches_matmul_on_arrays_and_on_blocks():
    sgemm = blas.sgemm()
    if sgemm is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS that shendu can reach")
    rng = np.random.default_rng(0)
    a, b = rng.random((7, 5), dtype=np.float32), rng.random((5, 6), dtype=np.float32)
    c = np.full((7, 6), np.nan, np.float32)
    sgemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, 7, 6, 5, 1.0, a.ctypes.data, 5, b.ctypes.data, 6, 0.0,
          c.ctypes.data, 6)
    np.testing.assert_allclose(c, a @ b, rtol=1e-6)
    wide = np.zeros((7, 10), np.float32)  # columns 2 ... 7 of a wider array: ldc = 10
    sgemm(blas.ROW_MAJOR, blas.NO_TRANS, blas.NO_TRANS, 7, 6, 5, 1.0, a.ctypes.data, 5, b.ctypes.data, 6, 0.0,
          wide.ctypes.data + 2 * 4, 10)
    np.testing.assert_allclose(wide[:, 2:8], a @ b, rtol=1e-6)
    assert not wide[:, :2].any() and not wide[:, 8:].any()
    assert sgemm.argtypes[3] in (ctypes.c_int32, ctypes.c_int64)
