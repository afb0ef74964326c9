"""The compiled LSTM and GRU steps (shendu.ops.kernels_recurrent) against the NumPy loops they stand in for: the same
outputs and gradients in float32, with masks, initial states, recurrent dropout, go_backwards and all output forms,
both as whole compiled loops calling BLAS and as one compiled call per step; and the float32 tanh they use against
np.tanh."""

from __future__ import annotations

import numpy as np
import pytest

from shendu.ops import kernels
from shendu.ops.recurrent import GRUSequence, LSTMSequence
from shendu.tensor import Tensor

BATCH, STEPS, FEATURES, UNITS = 5, 7, 3, 4


def test_tanh32_is_within_rounding_of_numpy(numba):
    from shendu.ops.kernels_recurrent import tanh_into

    x = np.concatenate([np.linspace(-12, 12, 20001), [0.0, -0.0, 1e-8, -1e-30, np.inf, -np.inf]]).astype(np.float32)
    out = np.empty_like(x)
    tanh_into(x, out)
    np.testing.assert_allclose(out, np.tanh(x), rtol=4e-7, atol=3e-7)
    assert np.all(np.abs(out) <= 1)


def run(op, inputs, grad_out, **params):
    """The op's output and the gradients of all its inputs for the given output gradient."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in inputs]
    out = op.apply(*tensors, **params)
    out.backward(Tensor(grad_out))
    return [out.numpy()] + [t.grad.numpy() for t in tensors]


def both_paths(op, inputs, grad_out, **params):
    before = kernels.set_enabled(True)
    try:
        on = run(op, inputs, grad_out, **params)
        kernels.set_enabled(False)
        return on, run(op, inputs, grad_out, **params)
    finally:
        kernels.set_enabled(before)


@pytest.mark.parametrize("whole_loop", [True, False])
@pytest.mark.parametrize("op", [LSTMSequence, GRUSequence])
@pytest.mark.parametrize(("return_sequences", "return_state", "go_backwards", "masked", "states", "rdrop"), [
    (True, False, False, False, False, False),
    (False, False, False, False, False, False),
    (True, True, True, True, True, False),      # padded steps, initial states, final states, reversed
    (False, True, False, True, False, True),    # padded steps and recurrent dropout
])
def test_compiled_steps_match_numpy_steps(numba, monkeypatch, whole_loop, op, return_sequences, return_state,
                                          go_backwards, masked, states, rdrop):
    from shendu.ops import blas, recurrent

    if whole_loop and blas.sgemm() is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS that shendu can call from compiled loops")
    if not whole_loop:
        monkeypatch.setattr(recurrent, "sgemm", lambda: None)
    rng = np.random.default_rng(0)
    gates = 4 if op is LSTMSequence else 3
    n_states = 2 if op is LSTMSequence else 1
    f32 = np.float32
    inputs = [rng.normal(size=(BATCH, STEPS, FEATURES)).astype(f32),
              (rng.normal(size=(FEATURES, gates * UNITS)) * 0.6).astype(f32),
              (rng.normal(size=(UNITS, gates * UNITS)) * 0.6).astype(f32),
              (rng.normal(size=(gates * UNITS,) if op is LSTMSequence else (2, gates * UNITS)) * 0.3).astype(f32)]
    if states:
        inputs += [rng.normal(size=(BATCH, UNITS)).astype(f32) for _ in range(n_states)]
    mask = None
    if masked:
        mask = np.ones((BATCH, STEPS), bool)
        mask[0, 4:] = False   # padded at the end
        mask[1, :3] = False   # padded at the start
        mask[2, 2] = False    # a gap
    rmask = (rng.random((BATCH, UNITS)) > 0.3).astype(f32) / f32(0.7) if rdrop else None
    t_out = (STEPS if return_sequences else 1) + (n_states if return_state else 0)
    grad_out = rng.normal(size=(BATCH, t_out, UNITS)).astype(f32)
    on, off = both_paths(op, inputs, grad_out, mask=mask, go_backwards=go_backwards,
                         return_sequences=return_sequences, return_state=return_state, recurrent_mask=rmask,
                         has_state=states)
    for name, a, b in zip(["output", "x", "kernel", "recurrent_kernel", "bias", "h0", "c0"], on, off):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=name)


def test_float64_and_other_activations_keep_the_numpy_loop(numba, monkeypatch):
    """The compiled steps are float32 tanh/sigmoid only: float64 (the parity tests' dtype) and other activations
    run the NumPy loop even with numba on."""
    from shendu.ops import kernels_recurrent

    def fail(*args):
        raise AssertionError("the compiled loop ran")

    monkeypatch.setattr(kernels_recurrent, "lstm_step", fail)
    monkeypatch.setattr(kernels_recurrent, "lstm_forward", fail)
    monkeypatch.setattr(kernels_recurrent, "gru_forward", fail)
    before = kernels.set_enabled(True)
    try:
        x = Tensor(np.ones((2, 3, 2)))
        w, u = Tensor(np.full((2, 8), 0.1)), Tensor(np.full((2, 8), 0.1))
        assert LSTMSequence.apply(x, w, u, has_bias=False).shape == (2, 1, 2)
        x32, w32, u32 = (Tensor(t.numpy().astype(np.float32)) for t in (x, w, u))
        assert LSTMSequence.apply(x32, w32, u32, has_bias=False, activation="relu").shape == (2, 1, 2)
        with pytest.raises(AssertionError, match="compiled loop ran"):
            LSTMSequence.apply(x32, w32, u32, has_bias=False)
    finally:
        kernels.set_enabled(before)


@pytest.mark.parametrize("op", [LSTMSequence, GRUSequence])
def test_whole_loop_in_segments_overlapping_the_products_matches_numpy(numba, op):
    """Sizes at which the projection of the later steps and the weight products of the later steps run on a worker
    while the compiled loop does the earlier steps (two calls of the loop in each direction)."""
    from shendu import parallel
    from shendu.ops import blas, recurrent

    if blas.sgemm() is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS that shendu can call from compiled loops")
    rng = np.random.default_rng(1)
    batch, steps, units = 16, 50, 64
    gates, prefix = (4, "lstm") if op is LSTMSequence else (3, "gru")
    f32 = np.float32
    bias_shape = (gates * units,) if op is LSTMSequence else (2, gates * units)
    inputs = [rng.normal(size=(batch, steps, units)).astype(f32)] + [
        (rng.normal(size=shape) * 0.1).astype(f32) for shape in ((units, gates * units), (units, gates * units),
                                                                 bias_shape)]
    grad_out = rng.normal(size=(batch, steps, units)).astype(f32)
    calls: dict[str, list] = {f"{prefix}_forward": [], f"{prefix}_backward": []}

    def counting(name):
        loop = getattr(recurrent.kernels_recurrent, name)

        def run_loop(*args):
            calls[name].append(args[-2:])
            return loop(*args)
        return run_loop

    with parallel.num_threads(2), pytest.MonkeyPatch.context() as mp:
        for name in calls:
            mp.setattr(recurrent.kernels_recurrent, name, counting(name))
        on, off = both_paths(op, inputs, grad_out, return_sequences=True)
    own = int(steps * recurrent.OWN_SHARE)  # the steps the loop's own thread projects first and multiplies last
    assert 0 < own < steps
    assert calls == {f"{prefix}_forward": [(0, own), (own, steps)], f"{prefix}_backward": [(own, steps), (0, own)]}
    for name, a, b in zip(["output", "x", "kernel", "recurrent_kernel", "bias"], on, off):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5, err_msg=name)
