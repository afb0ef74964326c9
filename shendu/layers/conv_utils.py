"""Argument checks shared by the convolution, pooling and image-reshaping layers (Keras's spellings)."""

from __future__ import annotations

from typing import Any

import numpy as np


def normalize_tuple(value: Any, n: int, arg: str, layer: Any, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of n ints as a tuple of n ints (> 0, or >= 0 with allow_zero), as Keras accepts."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value) if value is not None else ()
    low = 0 if allow_zero else 1
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low
                                   for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{_who(layer)}: {arg} must be a {kind} integer or a tuple of {n} of them, got {value!r}")
    return tuple(int(v) for v in values)


def normalize_padding(padding: Any, layer: Any, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """'valid' / 'same' (/ 'causal' where allowed), case-insensitive as in Keras."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{_who(layer)}: padding must be one of {allowed}, got {padding!r}")
    return mode


def check_data_format(data_format: Any, layer: Any) -> str:
    """Only channels-last is supported: say so clearly for 'channels_first'."""
    if data_format in (None, "channels_last"):
        return "channels_last"
    if data_format == "channels_first":
        raise ValueError(
            f"{_who(layer)}: data_format='channels_first' is not supported; shendu works channels-last "
            "(batch, ..., channels). Transpose the inputs, e.g. with Permute((2, 3, 1)) for images."
        )
    raise ValueError(f"{_who(layer)}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")


def check_rank(layer: Any, shape: tuple[Any, ...], rank: int) -> None:
    """Inputs must be (batch, *rank spatial axes, channels); the error says how to add a channel axis."""
    if len(shape) != rank + 2:
        axes = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}.get(rank, f"of rank {rank + 2}")
        hint = ""
        if len(shape) == rank + 1:
            hint = f"; add a channel axis, e.g. x[..., None] or Reshape({(*tuple(shape[1:]), 1)})"
        raise ValueError(f"{_who(layer)}: expected inputs of rank {rank + 2} {axes}, got shape {tuple(shape)}{hint}")


def _who(layer: Any) -> str:
    return f"{type(layer).__name__} '{layer.name}'" if hasattr(layer, "name") else type(layer).__name__
