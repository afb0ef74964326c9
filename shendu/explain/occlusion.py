"""Occlusion (Zeiler and Fergus 2014): slide a window over the input, replace what it covers by a baseline, and
give every covered element the drop of the target output, y_c(x) - y_c(x occluded), averaged over the windows
that cover it (Captum's `Occlusion`: the last window on an axis is cut at the edge, so every element is covered)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from shendu.explain import _core


def _per_axis(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """A window or stride as one int per covered axis."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in values):
        raise ValueError(f"occlusion: {name} must be a positive int or {rank} positive ints, got {value!r}")
    return tuple(int(v) for v in values)


def _windows(shape: tuple[int, ...], window: Any, stride: Any) -> list[tuple[slice, ...]]:
    """The index of every window position: `window` covers the first axes of a sample; the axes it leaves out
    (the channels of an image) are covered whole."""
    size = _per_axis(window, len(window) if isinstance(window, (tuple, list)) else 1, "window")
    if len(size) > len(shape):
        raise ValueError(f"occlusion: window {size} has more axes than a sample of shape {shape}")
    steps = _per_axis(stride, len(size), "stride")
    axes = []
    for n, w, s in zip(shape, size, steps):
        if w > n:
            raise ValueError(f"occlusion: window {size} is larger than the input's sample shape {shape}")
        axes.append([slice(p, min(p + w, n)) for p in range(0, s * (int(np.ceil((n - w) / s)) + 1), s)])
    return list(itertools.product(*axes))


def occlusion(model: Any, x: Any, target: Any = None, window: Any = (3, 3), stride: Any = 1, baseline: Any = 0.0,
              batch_size: int = 32) -> Any:
    """y_c(x) - y_c(x with a window replaced by baseline), averaged over the windows covering each element.

    window / stride: one int per leading sample axis ((rows, cols) of an NHWC image, (tokens,) of a sequence: token
    ids occluded by baseline=0, the padding id); for several inputs, one window per input. Each input is occluded
    in turn, the others left as they are.
    """
    arrays, several = _core.as_inputs(x, "occlusion")
    n = arrays[0].shape[0]
    windows = window if several and isinstance(window, list) else [window] * len(arrays)
    strides = stride if several and isinstance(stride, list) else [stride] * len(arrays)
    baselines = baseline if several and isinstance(baseline, list) else [baseline] * len(arrays)
    if not len(windows) == len(strides) == len(baselines) == len(arrays):
        raise ValueError(f"occlusion: give one window, stride and baseline per input ({len(arrays)})")
    t = _core.targets(model, arrays, target, "occlusion", batch_size)
    reference = _core.predict(model, arrays, batch_size)[np.arange(n), t]
    results = []
    for i, a in enumerate(arrays):
        fill = np.broadcast_to(np.asarray(baselines[i], dtype=a.dtype), a.shape[1:])
        positions = _windows(a.shape[1:], windows[i], strides[i])
        total = np.zeros(a.shape, dtype=np.float64)
        counts = np.zeros(a.shape[1:], dtype=np.float64)
        group = max(1, batch_size // max(n, 1))
        for k in range(0, len(positions), group):
            chunk = positions[k:k + group]
            occluded = np.repeat(a[np.newaxis], len(chunk), axis=0)
            for j, where in enumerate(chunk):
                occluded[(j, slice(None), *where)] = fill[where]
            batch = [occluded.reshape((-1, *a.shape[1:])) if m == i else np.concatenate([b] * len(chunk))
                     for m, b in enumerate(arrays)]
            drop = reference - _core.predict(model, batch, batch_size)[np.arange(len(chunk) * n),
                                                                      np.tile(t, len(chunk))].reshape(len(chunk), n)
            for j, where in enumerate(chunk):
                total[(slice(None), *where)] += drop[j].reshape((n,) + (1,) * (a.ndim - 1))
                counts[where] += 1
        results.append((total / counts).astype(a.dtype if a.dtype.kind == "f" else np.float32))
    return _core.pack(results, several)
