"""Hashing and HashedCrossing: strings or integers (or crosses of them) -> bins by a stable hash (Keras 3's layers
and arguments).

The hash is BLAKE2b (hashlib) with an 8-byte digest read as a little-endian unsigned integer, modulo the number of
bins; a salt is the BLAKE2b key (two unsigned 64-bit little-endian words). It is stable across runs, processes and
machines, but it is not Keras's FarmHash64/SipHash64: the same value lands in other bins than in Keras. Integers
are hashed as their decimal text, as Keras does; a cross hashes its values' texts joined by "_X_".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu.layers.category_encoding import MODES, encode, encoded_shape
from shendu.layers.preprocessing import DataLayer
from shendu.tensor import Tensor

_MAX_U64 = 2 ** 64 - 1


def stable_hash(values: Any, num_bins: int, salt: Sequence[int] | None = None) -> np.ndarray:
    """Each value (a string, bytes or integer) hashed into [0, num_bins): BLAKE2b-64 of its UTF-8 bytes (integers
    as their decimal text), keyed by the salt when given, modulo num_bins."""
    arr = np.asarray(values, dtype=object)
    key = b"" if salt is None else b"".join(int(s).to_bytes(8, "little") for s in salt)
    out = np.fromiter((int.from_bytes(hashlib.blake2b(_bytes(v), digest_size=8, key=key).digest(), "little")
                       % num_bins for v in arr.reshape(-1).tolist()), dtype=np.int64, count=arr.size)
    return out.reshape(arr.shape)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value)).encode("ascii")
    raise TypeError(f"Hashing: expected strings or integers, got {type(value).__name__} {value!r}")


class Hashing(DataLayer):
    """Hash strings or integers into num_bins bins (int64 ids, or one_hot/multi_hot/count vectors); with
    mask_value, that value goes to bin 0 and the others to bins 1..num_bins-1. See the module for the hash."""

    def __init__(self, num_bins: int, mask_value: Any = None, salt: int | Sequence[int] | None = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = f"Hashing '{self.name}'"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("int", *MODES):
            raise ValueError(f"{who}: output_mode must be one of {('int', *MODES)}, got {output_mode!r}")
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
            raise ValueError(f"{who}: num_bins must be a positive integer, got {num_bins!r}")
        if mask_value is not None and num_bins < 2:
            raise ValueError(f"{who}: with a mask_value, num_bins must be at least 2 (bin 0 is the mask's), got "
                             f"{num_bins}")
        if sparse:
            raise NotImplementedError(f"{who}: sparse=True is not supported (shendu has no sparse tensors)")
        if salt is not None:
            salt = [salt, salt] if isinstance(salt, (int, np.integer)) else list(salt)
            if len(salt) != 2 or any(not isinstance(s, (int, np.integer)) or not 0 <= s <= _MAX_U64 for s in salt):
                raise ValueError(f"{who}: salt must be an integer or a pair of integers in [0, 2**64), got {salt!r}")
            salt = [int(s) for s in salt]
        self.num_bins, self.mask_value, self.salt = int(num_bins), mask_value, salt
        self.output_mode, self.sparse = output_mode, False
        self.output_dtype = "int64" if output_mode == "int" else None

    def call(self, inputs: Any) -> Tensor:
        arr = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
        if arr.dtype.kind not in "iuUSO":
            raise ValueError(f"Hashing '{self.name}': expected string or integer inputs, got dtype {arr.dtype}")
        if self.mask_value is None:
            ids = stable_hash(arr, self.num_bins, self.salt)
        else:
            ids = stable_hash(arr, self.num_bins - 1, self.salt) + 1
            ids[np.asarray(arr == self.mask_value)] = 0
        if self.output_mode == "int":
            return Tensor(ids)
        return Tensor(encode(ids, self.output_mode, self.num_bins, self.dtype, who=f"Hashing '{self.name}'"))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "mask_value": self.mask_value,
                "salt": self.salt, "output_mode": self.output_mode, "sparse": self.sparse}


class HashedCrossing(DataLayer):
    """Crosses of a tuple of same-shaped string or integer inputs, hashed into num_bins bins (int64 ids, or
    one_hot vectors): the value of row i is the stable hash of its inputs' values joined by "_X_"."""

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = f"HashedCrossing '{self.name}'"
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"{who}: output_mode must be 'int' or 'one_hot', got {output_mode!r}")
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
            raise ValueError(f"{who}: num_bins must be a positive integer, got {num_bins!r}")
        if sparse:
            raise NotImplementedError(f"{who}: sparse=True is not supported (shendu has no sparse tensors)")
        self.num_bins, self.output_mode, self.sparse = int(num_bins), output_mode, False
        self.output_dtype = "int64" if output_mode == "int" else None

    def call(self, inputs: Any) -> Tensor:
        who = f"HashedCrossing '{self.name}'"
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{who}: expects a tuple of at least two inputs to cross, got {type(inputs).__name__}")
        arrays = [np.asarray(x.data if isinstance(x, Tensor) else x) for x in inputs]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError(f"{who}: the crossed inputs must have the same shape, got {[a.shape for a in arrays]}")
        if any(a.dtype.kind not in "iuUSO" for a in arrays):
            raise ValueError(f"{who}: expected string or integer inputs, got dtypes {[a.dtype.name for a in arrays]}")
        texts = [_bytes(v) for a in arrays for v in a.reshape(-1).tolist()]
        rows = [b"_X_".join(texts[k * arrays[0].size + i] for k in range(len(arrays))) for i in range(arrays[0].size)]
        ids = stable_hash(np.array(rows, dtype=object), self.num_bins).reshape(arrays[0].shape)
        if self.output_mode == "int":
            return Tensor(ids)
        return Tensor(encode(ids, "one_hot", self.num_bins, self.dtype, who=who))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape[0])
        return shape if self.output_mode == "int" else encoded_shape(shape, "one_hot", self.num_bins)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}
