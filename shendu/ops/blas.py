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


SMALL_KERNEL_CORES = ("SkylakeX", "Cooperlake", "SapphireRapids")
"""OpenBLAS cores with small-matrix sgemm kernels, which skip packing the operands for products with m n k up to
SMALL_PRODUCT."""
SMALL_PRODUCT = 100 ** 3
SMALL_INNER = 128
"""Inner-axis length above which a small product also runs faster in pieces (measured, below)."""


@functools.cache
def small_kernels() -> bool:
    """Whether NumPy's OpenBLAS runs small-matrix kernels on this machine."""
    fn = _openblas_function("openblas_get_corename", "scipy_openblas_get_corename64_", "scipy_openblas_get_corename")
    if fn is None:
        return False
    fn.restype = ctypes.c_char_p
    return fn().decode(errors="replace") in SMALL_KERNEL_CORES


def small_parts(m: int, n: int, k: int) -> int:
    """Pieces to cut an (m, k) @ (k, n) product into (along the longer of m and k) for the small-matrix kernels: each
    at most SMALL_PRODUCT multiply-adds and SMALL_INNER long inside; 1 without those kernels. On this 2-core SkylakeX
    machine, per product in the recurrent loops: (256 x 64) @ (64 x 64) 19.2 us whole, 14.4 us in 2 pieces;
    (64 x 256) @ (256 x 64) 21.0 and 14.5 us; (64 x 192) @ (192 x 64) 13.1 and 11.3 us; (192 x 64) @ (64 x 64)
    11.3 us either way; 3 or 4 pieces are no faster than 2."""
    if not small_kernels():
        return 1
    return max(-(-m * n * k // SMALL_PRODUCT), -(-k // SMALL_INNER))


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
