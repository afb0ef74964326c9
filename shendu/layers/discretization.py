"""Discretization: numbers -> bucket ids by bin boundaries, given or learned by `adapt` (Keras 3's layer).

Bucket i holds boundaries[i-1] <= x < boundaries[i] (bucket 0 below the first boundary, the last one from the
last boundary up). `adapt` learns num_bins - 1 boundaries at the quantiles of the data through Keras's
approximate quantile summary (epsilon sets its resolution), so adapted boundaries equal Keras's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import backend
from shendu.layers.category_encoding import MODES, encode, encoded_shape
from shendu.layers.preprocessing import DataLayer, adapt_batches
from shendu.tensor import Tensor


def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """A (2, n) summary of values: sorted sample points and the weight each stands for."""
    values = np.sort(np.reshape(values, [-1]))
    increment = values.size / (1.0 / epsilon)
    step = max(increment, 1)
    points = values[int(increment)::int(step)]
    return np.stack([points, np.ones_like(points) * step])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """The summary cut down to about 1/epsilon points, by interpolating its cumulative weights."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_percents = cum_weights / cum_weights[-1]
    points = np.interp(percents, cum_percents, summary[0])
    cum_weights = np.interp(percents, cum_percents, cum_weights)
    weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((points, weights)).astype("float32")


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    """Two summaries as one, compressed."""
    merged = np.concatenate((first, second), axis=1)
    return compress_summary(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


class Discretization(DataLayer):
    """Bucket ids of numbers (int64, same shape), or their one_hot / multi_hot / count encodings over
    len(bin_boundaries) + 1 buckets; boundaries are given, or learned from num_bins and `adapt`."""

    def __init__(self, bin_boundaries: Sequence[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(dtype=dtype or ("int64" if output_mode == "int" else backend.floatx()), **kwargs)
        who = f"Discretization '{self.name}'"
        if output_mode not in ("int", *MODES):
            raise ValueError(f"{who}: output_mode must be one of {('int', *MODES)}, got {output_mode!r}")
        if sparse:
            raise NotImplementedError(f"{who}: sparse=True is not supported (shendu has no sparse tensors)")
        if num_bins is not None and (not isinstance(num_bins, (int, np.integer)) or num_bins < 0):
            raise ValueError(f"{who}: num_bins must be an integer >= 0, got {num_bins!r}")
        if num_bins is not None and bin_boundaries is not None and len(bin_boundaries) != num_bins - 1:
            raise ValueError(f"{who}: both num_bins and bin_boundaries are set, and they disagree: "
                             f"len(bin_boundaries)={len(bin_boundaries)} should be num_bins - 1 = {num_bins - 1}")
        if not 0 < epsilon < 1:
            raise ValueError(f"{who}: epsilon must be in (0, 1), got {epsilon!r}")
        if bin_boundaries is not None:
            b = np.asarray(bin_boundaries, dtype=np.float64)
            if b.ndim != 1 or np.any(np.diff(b) < 0):
                raise ValueError(f"{who}: bin_boundaries must be a sorted list of numbers, got {bin_boundaries!r}")
        self.input_bin_boundaries = bin_boundaries
        self.bin_boundaries = None if bin_boundaries is None else [float(v) for v in bin_boundaries]
        self.num_bins, self.epsilon, self.output_mode, self.sparse = num_bins, float(epsilon), output_mode, False
        self.output_dtype = "int64" if output_mode == "int" else None

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn num_bins - 1 boundaries at the data's quantiles (an array, a Dataset or batches of numbers)."""
        who = f"Discretization '{self.name}'"
        if self.num_bins is None:
            raise ValueError(f"{who}: cannot adapt a layer made with bin_boundaries; make it with num_bins instead")
        summary = np.array([[], []], dtype="float32")
        for arr in adapt_batches(self, data, steps):
            if arr.dtype.kind not in "biuf":
                raise ValueError(f"{who}: adapt expects numbers, got an array of dtype {arr.dtype}")
            summary = merge_summaries(summarize(arr.astype("float32"), self.epsilon), summary, self.epsilon)
        if summary.shape[1] == 0:
            raise ValueError(f"{who}: adapt received no data")
        self.bin_boundaries = compress_summary(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs: Any) -> Tensor:
        who = f"Discretization '{self.name}'"
        if self.bin_boundaries is None:
            raise ValueError(f"{who}: give bin_boundaries when making the layer, or call adapt(data) before using it")
        x = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{who}: expected numbers, got an array of dtype {x.dtype}")
        ids = np.digitize(x, np.asarray(self.bin_boundaries, dtype=np.float64)).astype(np.int64)
        if self.output_mode == "int":
            return Tensor(ids)
        return Tensor(encode(ids, self.output_mode, len(self.bin_boundaries) + 1, self.dtype, who=who))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = None if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        return encoded_shape(tuple(input_shape), self.output_mode, depth)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse}
