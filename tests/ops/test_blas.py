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


@pytest.mark.parametrize("shape", [(256, 64, 64), (64, 64, 256), (7, 5, 13), (13, 5, 7)])  # (m, n, k)
@pytest.mark.parametrize("parts", [1, 2, 3])
def test_recurrent_product_in_pieces_equals_matmul(numba, shape, parts):
    """The recurrent loops' product cut along the longer of m and k (rows of out, or the inner axis added up)."""
    from shendu.ops import kernels_recurrent

    sgemm = blas.sgemm()
    if sgemm is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS that shendu can reach")
    m, n, k = shape
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    out = np.full((m, n), np.nan, np.float32)
    kernels_recurrent._product(sgemm, parts, a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)  # sums of up to 256 products of size ~1


def test_small_parts_keep_each_piece_small():
    if not blas.small_kernels():
        assert blas.small_parts(256, 64, 64) == 1
        return
    assert blas.small_parts(256, 64, 64) == 2  # 1,048,576 multiply-adds: two pieces of rows
    assert blas.small_parts(64, 64, 256) == 2  # inner axis 256: two pieces of it
    assert blas.small_parts(192, 64, 64) == 1
    assert blas.small_parts(8, 8, 8) == 1
