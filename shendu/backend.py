"""The array backend: which array module computes (NumPy, or CuPy on a GPU) and the default float dtype."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import numpy as np

try:  # CuPy is optional; without it every array is a NumPy array.
    import cupy  # type: ignore[import-not-found]
except ImportError:
    cupy = None

_floatx = np.dtype("float32")


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory (no trimming; arrays up to 32 MB from the heap, not fresh mmaps).

    Training allocates the same large temporaries every step; handed back to the OS, each page faults
    again on reuse (about 1 us a page), which measured here doubled a convolution's time. Set
    SHENDU_KEEP_FREED_MEMORY=0 to leave malloc as it is. Returns whether the setting was applied.
    """
    if not sys.platform.startswith("linux") or os.environ.get("SHENDU_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))


keep_freed_memory()


def get_array_module(*arrays: Any) -> Any:
    """Return the module (numpy or cupy) that owns these arrays, so ops stay device-agnostic."""
    if cupy is None:
        return np
    return cupy.get_array_module(*arrays)


def floatx() -> np.dtype:
    """The default float dtype for new tensors and weights (float32 unless changed)."""
    return _floatx


def set_floatx(dtype: Any) -> None:
    """Set the default float dtype (e.g. 'float64' for gradient checks)."""
    global _floatx
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"set_floatx: expected a floating dtype, got {dt}")
    _floatx = dt


def as_array(data: Any, dtype: Any = None) -> Any:
    """Convert data to an array: Python floats and lists become floatx, arrays keep their dtype.

    Integer and boolean data stay integer and boolean (labels, token ids, masks).
    """
    if dtype is not None:
        if isinstance(data, np.ndarray) or (cupy is not None and isinstance(data, cupy.ndarray)):
            return data.astype(dtype, copy=False)
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    if cupy is not None and isinstance(data, cupy.ndarray):
        return data
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        arr = arr.astype(_floatx)
    return arr


_epsilon = 1e-7


def epsilon() -> float:
    """The small constant that keeps divisions and logarithms finite (Keras's 1e-7 unless changed)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the value `epsilon()` returns (Keras's `set_epsilon`); the built-in losses keep clipping at 1e-7."""
    global _epsilon
    _epsilon = float(value)
