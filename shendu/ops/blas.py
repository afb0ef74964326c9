"""NumPy's own single-precision matrix product (`cblas_sgemm` of the OpenBLAS that NumPy ships) as a ctypes function,
for compiled loops that make a small product at every step (the recurrent time loops) and so would otherwise return
to Python, and take the GIL, between steps.

`sgemm()` is None where NumPy's BLAS is not an OpenBLAS we can reach (another BLAS, a system build); callers then run
the loop in Python with `numpy.matmul`, which is the reference. Row-major products only:
C[m, n] = A[m, k] @ B[k, n] with leading dimensions lda, ldb, ldc (in elements).
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

from shendu.parallel import _openblas_function

ROW_MAJOR, NO_TRANS = 101, 111  # CBLAS_ORDER.CblasRowMajor, CBLAS_TRANSPOSE.CblasNoTrans

_NAMES = (("scipy_cblas_sgemm64_", ctypes.c_int64), ("scipy_cblas_sgemm", ctypes.c_int32),
          ("cblas_sgemm64_", ctypes.c_int64), ("cblas_sgemm", ctypes.c_int32))
"""The names NumPy's OpenBLAS builds give cblas_sgemm, with the integer type of their sizes: NumPy 2's ILP64 and LP64
builds (scipy-openblas), NumPy 1's ILP64 build, a plain OpenBLAS."""


@functools.cache
def sgemm() -> Any:
    """cblas_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), or None."""
    for name, blas_int in _NAMES:
        fn = _openblas_function(name)
        if fn is not None:
            fn.restype = None
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, blas_int, blas_int, blas_int, ctypes.c_float,
                           ctypes.c_void_p, blas_int, ctypes.c_void_p, blas_int, ctypes.c_float, ctypes.c_void_p,
                           blas_int]
            return fn
    return None
