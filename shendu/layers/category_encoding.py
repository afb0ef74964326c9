"""CategoryEncoding: integer ids -> one-hot, multi-hot or count vectors (Keras 3's layer), and the `encode` those
modes share with the lookup layers, TextVectorization's cousins and Discretization."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.layers.preprocessing import DataLayer
from shendu.tensor import Tensor

MODES = ("one_hot", "multi_hot", "count")


def encode(ids: np.ndarray, output_mode: str, depth: int, dtype: Any, weights: np.ndarray | None = None,
           who: str = "encode") -> np.ndarray:
    """Ids (rank 0, 1 or 2; -1 marks a dropped mask token) as Keras 3 encodes them: one_hot adds an axis (a
    trailing axis of 1 is replaced); multi_hot, count and tf_idf reduce the last axis (rank 0 and 1: one
    vector). weights scale each id's count (count_weights, or the idf of each id)."""
    ids = np.asarray(ids)
    if ids.ndim > 2:
        raise ValueError(f"{who}: when output_mode is not 'int', the inputs may have rank 2 at most; got output_mode="
                         f"{output_mode!r} and inputs of shape {ids.shape}")
    if ids.size and (ids.max() >= depth or ids.min() < -1):
        raise ValueError(f"{who}: input values must be in the range 0 <= values < num_tokens with num_tokens={depth}; "
                         f"got values from {ids.min()} to {ids.max()}")
    if output_mode == "one_hot":
        if ids.ndim == 2 and ids.shape[-1] == 1:
            ids = ids[:, 0]
        out = np.zeros((*ids.shape, depth), dtype=dtype)
        flat, rows = out.reshape(-1, depth), ids.reshape(-1)
        keep = rows >= 0
        flat[np.nonzero(keep)[0], rows[keep]] = 1
        return out
    rows = ids.reshape(1 if ids.ndim < 2 else ids.shape[0], -1)
    out = np.zeros((rows.shape[0], depth), dtype=dtype)
    r, c = np.nonzero(rows >= 0)
    if output_mode == "multi_hot":
        out[r, rows[r, c]] = 1
    else:
        w = 1 if weights is None else np.broadcast_to(np.asarray(weights), ids.shape).reshape(rows.shape)[r, c]
        np.add.at(out, (r, rows[r, c]), w)
    return out if ids.ndim == 2 else out[0]


def encoded_shape(input_shape: tuple[Any, ...], output_mode: str, depth: int | None) -> tuple[Any, ...]:
    """The shape `encode` gives for inputs of this shape."""
    shape = tuple(input_shape)
    if output_mode == "one_hot":
        return (*(shape[:-1] if len(shape) == 2 and shape[-1] == 1 else shape), depth)
    return (*shape[:-1], depth) if len(shape) == 2 else (depth,)


def int_ids(inputs: Any, who: str) -> np.ndarray:
    """Inputs as an int64 array; floats must hold whole numbers."""
    arr = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise ValueError(f"{who}: expected integer inputs, got an array of dtype {arr.dtype}"
                     + (" holding non-whole numbers" if arr.dtype.kind == "f" else ""))


class CategoryEncoding(DataLayer):
    """Integer ids in [0, num_tokens) -> 'multi_hot' (default), 'one_hot' or 'count' float vectors of num_tokens;
    `call(inputs, count_weights)` weights each id's count in 'count' mode."""

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = f"CategoryEncoding '{self.name}'"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in MODES:
            raise ValueError(f"{who}: output_mode must be one of {MODES}, got {output_mode!r}")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
            raise ValueError(f"{who}: num_tokens must be a positive integer, got {num_tokens!r}")
        if sparse:
            raise NotImplementedError(f"{who}: sparse=True is not supported (shendu has no sparse tensors); use "
                                      "sparse=False")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def call(self, inputs: Any, count_weights: Any = None) -> Tensor:
        who = f"CategoryEncoding '{self.name}'"
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"{who}: count_weights is only used when output_mode='count', got output_mode="
                             f"{self.output_mode!r}")
        ids = int_ids(inputs, who)
        if ids.size and ids.min() < 0:
            raise ValueError(f"{who}: input values must be in the range 0 <= values < num_tokens with num_tokens="
                             f"{self.num_tokens}; got {ids.min()}")
        weights = None if count_weights is None else np.asarray(getattr(count_weights, "data", count_weights))
        return Tensor(encode(ids, self.output_mode, self.num_tokens, self.dtype, weights, who))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}
