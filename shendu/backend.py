"""The array backend: which array module computes (NumPy, or CuPy on a GPU), where new arrays are placed, and the
default float dtype.

NumPy is the host module and the reference. The device module (CuPy, imported only when a GPU is first asked for,
or a test's stand-in set by `set_device_module`) computes on the GPU; an op picks the module of its input arrays with
`get_array_module`, so the same code runs on both. `as_array` places new arrays on the device chosen by
`shendu.device` (the CPU unless a GPU was asked for).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

import numpy as np

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


GPU_INSTALL = "pip install 'shendu[gpu]' (CuPy for CUDA 12, cupy-cuda12x) on a machine with an NVIDIA CUDA GPU"
cupy: Any = None  # the device array module once loaded (CuPy, or the stand-in a test sets); None: NumPy only
_device_array: type | tuple[type, ...] = ()  # its array type, for the isinstance checks of the hot paths
_missing: str | None = None  # why no GPU could be had (the first try's answer, kept)


class _Placement(threading.local):
    """The stack of `shendu.device` scopes of this thread: each entry a GPU index, or None for the CPU."""

    def __init__(self) -> None:
        self.stack: list[int | None] = []


_placement = _Placement()
_default_device: int | None = None  # `set_default_device`: None for the CPU
_placing = False  # whether any GPU placement was ever asked for (lets `as_array` skip the lookup on CPU-only runs)


def set_device_module(module: Any) -> Any:
    """Use `module` (CuPy's interface: `ndarray`, `asarray`, `asnumpy`, `cuda`) as the device array module; None
    forgets it (CuPy is looked for again on the next request). Returns the previous one. Tests set a stand-in."""
    global cupy, _device_array, _missing
    previous = cupy
    cupy, _device_array, _missing = module, (() if module is None else module.ndarray), None
    return previous


def gpu_count() -> int:
    """How many CUDA GPUs the device module sees (0 without CuPy or without a GPU)."""
    return 0 if _load_device_module() is None else int(cupy.cuda.runtime.getDeviceCount())


def device_module(purpose: str = "this") -> Any:
    """The device array module (CuPy); raises one clear error saying what is missing when there is none."""
    if _load_device_module() is None:
        raise RuntimeError(f"shendu: {purpose} needs a GPU, but {_missing}: {GPU_INSTALL}")
    return cupy


def _load_device_module() -> Any:
    """Import CuPy on first use and keep it when it sees a GPU; None (and the reason in `_missing`) otherwise."""
    global _missing
    if cupy is not None or _missing is not None:
        return cupy
    try:
        import cupy as module  # type: ignore[import-not-found]
    except ImportError:
        _missing = "CuPy is not installed"
        return None
    try:
        count = int(module.cuda.runtime.getDeviceCount())
    except Exception as err:  # CUDA driver or runtime missing: CuPy imports but cannot reach a device
        _missing = f"CuPy cannot reach a CUDA GPU ({type(err).__name__}: {err})"
        return None
    if count == 0:
        _missing = "CuPy sees no CUDA GPU"
        return None
    set_device_module(module)
    return cupy


def get_array_module(*arrays: Any) -> Any:
    """Return the module (numpy, or the device module) that owns these arrays, so ops stay device-agnostic."""
    if cupy is not None:
        for a in arrays:
            if isinstance(a, _device_array):
                return cupy
    return np


def operand(like: Any, value: Any) -> Any:
    """value as an operand of an op on `like`'s device: numbers (and None) stay as they are, arrays are moved to
    like's device (a host-to-device copy, never the reverse)."""
    if value is None or isinstance(value, (int, float, complex, np.generic)) or not is_device_array(like):
        return value
    return to_device(getattr(value, "data", value), array_device(like))


def is_device_array(x: Any) -> bool:
    """Whether x is an array of the device module (on a GPU)."""
    return cupy is not None and isinstance(x, _device_array)


def array_device(x: Any) -> int | None:
    """The GPU index an array lives on, or None for a host (NumPy) array."""
    return int(x.device.id) if is_device_array(x) else None


def placed_device() -> int | None:
    """The GPU index new arrays go to (the innermost `shendu.device` scope, else the default), None for the CPU."""
    if not _placing:
        return None
    stack = _placement.stack
    return stack[-1] if stack else _default_device


def push_device(index: int | None) -> None:
    """Enter a placement scope (a GPU index, None for the CPU); `shendu.device` pairs it with `pop_device`."""
    global _placing
    if index is not None:
        device_module("placing arrays on a GPU")
        _placing = True
    _placement.stack.append(index)


def pop_device() -> None:
    """Leave the innermost placement scope."""
    _placement.stack.pop()


def set_default_device(index: int | None) -> None:
    """Where new arrays go outside any scope: a GPU index, or None for the CPU."""
    global _default_device, _placing
    if index is not None:
        device_module("placing arrays on a GPU")
        _placing = True
    _default_device = index


def default_device() -> int | None:
    """The GPU index of `set_default_device`, or None for the CPU."""
    return _default_device


def to_device(x: Any, index: int | None) -> Any:
    """The array on GPU `index` (None: on the host), copied only when it is elsewhere; this is the one place data
    crosses between host and device."""
    if index is None:
        return cupy.asnumpy(x) if is_device_array(x) else x
    xp = device_module("copying to a GPU")
    if isinstance(x, _device_array) and int(x.device.id) == index:
        return x
    with xp.cuda.Device(index):
        return x.copy() if isinstance(x, _device_array) else xp.asarray(x)


_forbid_implicit = False


def forbid_implicit_transfers(on: bool = True) -> bool:
    """Make implicit device-to-host copies (`np.asarray` of a GPU tensor) raise; the tests turn it on to catch
    silent round trips. `.numpy()`, `.cpu()` and `to_host` stay allowed. Returns the previous setting."""
    global _forbid_implicit
    previous, _forbid_implicit = _forbid_implicit, bool(on)
    return previous


def check_implicit_transfer(x: Any, what: str) -> None:
    """Raise when x is a device array and implicit copies to the host are forbidden."""
    if _forbid_implicit and is_device_array(x):
        raise RuntimeError(f"{what}: implicit copy of an array on /GPU:{array_device(x)} to the host; call "
                           f".numpy() or .cpu() to copy explicitly")


def to_host(x: Any) -> Any:
    """A device array copied to a NumPy array; host values are returned as they are (an explicit transfer)."""
    return cupy.asnumpy(x) if is_device_array(x) else x


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

    Integer and boolean data stay integer and boolean (labels, token ids, masks). Host data goes to the placed
    device (`shendu.device`); a device array stays where it is (a copy to the host is never implicit).
    """
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(dtype, copy=False)
    else:
        if cupy is None and type(data).__module__.startswith("cupy"):
            _load_device_module()  # CuPy arrays given directly: know their module from now on
        if isinstance(data, _device_array):
            return data if dtype is None else data.astype(dtype, copy=False)
        arr = np.asarray(data, dtype=dtype)
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(_floatx)
    if _placing:
        index = placed_device()
        if index is not None and arr.dtype.kind in "biufc":  # strings and objects stay on the host
            return to_device(arr, index)
    return arr


_epsilon = 1e-7


def epsilon() -> float:
    """The small constant that keeps divisions and logarithms finite (Keras's 1e-7 unless changed)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the value `epsilon()` returns (Keras's `set_epsilon`); the built-in losses keep clipping at 1e-7."""
    global _epsilon
    _epsilon = float(value)
