"""tf.signal: the Fourier transforms, windows, framing and the short-time Fourier transform tutorials use.

The transforms (`shendu.ops.fft`) run forward only: a gradient through them raises NotImplementedError. `frame`
and the windows' products are ordinary ops and carry gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import functions
from shendu.creation import convert_to_tensor
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops.fft import FFT
from shendu.tensor import Tensor


def _lengths(fft_length: Any, rank: int, fn: str) -> tuple[int, ...] | None:
    if fft_length is None:
        return None
    vals = [int(v) for v in np.atleast_1d(np.asarray(fft_length.data if isinstance(fft_length, Tensor)
                                                     else fft_length))]
    if len(vals) != rank or min(vals) < 1:
        raise ValueError(f"{fn}: fft_length must be {rank} positive int(s), got {fft_length!r}")
    return tuple(vals)


def _complex(x: Any) -> Tensor:
    t = convert_to_tensor(x)
    return t if t.dtype.kind == "c" else t.astype(np.complex128 if t.dtype == np.float64 else np.complex64)


def fft(input: Any, name: str | None = None) -> Tensor:
    """The discrete Fourier transform over the innermost axis."""
    return FFT.apply(_complex(input), kind="fft")


def ifft(input: Any, name: str | None = None) -> Tensor:
    """The inverse discrete Fourier transform over the innermost axis."""
    return FFT.apply(_complex(input), kind="ifft")


def fft2d(input: Any, name: str | None = None) -> Tensor:
    """The discrete Fourier transform over the two innermost axes."""
    return FFT.apply(_complex(input), kind="fft", rank=2)


def ifft2d(input: Any, name: str | None = None) -> Tensor:
    """The inverse discrete Fourier transform over the two innermost axes."""
    return FFT.apply(_complex(input), kind="ifft", rank=2)


def rfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """The N // 2 + 1 non-negative frequencies of the transform of a real signal over its innermost axis (the
    signal cropped or zero-padded to fft_length first)."""
    return FFT.apply(convert_to_tensor(input_tensor), kind="rfft", fft_length=_lengths(fft_length, 1, "tf.signal.rfft"))


def irfft(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """The real signal of length fft_length (2 (n - 1) by default) whose rfft is input_tensor."""
    return FFT.apply(_complex(input_tensor), kind="irfft", fft_length=_lengths(fft_length, 1, "tf.signal.irfft"))


def rfft2d(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """rfft over the two innermost axes."""
    return FFT.apply(convert_to_tensor(input_tensor), kind="rfft", rank=2,
                     fft_length=_lengths(fft_length, 2, "tf.signal.rfft2d"))


def irfft2d(input_tensor: Any, fft_length: Any = None, name: str | None = None) -> Tensor:
    """irfft over the two innermost axes."""
    return FFT.apply(_complex(input_tensor), kind="irfft", rank=2,
                     fft_length=_lengths(fft_length, 2, "tf.signal.irfft2d"))


def _window(window_length: int, periodic: bool, dtype: Any, a: float, fn: str) -> Tensor:
    """a - (1 - a) cos(2 pi n / N), n = 0 ... window_length - 1, N = window_length (periodic) or window_length - 1."""
    if window_length < 0:
        raise ValueError(f"{fn}: window_length must be >= 0, got {window_length}")
    if window_length == 1:
        return Tensor(np.ones(1, dtype=dtype))
    n = np.arange(window_length)
    period = window_length if periodic else window_length - 1
    return Tensor((a - (1 - a) * np.cos(2 * np.pi * n / period)).astype(dtype))


def hann_window(window_length: int, periodic: bool = True, dtype: Any = np.float32, name: str | None = None) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / N)."""
    return _window(int(window_length), periodic, dtype, 0.5, "tf.signal.hann_window")


def hamming_window(window_length: int, periodic: bool = True, dtype: Any = np.float32,
                   name: str | None = None) -> Tensor:
    """0.54 - 0.46 cos(2 pi n / N)."""
    return _window(int(window_length), periodic, dtype, 0.54, "tf.signal.hamming_window")


def frame(signal: Any, frame_length: int, frame_step: int, pad_end: bool = False, pad_value: float = 0,
          axis: int = -1, name: str | None = None) -> Tensor:
    """The frames signal[..., i step : i step + frame_length, ...] along axis, stacked as two axes (frames,
    frame_length) in its place; with pad_end, ceil(n / step) frames over the signal padded with pad_value."""
    fn = "tf.signal.frame"
    x = convert_to_tensor(signal)
    if x.ndim == 0 or frame_length < 1 or frame_step < 1:
        raise ValueError(f"{fn}: need a signal with an axis and positive frame_length and frame_step, got shape "
                         f"{x.shape}, {frame_length}, {frame_step}")
    a = axis % x.ndim
    x = x.transpose([i for i in range(x.ndim) if i != a] + [a])
    n = x.shape[-1]
    if pad_end:
        frames = -(-n // frame_step)
        extra = max((frames - 1) * frame_step + frame_length - n, 0)
        x = functions.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)], constant_values=pad_value)
    else:
        frames = max(0, 1 + (n - frame_length) // frame_step)
    idx = np.arange(frames)[:, None] * frame_step + np.arange(frame_length)
    y = x[..., idx]
    lead = list(range(y.ndim - 2))
    return y.transpose([*lead[:a], y.ndim - 2, y.ndim - 1, *lead[a:]])


def stft(signals: Any, frame_length: int, frame_step: int, fft_length: int | None = None,
         window_fn: Callable[..., Any] | None = hann_window, pad_end: bool = False, name: str | None = None) -> Tensor:
    """The short-time Fourier transform: rfft of each windowed frame, (..., frames, fft_length // 2 + 1); fft_length
    defaults to the smallest power of 2 >= frame_length."""
    x = convert_to_tensor(signals)
    if fft_length is None:
        fft_length = 2 ** math.ceil(math.log2(frame_length))
    frames = frame(x, frame_length, frame_step, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(frame_length, dtype=frames.dtype)
    return rfft(frames, [fft_length])


__all__ = [
    "fft", "fft2d", "frame", "hamming_window", "hann_window", "ifft", "ifft2d", "irfft", "irfft2d", "rfft",
    "rfft2d", "stft",
]

dispatch_symbolic(globals(), "signal.")  # tf.* on KerasTensors builds a TFOpLambda layer
