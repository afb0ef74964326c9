"""tf's creation functions and dtypes: constant, zeros, ones, fill, eye, range, linspace, one_hot, cast, ..."""

from __future__ import annotations

import numpy as np

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int8, int16, int32, int64, uint8, bool_ = (np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "bool"))

__all__: list[str] = ["bool_", "float16", "float32", "float64", "int16", "int32", "int64", "int8", "uint8"]
