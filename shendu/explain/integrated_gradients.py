"""Integrated gradients (Sundararajan et al. 2017): IG_i(x) = (x_i - x'_i) * integral_0^1 d y_c / d x_i
(x' + a (x - x')) da, from a baseline x' (zeros by default) to the input. The attributions add up to
y_c(x) - y_c(x') (completeness); the integral is a quadrature over `steps` points, Gauss-Legendre by default as
Captum's `IntegratedGradients`, and the completeness error it leaves is returned on request."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.explain import _core
from shendu.explain._layers import find_layer

METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


def quadrature(method: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The points a in [0, 1] and their weights (Captum's `approximation_parameters`): Gauss-Legendre nodes mapped
    to [0, 1], or a Riemann sum (left, right, middle points, or the trapezoid rule with halved end weights)."""
    if method not in METHODS:
        raise ValueError(f"integrated_gradients: method must be one of {METHODS}, got {method!r}")
    if not isinstance(steps, (int, np.integer)) or steps < (1 if method == "gausslegendre" else 2):
        raise ValueError(f"integrated_gradients: steps must be an int >= {1 if method == 'gausslegendre' else 2} "
                         f"for {method}, got {steps!r}")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (1 + nodes), 0.5 * weights
    weights = np.full(steps, 1 / steps)
    if method == "riemann_trapezoid":
        weights[[0, -1]] /= 2
        return np.linspace(0, 1, steps), weights
    start, stop = {"riemann_left": (0, 1 - 1 / steps), "riemann_right": (1 / steps, 1),
                   "riemann_middle": (1 / (2 * steps), 1 - 1 / (2 * steps))}[method]
    return np.linspace(start, stop, steps), weights


def _baselines(arrays: list[np.ndarray], baseline: Any) -> list[np.ndarray]:
    given = [0.0] * len(arrays) if baseline is None else baseline
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(given) != len(arrays):
        raise ValueError(f"integrated_gradients: got {len(given)} baselines for {len(arrays)} inputs")
    out = []
    for i, (a, b) in enumerate(zip(arrays, given)):
        b = np.asarray(b)
        try:
            out.append(np.broadcast_to(b, a.shape).astype(a.dtype))
        except ValueError:
            raise ValueError(f"integrated_gradients: baseline {i} of shape {b.shape} does not broadcast to the "
                             f"input's shape {a.shape}") from None
    return out


def integrated_gradients(model: Any, x: Any, target: Any = None, baseline: Any = None, steps: int = 50,
                         method: str = "gausslegendre", layer: Any = None, return_convergence_delta: bool = False,
                         batch_size: int = 32) -> Any:
    """(x - baseline) * the weighted sum of the gradients at `steps` points between them, one array per input.

    baseline: zeros by default; a number or an array per input that broadcasts to it (for token ids: the ids of the
    baseline text). With `layer` the path runs through that layer's output, from its value on the baseline to its
    value on x (Captum's `LayerIntegratedGradients`; for text, the Embedding: sum over the last axis per token).
    With return_convergence_delta=True, also returns per sample sum(attributions) - (y_c(x) - y_c(baseline)).
    """
    alphas, weights = quadrature(method, steps)
    arrays, several = _core.as_inputs(x, "integrated_gradients")
    baselines = _baselines(arrays, baseline)
    t = _core.targets(model, arrays, target, "integrated_gradients", batch_size)
    if layer is not None:
        attributions, delta = _layer_ig(model, arrays, baselines, t, find_layer(model, layer, "integrated_gradients"),
                                        alphas, weights, batch_size)
    else:
        attributions, delta = _input_ig(model, _core.float_inputs(arrays, "integrated_gradients"), baselines, t,
                                        alphas, weights, batch_size)
        attributions = _core.pack(attributions, several)
    return (attributions, delta) if return_convergence_delta else attributions


def _input_ig(model: Any, arrays: list[np.ndarray], baselines: list[np.ndarray], t: np.ndarray,
              alphas: np.ndarray, weights: np.ndarray, batch_size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The path points of several alphas stacked into one batch (about batch_size rows), gradients summed with
    the quadrature weights."""
    n = arrays[0].shape[0]
    diffs = [a.astype(np.float64) - b for a, b in zip(arrays, baselines)]
    totals = [np.zeros(a.shape, dtype=np.float64) for a in arrays]
    group = max(1, batch_size // max(n, 1))
    for k in range(0, len(alphas), group):
        alpha = alphas[k:k + group]
        points = [np.concatenate([b + a * d for a in alpha]).astype(x.dtype)
                  for x, b, d in zip(arrays, baselines, diffs)]
        grads, _ = _core.gradients(model, points, np.tile(t, len(alpha)), "integrated_gradients", batch_size)
        for total, g in zip(totals, grads):
            total += np.tensordot(weights[k:k + group], g.reshape((len(alpha), n, *g.shape[1:])), axes=1)
    attributions = [(total * d).astype(a.dtype) for total, d, a in zip(totals, diffs, arrays)]
    ends = _core.predict(model, arrays, batch_size)[np.arange(n), t]
    starts = _core.predict(model, baselines, batch_size)[np.arange(n), t]
    return attributions, _delta(attributions, ends - starts)


def _layer_ig(model: Any, arrays: list[np.ndarray], baselines: list[np.ndarray], t: np.ndarray, layer: Any,
              alphas: np.ndarray, weights: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The path in the layer's output space; the model runs on x with the layer's output replaced by each point
    (so a Keras mask made from x's token ids stays that of x), and the end values come from the same runs."""
    who = "integrated_gradients"
    at_x, _, end = _core.layer_gradients(model, arrays, t, layer, who, batch_size)
    at_base = _core.layer_output(model, baselines, layer, who, batch_size)
    _, _, start = _core.layer_gradients(model, arrays, t, layer, who, batch_size, replace=lambda a, r: at_base[r])
    diff = at_x.astype(np.float64) - at_base
    total = np.zeros(at_x.shape, dtype=np.float64)
    for alpha, weight in zip(alphas, weights):
        point = (at_base + alpha * diff).astype(at_x.dtype)
        _, g, _ = _core.layer_gradients(model, arrays, t, layer, who, batch_size, replace=lambda a, r, p=point: p[r])
        total += weight * g
    attributions = (total * diff).astype(at_x.dtype)
    return attributions, _delta([attributions], end - start)


def _delta(attributions: list[np.ndarray], change: np.ndarray) -> np.ndarray:
    """Completeness error per sample: the attributions' total minus y_c(x) - y_c(baseline)."""
    n = change.shape[0]
    total = sum(a.reshape(n, -1).astype(np.float64).sum(axis=1) for a in attributions)
    return total - change
