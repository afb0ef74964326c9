"""Helpers shared by the optimizer tests: a small problem (weights and gradients) and a run over it."""

import numpy as np

from shendu.variable import Variable

SHAPES = [(5, 3), (3,)]


def problem(steps, seed=0, dtype=np.float64, shapes=SHAPES):
    """Initial weights and a gradient sequence for one variable per shape."""
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return w0, grads


def run(opt, w0, grads):
    """The weights after applying each step's gradients with `opt`, from copies of w0."""
    vs = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(w0)]
    for gs in grads:
        opt.apply_gradients(zip(gs, vs))
    return [v.data for v in vs]
