"""pad_sequences: lists of variable-length sequences to one array, as `keras.utils.pad_sequences`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """An array (num_samples, maxlen, *sample_shape) holding each sequence padded with `value` or truncated.

    maxlen defaults to the longest sequence. padding='pre' puts the padding before the sequence ('post': after);
    truncating='pre' drops values from the start of longer sequences ('post': from the end). Every element must
    have the sample shape of the first non-empty sequence.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of sequences (something with a length)")
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding type "{padding}" not understood; use "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating type "{truncating}" not understood; use "pre" or "post"')
    lengths = []
    sample_shape: tuple[int, ...] = ()
    found = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as error:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables; found {x!r}") from error
        if not found and len(x):
            sample_shape = np.asarray(x).shape[1:]
            found = True
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_str = np.issubdtype(np.dtype(dtype), np.str_) if dtype is not object else False
    if isinstance(value, str) and dtype is not object and not is_str:
        raise ValueError(f"pad_sequences: dtype {dtype} is not compatible with the padding value {value!r}; "
                         "use dtype=object for variable-length strings")
    out = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: sequence {i} has samples of shape {trunc.shape[1:]}, expected "
                             f"{sample_shape} (the shape of the first non-empty sequence's samples)")
        if padding == "post":
            out[i, :len(trunc)] = trunc
        else:
            out[i, -len(trunc):] = trunc
    return out
