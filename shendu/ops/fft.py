"""Discrete Fourier transforms over the innermost axes, on NumPy's FFT (forward only).

X[k] = sum_n x[n] e^(-2 pi i k n / N) ('fft'); 'ifft' is (1 / N) sum_k X[k] e^(2 pi i k n / N); 'rfft' keeps the
N // 2 + 1 non-negative frequencies of a real signal and 'irfft' inverts it. Complex results are complex64 from
float32 or complex64 inputs (complex128 from 64-bit ones), real results float32 or float64, as in TensorFlow.
Their gradients would need complex-aware ops downstream (|X|, real, imag), which shendu does not have, so backward
raises instead of giving a wrong gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops.function import Function

_KINDS = ("fft", "ifft", "rfft", "irfft")


def _complex_of(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.complex128 if dtype in (np.float64, np.complex128) else np.complex64)


def _real_of(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64 if dtype in (np.float64, np.complex128) else np.float32)


class FFT(Function):
    """The transform `kind` over the last `rank` axes, with `fft_length` points per axis for the real transforms
    (the input cropped or zero-padded to it; None: the input's length, 2 (n - 1) for irfft)."""

    def __init__(self, kind: str, rank: int = 1, fft_length: tuple[int, ...] | None = None) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown transform {kind!r}; expected one of {_KINDS}")
        self.kind, self.rank, self.fft_length = kind, rank, fft_length

    def forward(self, x: Any) -> Any:
        if x.ndim < self.rank:
            raise ValueError(f"{self.kind}: the input needs at least {self.rank} axes, got shape {x.shape}")
        axes = tuple(range(-self.rank, 0))
        if self.kind == "fft":
            return np.fft.fftn(x, axes=axes).astype(_complex_of(x.dtype), copy=False)
        if self.kind == "ifft":
            return np.fft.ifftn(x, axes=axes).astype(_complex_of(x.dtype), copy=False)
        if self.kind == "rfft":
            if x.dtype.kind == "c":
                raise ValueError(f"rfft: the input must be real, got dtype {x.dtype}")
            return np.fft.rfftn(x, s=self.fft_length, axes=axes).astype(_complex_of(x.dtype), copy=False)
        return np.fft.irfftn(x, s=self.fft_length, axes=axes).astype(_real_of(x.dtype), copy=False)

    def backward(self, g: Any) -> tuple[Any]:
        raise NotImplementedError(f"tf.signal.{self.kind}: the Fourier transforms are not differentiable in shendu; "
                                  "compute them on values that need no gradient (e.g. data, or tf.stop_gradient(x))")
