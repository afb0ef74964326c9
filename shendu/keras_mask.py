"""Keras masks on tensors: which time steps of a (batch, steps, ...) tensor hold data (True) and which are padding.

Keras attaches a mask to a tensor as `tensor._keras_mask`; `Tensor` has `__slots__`, so the masks live
here, keyed by the tensor's identity and dropped when the tensor is freed (`Tensor._keras_mask` reads and sets
them). Embedding(mask_zero=True) and
Masking set them; `Layer.__call__` passes them on (`supports_masking`, `compute_mask`) and fills in the
`mask=` argument of the layers that use them. `_masks` is empty while no tensor carries a mask, which keeps
that work off the path of maskless models.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from shendu import backend

_masks: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attach a boolean mask (batch, steps) to tensor x (None removes it)."""
    key = id(x)
    if mask is None:
        _masks.pop(key, None)
        return
    ref = weakref.ref(x, lambda r, key=key: _forget(key, r))
    _masks[key] = (ref, _bool_array(mask))


def get_keras_mask(x: Any) -> np.ndarray | None:
    """The mask attached to tensor x, or None."""
    entry = _masks.get(id(x))
    if entry is None or entry[0]() is not x:
        return None
    return entry[1]


def as_mask(mask: Any) -> np.ndarray | None:
    """A mask given as a Tensor, array or list as a boolean NumPy array (None stays None)."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    return _bool_array(mask)


def _bool_array(mask: Any) -> Any:
    """A mask's values as a boolean array where they live (a GPU mask stays on its GPU)."""
    data = getattr(mask, "data", mask)
    return data.astype(bool, copy=False) if backend.is_device_array(data) else np.asarray(data, dtype=bool)


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _masks.get(key)
    if entry is not None and entry[0] is ref:
        del _masks[key]
