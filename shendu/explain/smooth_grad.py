"""SmoothGrad (Smilkov et al. 2017): the saliency averaged over copies of the input with Gaussian noise added,
(1/n) sum_k |d y_c / d x (x + e_k)|, e_k ~ N(0, (noise * (max x - min x))^2) per sample; it removes the speckle of
single gradients (Captum's `NoiseTunnel(Saliency(model))` with nt_type='smoothgrad')."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.explain import _core


def smooth_grad(model: Any, x: Any, target: Any = None, noise: float = 0.15, samples: int = 50,
                seed: int | None = None, abs: bool = True, batch_size: int = 32) -> Any:
    """The mean over `samples` noisy copies of the gradient (its absolute value with abs=True, as Captum's default
    Saliency); `noise` is the standard deviation as a fraction of each sample's value range (the paper's 10-20%)."""
    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"smooth_grad: samples must be a positive int, got {samples!r}")
    if not noise >= 0:
        raise ValueError(f"smooth_grad: noise must be >= 0 (a fraction of the input range), got {noise!r}")
    arrays, several = _core.as_inputs(x, "smooth_grad")
    arrays = _core.float_inputs(arrays, "smooth_grad")
    t = _core.targets(model, arrays, target, "smooth_grad", batch_size)
    rng = np.random.default_rng(seed)
    n = arrays[0].shape[0]
    sigmas = [noise * (a.reshape(n, -1).max(axis=1) - a.reshape(n, -1).min(axis=1)) for a in arrays]
    totals = [np.zeros(a.shape, dtype=np.float64) for a in arrays]
    for _ in range(int(samples)):
        noisy = [(a + rng.standard_normal(a.shape) * s.reshape((n,) + (1,) * (a.ndim - 1))).astype(a.dtype)
                 for a, s in zip(arrays, sigmas)]
        grads, _ = _core.gradients(model, noisy, t, "smooth_grad", batch_size)
        for total, g in zip(totals, grads):
            total += np.abs(g) if abs else g
    return _core.pack([(total / samples).astype(a.dtype) for total, a in zip(totals, arrays)], several)
