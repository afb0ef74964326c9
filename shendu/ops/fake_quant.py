"""Integer quantization on raw arrays: Keras 3's abs-max int8 quantizer, and the fake-quantization op of
quantization-aware training, whose backward is the straight-through estimator.

A quantized value q stands for q / scale (symmetric) or (q - zero_point) / scale (asymmetric); `scale` is the
multiplier from floats to integer steps, as Keras's `kernel_scale`, so one step is 1 / scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops.function import Function

EPSILON = 1e-7  # Keras's backend.epsilon(): keeps an all-zero channel's scale finite


def abs_max_quantize(x: np.ndarray, axis: Any, value_range: tuple[int, int] = (-127, 127),
                     dtype: Any = np.int8) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3's `abs_max_quantize`: scale = 127 / (max |x| over `axis` + eps), q = clip(round(x scale), -127, 127).
    Returns (q, scale) with scale keeping the reduced axes; |x - q / scale| <= 0.5 / scale (half a step)."""
    x = np.asarray(x)
    scale = (value_range[1] / (np.max(np.abs(x), axis=axis, keepdims=True) + EPSILON)).astype(x.dtype)
    q = np.clip(np.round(x * scale), value_range[0], value_range[1]).astype(dtype)
    return q, scale


def affine_params(low: Any, high: Any, qmin: int = -128, qmax: int = 127) -> tuple[np.ndarray, np.ndarray]:
    """(scale, zero_point) mapping [low, high] onto the integers [qmin, qmax], as TensorFlow's fake_quant nudges it:
    the range is widened to hold 0, and the zero point is an integer so that 0.0 is exactly representable."""
    low = np.minimum(np.asarray(low, dtype=np.float64), 0.0)
    high = np.maximum(np.asarray(high, dtype=np.float64), 0.0)
    step = np.maximum(high - low, EPSILON) / (qmax - qmin)
    zero_point = np.clip(np.round(qmin - low / step), qmin, qmax)
    return 1.0 / step, zero_point


class FakeQuant(Function):
    """y = (clip(round(x scale) + zero_point, qmin, qmax) - zero_point) / scale: the value an integer of
    [qmin, qmax] carries, in float. Backward: the straight-through estimator, dy/dx = 1 where x lies inside the
    representable range [(qmin - zp) / scale, (qmax - zp) / scale] and 0 where the clip saturates.
    `scale` and `zero_point` broadcast against x (per tensor, or per channel on the last axis)."""

    def __init__(self, scale: Any, zero_point: Any = 0.0, qmin: int = -127, qmax: int = 127) -> None:
        self.scale, self.zero_point, self.qmin, self.qmax = scale, zero_point, qmin, qmax

    def forward(self, x: np.ndarray) -> np.ndarray:
        u = x * self.scale + self.zero_point
        self.inside = (u >= self.qmin) & (u <= self.qmax)
        q = np.clip(np.round(u), self.qmin, self.qmax)
        return ((q - self.zero_point) / self.scale).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.inside,)
