"""Fused recurrent ops: a whole SimpleRNN, LSTM or GRU sequence as one Function.

The forward pass projects the inputs of all time steps with one batched matrix product, then loops over time
on raw arrays: one product U^T h per step, the gates updated in place in preallocated buffers and, when a
gradient will be asked for, the per-step factors of the backward pass computed while the step's values are in
cache. The backward pass is backpropagation through time as an iterative loop over those buffers (one product
U dZ and a few in-place multiplies per step); the weight gradients are batched products over all steps at the
end. Memory grows linearly with the length.

Inside, the state of a step is kept transposed, (units, batch), and the gates of a step as (gates * units,
batch): every gate is then a contiguous block, so the element-wise work of a step runs on contiguous arrays.

Inputs: x (batch, steps, features), kernel, recurrent_kernel, [bias], [initial states]; the weights in Keras's
layouts and gate orders (LSTM i, f, c, o; GRU z, r, h with a (2, 3 units) reset_after bias). Output:
(batch, steps_out + n_states, units): the outputs (all steps, or the last one) followed, when `return_state`,
by the final states along the same axis, so that one node carries them all.

Masks (batch, steps) keep the previous state at padded steps; the output there is the previous output
(zero before the first real step), or zero with `zero_output_for_mask`, as Keras computes it.

The readable reference of each step, in Keras's gate order and Tensor ops, is the matching cell of
`shendu.layers.rnn_cells` (SimpleRNNCell, LSTMCell, GRUCell); the layers' tests check that both agree.
With numba, LSTM and GRU in float32 run each step's gate work as one compiled loop (`kernels_recurrent`) between the
step's products; the NumPy loops beside them (`_steps_numpy`, `_back_numpy`) are their reference and run otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.backend import get_array_module
from shendu.ops import kernels, kernels_recurrent
from shendu.ops.blas import sgemm, small_parts
from shendu.ops.conv import relu_inplace
from shendu.ops.elementwise import relu_grad, sigmoid, sigmoid_grad, tanh_grad
from shendu.ops.function import Function
from shendu.ops.nn import hard_sigmoid, hard_sigmoid_grad, softsign, softsign_grad
from shendu.parallel import OVERLAPPED_PRODUCT_WORK, batch_chunks, one_blas_thread, run_chunks, submit, sum_parts
from shendu.tensor import Tensor


# --- activations on raw arrays: applied in place, derivative from the output (the formulas: elementwise, nn) -----
def _tanh(a: np.ndarray) -> None:
    get_array_module(a).tanh(a, out=a)


def _linear(a: np.ndarray) -> None:
    return None


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (_tanh, tanh_grad),
    "sigmoid": (lambda a: sigmoid(a, out=a), sigmoid_grad),
    "relu": (relu_inplace, relu_grad),
    "linear": (_linear, lambda y: get_array_module(y).ones_like(y)),
    "hard_sigmoid": (lambda a: hard_sigmoid(a, out=a), hard_sigmoid_grad),
    "softsign": (lambda a: softsign(a, out=a), softsign_grad),
}
"""Activations the fused ops run, by Keras name: (apply in place, derivative as a function of the output)."""


def _reorder(a: np.ndarray, units: int, order: tuple[int, ...]) -> np.ndarray:
    """The gate blocks of the last axis in the given order (a copy)."""
    return get_array_module(a).concatenate([a[..., k * units:(k + 1) * units] for k in order], axis=-1)


def _restore(a: np.ndarray, units: int, order: tuple[int, ...]) -> np.ndarray:
    """Inverse of `_reorder`: blocks taken in `order` put back in Keras's order."""
    out = get_array_module(a).empty_like(a)
    for pos, k in enumerate(order):
        out[..., k * units:(k + 1) * units] = a[..., pos * units:(pos + 1) * units]
    return out


OWN_SHARE = 0.4
"""The share of the steps whose input projections (forward) or weight products (backward) the thread running the time
loop does itself, a worker the rest beside the loop: the loop starts once its share is projected, and going back the
worker can only start once the loop has passed its steps, so an even split left the loop's thread the longer part.
Two-layer LSTM(64) training step, interleaved: 13.4 ms with an even split, 12.9 ms with 0.4."""


class _WeightGrads:
    """dx (batch, steps, features), dW = sum_t x_t^T dZ_t, dU = sum_t h_{t-1}^T dZ_t (internal gate order) and the
    per-gate sums over steps and batch (for the bias): matrix products over the steps stacked, in chunks of steps.

    d (steps, gates, batch) holds the gate gradients up to the per-gate factors `scale_*`; its rows `rows_in` belong
    to the kernel, `rows_rec` to the recurrent kernel. `steps_back()` drives the BPTT loop and, once the steps past the
    first OWN_SHARE are final, starts their products on a worker thread while the loop goes on with the earlier ones.
    """

    def __init__(self, op: _Recurrence, d: np.ndarray, rows_in: slice, rows_rec: slice, w: np.ndarray,
                 scale_in: np.ndarray, scale_rec: np.ndarray) -> None:
        self.op, self.d, self.rows_in, self.rows_rec = op, d, rows_in, rows_rec
        self.w_in, self.scale_in, self.scale_rec = (w * scale_in).T, scale_in, scale_rec
        self.steps, self.batch, self.features = op.xt.shape
        self.on_host = op.xp is np  # on a GPU the steps' products are not split over threads
        self.dx = op.xp.empty(op.xt.shape, dtype=d.dtype) if op.needs_grad(0) else None
        self.work = d.shape[1] * self.batch * (self.features + op.hs.shape[1])  # multiply-adds per step
        self.early: Any = None
        self.rest = self.steps

    def steps_back(self) -> Iterator[int]:
        """steps - 1, ..., 0; the products of steps start ... steps - 1 start on a worker once those are final."""
        start = self.later_start()
        for t in range(self.steps - 1, -1, -1):
            if t == start - 1:
                self.start_later(start)
            yield t

    def later_start(self) -> int:
        """The first of the later steps whose products run on a worker while the loop does the earlier ones (steps
        times OWN_SHARE when shendu's threads and the size allow it), else 0."""
        split = self.on_host and len(batch_chunks(self.steps, self.work, OVERLAPPED_PRODUCT_WORK)) > 1
        return int(self.steps * OWN_SHARE) if split else 0

    def segments_back(self) -> Iterator[tuple[int, int]]:
        """(t0, t1) pieces of the backward loop for the whole compiled loops, the later steps first: once those are
        done their products start on a worker, and the earlier steps run beside them."""
        start = self.later_start()
        yield start, self.steps
        if start:
            self.start_later(start)
            yield 0, start

    def start_later(self, start: int) -> None:
        """Start the products of steps start ... steps - 1 (final by now) on a worker; the rest wait for `result`."""
        self.early = submit(self.part, slice(start, self.steps))
        self.rest = start  # the steps whose products are still to do: 0 ... rest - 1

    def part(self, sl: slice) -> tuple[Any, Any, Any]:
        """The products of the steps sl: their rows of dx written, their parts of dW, dU and the sums returned."""
        op, d, batch, features, xp = self.op, self.d, self.batch, self.features, self.op.xp
        n = (sl.stop - sl.start) * batch
        d2 = d[sl].transpose(1, 0, 2).reshape(d.shape[1], n)  # one copy: (gates, steps * batch)
        d_in, d_rec = d2[self.rows_in], d2[self.rows_rec]
        if self.dx is not None:
            xp.matmul(d_in.T, self.w_in, out=self.dx[sl].reshape(n, features))
        dw = d_in @ op.xt[sl].reshape(n, features) if op.needs_grad(1) else None
        du = None
        if op.needs_grad(2):
            hs = op.hs
            h_in = hs[sl] if op.rmask is None else hs[sl] * op.rmask  # h_{t-1} for the steps sl
            du = d_rec @ h_in.transpose(0, 2, 1).reshape(n, hs.shape[1])
        return dw, du, d2 @ xp.ones(n, d2.dtype)

    def result(self) -> tuple[Any, Any, Any, Any]:
        """(dx, dW, dU, sums) once the loop is over: the earlier steps' products, with the later ones'."""
        op = self.op
        chunks = batch_chunks(self.rest, self.work, OVERLAPPED_PRODUCT_WORK) if self.on_host else [slice(0, self.rest)]
        parts = run_chunks(self.part, chunks)
        if self.early is not None:
            parts.append(self.early.result())
        dw = (sum_parts([p[0] for p in parts]) * self.scale_in[:, None]).T if op.needs_grad(1) else None
        du = (sum_parts([p[1] for p in parts]) * self.scale_rec[:, None]).T if op.needs_grad(2) else None
        dx = self.dx
        if dx is not None:
            dx = (dx[::-1] if op.go_backwards else dx).transpose(1, 0, 2)
        return dx, dw, du, sum_parts([p[2] for p in parts])


class _Recurrence(Function):
    """What the three recurrences share: time-major inputs, masks, packing the outputs and unpacking their gradient,
    and the weight gradients as products over all steps."""

    n_states = 1

    def __init__(self, activation: str = "tanh", recurrent_activation: str = "sigmoid", mask: Any = None,
                 go_backwards: bool = False, return_sequences: bool = False, return_state: bool = False,
                 zero_output_for_mask: bool = False, recurrent_mask: Any = None, has_bias: bool = True,
                 has_state: bool = False, keep: bool = True) -> None:
        self.act, self.d_act = ACTIVATIONS[activation]
        self.ract, self.d_ract = ACTIVATIONS[recurrent_activation]
        # tanh and sigmoid gates: sigmoid(z) = (1 + tanh(z / 2)) / 2, so one tanh over all gates with the sigmoid
        # gates' weights halved; their derivative is then kept as 1 - tanh^2, four times sigmoid's.
        self.fast = activation == "tanh" and recurrent_activation == "sigmoid"
        self.sig = 0.5 if self.fast else 1.0
        self.d_sig = 0.25 if self.fast else 1.0
        self.mask, self.go_backwards = mask, go_backwards
        self.return_sequences, self.return_state = return_sequences, return_state
        self.zero_output_for_mask = zero_output_for_mask
        self.recurrent_mask, self.rmask = recurrent_mask, None
        self.has_bias, self.has_state, self.keep = has_bias, has_state, keep

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """As `Function.apply`; the backward factors are kept only when a gradient will be asked for."""
        params["keep"] = grad_mode.state.enabled and any(t.requires_grad for t in inputs)
        with one_blas_thread():
            return super().apply(*inputs, **params)

    def backward(self, g: Any) -> tuple[Any, ...]:
        with one_blas_thread():
            return self._backward(g)

    def _backward(self, g: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def _unpack(self, rest: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        bias = rest[0] if self.has_bias else None
        states = list(rest[1:] if self.has_bias else rest) if self.has_state else []
        return bias, states

    def _time_major(self, x: np.ndarray) -> np.ndarray:
        """x (batch, steps, features) as a contiguous (steps, batch, features) array in processing order."""
        xt = x.transpose(1, 0, 2)
        return self.xp.ascontiguousarray(xt[::-1] if self.go_backwards else xt)

    def _prepare_mask(self, steps: int, dtype: Any) -> None:
        """Masks (steps, 1, batch): `drop` the padded steps, `keepf` the real ones as 0/1, `wout` the output weights."""
        xp = self.xp
        self.drop = self.keepf = self.wout = None
        if self.recurrent_mask is not None:
            self.rmask = xp.ascontiguousarray(xp.asarray(self.recurrent_mask).T)  # a host mask copied to a GPU
        if self.mask is None:
            return
        m = xp.asarray(self.mask).astype(bool, copy=False).T
        if self.go_backwards:
            m = m[::-1]
        if m.all():
            return
        self.drop = ~m[:, None, :]
        self.keepf = m[:, None, :].astype(dtype)
        w = m if self.zero_output_for_mask else xp.cumsum(m, axis=0) > 0  # real from the first real step on
        self.wout = None if w.all() else w[:, None, :].astype(dtype)

    def _project(self, xt: np.ndarray, w_t: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """(steps, gates, batch) = W^T x_t^T for every step as batched products, plus the bias. With shendu's threads
        this thread projects the first OWN_SHARE of the steps, a worker the rest while the loop (`_steps`) starts."""
        steps, xp = xt.shape[0], self.xp
        a = xp.empty((steps, w_t.shape[0], xt.shape[1]), dtype=xt.dtype)

        def run(sl: slice) -> None:
            xp.matmul(w_t, xt[sl].transpose(0, 2, 1), out=a[sl])
            if bias is not None:
                a[sl] += bias[:, None]

        split = xp is np and len(batch_chunks(steps, w_t.size * xt.shape[1], OVERLAPPED_PRODUCT_WORK)) > 1
        own = int(steps * OWN_SHARE) if split else steps
        self.later = submit(run, slice(own, steps)) if own < steps else None
        self.later_from = own
        run(slice(0, own))
        return a

    def _segments(self, steps: int) -> Iterator[tuple[int, int]]:
        """(t0, t1) pieces of the time loop for the whole compiled loops: the steps projected so far, then, once the
        worker has projected the later steps, the rest."""
        if self.later is None:
            yield 0, steps
            return
        yield 0, self.later_from
        self.later.result()
        yield self.later_from, steps

    def _steps(self, steps: int) -> Iterator[int]:
        """0, ..., steps - 1, waiting for the projection of the later steps before the first of them."""
        for t in range(steps):
            if t == self.later_from and self.later is not None:
                self.later.result()
            yield t

    def _initial(self, states: list[Any], units: int, batch: int, dtype: Any) -> list[np.ndarray]:
        """The initial states transposed to (units, batch) copies (zeros when none were given)."""
        xp = self.xp
        if states:
            return [xp.array(s.T, dtype=dtype) for s in states]
        return [xp.zeros((units, batch), dtype) for _ in range(self.n_states)]

    whole_loops = False  # LSTM and GRU: the time loop as compiled calls with BLAS's sgemm (`kernels_recurrent`)

    def releases_gil(self, x: Any) -> bool:
        """Whether the time loops on x run as whole compiled calls, without the GIL between steps, so that this op
        can run beside another on a second thread (`ops.concurrent`); the NumPy loops hold it at every step."""
        return (self.whole_loops and self.fast and x.dtype == np.float32 and get_array_module(x) is np
                and kernels.enabled() and sgemm() is not None)

    def _compiled(self, dtype: Any) -> bool:
        """Whether the steps run as compiled loops (`kernels_recurrent`): tanh and sigmoid, float32, numba on."""
        return self.fast and dtype == np.float32 and self.xp is np and kernels.enabled()

    def _real_steps(self, steps: int, batch: int, dtype: Any) -> np.ndarray:
        """(steps, batch): 1 at a real step, 0 at a padded one (the compiled loops' form of the mask)."""
        xp = self.xp
        return xp.ones((steps, batch), dtype) if self.keepf is None else xp.ascontiguousarray(self.keepf[:, 0])

    def _step_input(self, h: np.ndarray, buf: np.ndarray) -> np.ndarray:
        """h, or h times the recurrent dropout mask (written into buf)."""
        if self.rmask is None:
            return h
        return self.xp.multiply(h, self.rmask, out=buf)

    def _pack(self, hs: np.ndarray, finals: list[np.ndarray]) -> np.ndarray:
        """(batch, steps_out + n_states, units) from the transposed states hs (steps + 1, units, batch)."""
        steps, units, batch, xp = hs.shape[0] - 1, hs.shape[1], hs.shape[2], self.xp
        t_out = steps if self.return_sequences else 1
        out = xp.empty((batch, t_out + (len(finals) if self.return_state else 0), units), hs.dtype)
        w = self.wout
        if self.return_sequences:
            ys = hs[1:].transpose(2, 0, 1)
            if w is None:
                out[:, :steps] = ys
            else:
                xp.multiply(ys, w.transpose(2, 0, 1), out=out[:, :steps])
        else:
            xp.multiply(hs[steps].T, 1 if w is None else w[-1].T, out=out[:, 0])
        if self.return_state:
            for k, s in enumerate(finals):
                out[:, t_out + k] = s.T
        return out

    def _unpack_grad(self, g: np.ndarray, steps: int) -> tuple[np.ndarray | None, np.ndarray, list[np.ndarray]]:
        """From the output's gradient, transposed: per-step gradients (steps, units, batch) of the states (None
        without return_sequences), the gradient of the last state, and those of the final states."""
        t_out, xp = (steps if self.return_sequences else 1), self.xp
        w = self.wout
        if self.return_sequences:
            big = xp.ascontiguousarray(g[:, :steps].transpose(1, 2, 0))
            if w is not None:
                big *= w
            dh = big[-1].copy()
        else:
            big = None
            dh = xp.ascontiguousarray(g[:, 0].T * (1 if w is None else w[-1]))
        finals = [xp.array(g[:, t_out + k].T, order="C") for k in range(self.n_states)] if self.return_state else []
        if finals:
            dh += finals[0]
        return big, dh, finals

    def _recurrent_grad(self, dz: np.ndarray, u_t: np.ndarray, dh: np.ndarray, out: np.ndarray,
                        drop: np.ndarray | None) -> None:
        """out = U dZ (times the recurrent dropout mask); at padded steps the state's gradient passes through."""
        xp = self.xp
        xp.matmul(u_t, dz, out=out)
        if self.rmask is not None:
            out *= self.rmask
        if drop is not None:
            xp.copyto(out, dh, where=drop)


class SimpleRNNSequence(_Recurrence):
    """h_t = act(x_t W + b + h_{t-1} U) over all steps;  BPTT: dA_t = dh_t act'(h_t), dh_{t-1} = dA_t U^T.
    One step of it in Tensor ops is `shendu.layers.rnn_cells.SimpleRNNCell`."""

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        self.xp = xp = get_array_module(x)
        bias, states = self._unpack(rest)
        batch, steps, n = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        self._prepare_mask(steps, x.dtype)
        xt = self._time_major(x)
        a = self._project(xt, xp.ascontiguousarray(kernel.T), bias)
        u_t = xp.ascontiguousarray(recurrent_kernel.T)
        hs = xp.empty((steps + 1, n, batch), x.dtype)
        hs[0] = self._initial(states, n, batch, x.dtype)[0]
        tmp, hbuf = xp.empty((n, batch), x.dtype), xp.empty((n, batch), x.dtype)
        act, drop, keep = self.act, self.drop, self.keep
        for t in self._steps(steps):
            xp.matmul(u_t, self._step_input(hs[t], hbuf), out=tmp)
            h = hs[t + 1]
            xp.add(a[t], tmp, out=h)
            act(h)
            if keep:
                if self.fast:
                    tanh_grad(h, out=a[t])
                else:
                    a[t] = self.d_act(h)
                if drop is not None:
                    a[t] *= self.keepf[t]
            if drop is not None:
                xp.copyto(h, hs[t], where=drop[t])
        self.xt, self.hs, self.k, self.kernel, self.recurrent_kernel = xt, hs, a, kernel, recurrent_kernel
        return self._pack(hs, [hs[steps]])

    def _backward(self, g: Any) -> tuple[Any, ...]:
        xp = self.xp
        hs, k = self.hs, self.k
        steps = hs.shape[0] - 1
        big, dh, _ = self._unpack_grad(g, steps)
        u = xp.ascontiguousarray(self.recurrent_kernel)
        nxt = xp.empty_like(dh)
        drop = self.drop
        ones = xp.ones(k.shape[1], k.dtype)
        products = _WeightGrads(self, k, slice(None), slice(None), self.kernel, ones, ones)
        for t in products.steps_back():
            kt = k[t]
            xp.multiply(dh, kt, out=kt)
            self._recurrent_grad(kt, u, dh, nxt, None if drop is None else drop[t])
            dh, nxt = nxt, dh
            if big is not None and t:
                dh += big[t - 1]
        dx, dw, du, sums = products.result()
        grads = [dx, dw, du]
        if self.has_bias:
            grads.append(sums if self.needs_grad(3) else None)
        if self.has_state:
            grads.append(dh.T)
        return tuple(grads)


_LSTM_ORDER = (3, 0, 1, 2)  # internal gate order o, i, f, c from Keras's i, f, c, o


class LSTMSequence(_Recurrence):
    """LSTM over all steps: [i, f, c~, o] = gates of x_t W + h_{t-1} U + b, c_t = f c_{t-1} + i act(c~),
    h_t = o act(c_t), with i, f, o through the recurrent activation.

    Internally the gates are ordered o, i, f, c~ so that the three sigmoid gates are one block in the forward
    pass and the three gates driven by dc are one block in the backward pass. BPTT per step, with the factors
    K kept by the forward pass: dz_o = dh act(c) o', dc += dh o act'(c), dz_{i,f,c~} = dc [c~ i', c_{t-1} f',
    i c~'], dc_{t-1} = dc f, dh_{t-1} = U dz.
    The same step in Keras's gate order i, f, c~, o, one Tensor op at a time, is `shendu.layers.rnn_cells.LSTMCell`
    (the reference that the `LSTM` layer's tests compare this op with).
    """

    n_states = 2
    whole_loops = True

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        self.xp = xp = get_array_module(x)
        bias, states = self._unpack(rest)
        batch, steps, n = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        self._prepare_mask(steps, x.dtype)
        xt = self._time_major(x)
        w, u = _reorder(kernel, n, _LSTM_ORDER), _reorder(recurrent_kernel, n, _LSTM_ORDER)
        scale = xp.ones(4 * n, x.dtype)
        scale[:3 * n] = self.sig
        b = None if bias is None else _reorder(bias, n, _LSTM_ORDER) * scale
        a = self._project(xt, xp.ascontiguousarray((w * scale).T), b)
        u_t = xp.ascontiguousarray((u * scale).T)
        h0, c = self._initial(states, n, batch, x.dtype)
        hs = xp.empty((steps + 1, n, batch), x.dtype)
        hs[0] = h0
        if self._compiled(x.dtype):
            k, kc, c = self._steps_compiled(a, u_t, hs, c)
        else:
            k, kc, c = self._steps_numpy(a, u_t, hs, c)
        self.xt, self.a, self.hs, self.k, self.kc, self.w, self.u = xt, a, hs, k, kc, w, u
        return self._pack(hs, [hs[steps], c])

    def _steps_compiled(self, a: np.ndarray, u_t: np.ndarray, hs: np.ndarray, c: np.ndarray) -> tuple[Any, Any, Any]:
        """The time loop with each step's gate work in one compiled pass (`kernels_recurrent.lstm_step`, the
        arithmetic of `_steps_numpy`) after the step's product U^T h: (K, Kc, final c)."""
        xp = self.xp
        steps, n, batch = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        keep, dtype = self.keep, hs.dtype
        real = self._real_steps(steps, batch, dtype)
        k = xp.empty_like(a) if keep else xp.empty((steps, 0, 0), dtype)
        kc = xp.empty((steps, n, batch), dtype) if keep else k
        c, c_new, hbuf, z = xp.ascontiguousarray(c), xp.empty_like(c), xp.empty_like(c), xp.empty((4 * n, batch), dtype)
        blas = sgemm() if xp is np else None
        if blas is not None:  # whole compiled loops, no Python between steps
            rmask = self.rmask if self.rmask is not None else xp.empty((0, 0), dtype)
            parts = small_parts(4 * n, batch, n)
            for t0, t1 in self._segments(steps):
                c, c_new = kernels_recurrent.lstm_forward(blas, parts, a, u_t, hs, c, c_new, z, hbuf, rmask, real, keep,
                                                          k, kc, t0, t1)
            return (k, kc, c) if keep else (None, None, c)
        step = kernels_recurrent.lstm_step
        for t in self._steps(steps):
            xp.matmul(u_t, self._step_input(hs[t], hbuf), out=z)
            step(a[t], z, hs[t], c, real[t], keep, hs[t + 1], c_new, k[t], kc[t])
            c, c_new = c_new, c
        return (k, kc, c) if keep else (None, None, c)

    def _steps_numpy(self, a: np.ndarray, u_t: np.ndarray, hs: np.ndarray, c: np.ndarray) -> tuple[Any, Any, Any]:
        """The time loop in NumPy passes on the step's gates (the reference of `_steps_compiled`): (K, Kc, final c)."""
        xp = self.xp
        steps, n, batch, dtype = hs.shape[0] - 1, hs.shape[1], hs.shape[2], hs.dtype
        c_new, tc, tmp, hbuf = (xp.empty((n, batch), dtype) for _ in range(4))
        z = xp.empty((4 * n, batch), dtype)
        keep, fast, act, ract, drop = self.keep, self.fast, self.act, self.ract, self.drop
        k = xp.empty_like(a) if keep else None
        kc = xp.empty((steps, n, batch), dtype) if keep else None
        for t in self._steps(steps):
            xp.matmul(u_t, self._step_input(hs[t], hbuf), out=z)
            at = a[t]
            at += z
            o, i, f, g = at[:n], at[n:2 * n], at[2 * n:3 * n], at[3 * n:]
            if fast:
                xp.tanh(at, out=at)
                if keep:
                    kt = k[t]
                    tanh_grad(at, out=kt)
                sig = at[:3 * n]
                sig *= 0.5
                sig += 0.5
            else:
                ract(at[:3 * n])
                act(g)
                if keep:
                    kt = k[t]
                    kt[:3 * n] = self.d_ract(at[:3 * n])
                    kt[3 * n:] = self.d_act(g)
            xp.multiply(f, c, out=c_new)
            xp.multiply(i, g, out=tmp)
            c_new += tmp
            if fast:
                xp.tanh(c_new, out=tc)
            else:
                xp.copyto(tc, c_new)
                act(tc)
            xp.multiply(o, tc, out=hs[t + 1])
            if keep:
                kt[:n] *= tc
                kt[n:2 * n] *= g
                kt[2 * n:3 * n] *= c
                kt[3 * n:] *= i
                kct = kc[t]
                if fast:
                    tanh_grad(tc, out=kct)
                else:
                    kct[...] = self.d_act(tc)
                kct *= o
                if drop is not None:
                    kt *= self.keepf[t]
                    kct *= self.keepf[t]
            if drop is not None:
                xp.copyto(hs[t + 1], hs[t], where=drop[t])
                xp.copyto(c_new, c, where=drop[t])
            c, c_new = c_new, c
        return k, kc, c

    def _backward(self, g: Any) -> tuple[Any, ...]:
        xp = self.xp
        k, n, steps = self.k, self.hs.shape[1], self.hs.shape[0] - 1
        big, dh, finals = self._unpack_grad(g, steps)
        dc = finals[1] if finals else xp.zeros_like(dh)
        forget = self.a[:, 2 * n:3 * n]
        if self.drop is not None:
            forget = xp.where(self.drop, forget.dtype.type(1), forget)
        scale = xp.ones(4 * n, dh.dtype)
        scale[:3 * n] = self.d_sig
        u = self.u * scale
        nxt = xp.empty_like(dh)
        products = _WeightGrads(self, k, slice(None), slice(None), self.w, scale, scale)
        back = self._back_compiled if self._compiled(dh.dtype) else self._back_numpy
        dh = back(products, big, dh, dc, forget, u, nxt)
        dx, dw, du, sums = products.result()
        grads = [dx, None if dw is None else _restore(dw, n, _LSTM_ORDER),
                 None if du is None else _restore(du, n, _LSTM_ORDER)]
        if self.has_bias:
            grads.append(_restore(sums * scale, n, _LSTM_ORDER) if self.needs_grad(3) else None)
        if self.has_state:
            grads += [dh.T, dc.T]
        return tuple(grads)

    def _back_compiled(self, products: _WeightGrads, big: Any, dh: np.ndarray, dc: np.ndarray, forget: np.ndarray,
                       u: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """BPTT with each step's gate work in one compiled pass (`kernels_recurrent.lstm_step_back`, the arithmetic
        of `_back_numpy`) before the step's product U dz; dc is updated in place, the initial h's gradient returned."""
        xp = self.xp
        k, kc, a, drop, last = self.k, self.kc, self.a, self.drop, self.hs.shape[0] - 2
        real = self._real_steps(last + 1, dh.shape[1], dh.dtype)
        zeros = xp.zeros_like(dh)
        blas = sgemm() if xp is np else None
        if blas is not None:  # whole compiled loops, no Python between steps
            n, batch = dh.shape
            none = xp.empty((0, n, batch), dh.dtype), xp.empty((0, 0), dh.dtype), xp.empty((0, 1, 1), bool)
            args = (big if big is not None else none[0], zeros, k, kc, a, real, dc, u,
                    self.rmask if self.rmask is not None else none[1], drop if drop is not None else none[2])
            parts = small_parts(n, batch, 4 * n)
            for t0, t1 in products.segments_back():
                dh, nxt = kernels_recurrent.lstm_backward(blas, parts, dh, nxt, *args, t0, t1)
            return dh
        step = kernels_recurrent.lstm_step_back
        for t in products.steps_back():
            kt = k[t]
            step(dh, big[t] if big is not None and t < last else zeros, kt, kc[t], a[t], real[t], dc)
            self._recurrent_grad(kt, u, dh, nxt, None if drop is None else drop[t])
            dh, nxt = nxt, dh
        return dh

    def _back_numpy(self, products: _WeightGrads, big: Any, dh: np.ndarray, dc: np.ndarray, forget: np.ndarray,
                    u: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """BPTT in NumPy passes (the reference of `_back_compiled`); dc updated in place, the gradient of the
        initial h returned."""
        xp = self.xp
        k, kc, drop, n, batch = self.k, self.kc, self.drop, dh.shape[0], dh.shape[1]
        tmp = xp.empty_like(dh)
        for t in products.steps_back():
            kt = k[t]
            xp.multiply(dh, kt[:n], out=kt[:n])
            xp.multiply(dh, kc[t], out=tmp)
            dc += tmp
            gates = kt[n:].reshape(3, n, batch)
            xp.multiply(dc, gates, out=gates)
            dc *= forget[t]
            self._recurrent_grad(kt, u, dh, nxt, None if drop is None else drop[t])
            dh, nxt = nxt, dh
            if big is not None and t:
                dh += big[t - 1]
        return dh


_GRU_INPUT_ORDER = (2, 0, 1)  # the input-side gradient blocks come out as h, z, r


class GRUSequence(_Recurrence):
    """GRU (reset_after, Keras's default) over all steps, gates z, r, h as in Keras:
    z, r = sigmoid(x W_zr + b_zr + h U_zr + b'_zr), h~ = act(x W_h + b_h + r (h U_h + b'_h)), h_t = z h + (1 - z) h~.

    The bias is (2, 3 units): input bias, then recurrent bias (PyTorch's b_ih and b_hh with gates reordered).
    BPTT per step: dh~' = dh (1 - z) act'(h~), dz' = dh (h - h~) z', dr' = dh~' (h U_h + b'_h) r',
    dh_{t-1} = dh z + U [dz', dr', dh~' r]. Inside, the z and r biases are summed into one and the input-side
    gradients come out as blocks h~, z, r (`_GRU_INPUT_ORDER`). The same step one Tensor op at a time is
    `shendu.layers.rnn_cells.GRUCell` (the reference that the `GRU` layer's tests compare this op with).
    """

    whole_loops = True

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        self.xp = xp = get_array_module(x)
        bias, states = self._unpack(rest)
        batch, steps, n = x.shape[0], x.shape[1], recurrent_kernel.shape[0]
        self._prepare_mask(steps, x.dtype)
        xt = self._time_major(x)
        scale = xp.ones(3 * n, x.dtype)
        scale[:2 * n] = self.sig
        b = rec_h = None
        if bias is not None:
            b = bias[0].copy()
            b[:2 * n] += bias[1, :2 * n]
            b *= scale
            rec_h = bias[1, 2 * n:, None]
        a = self._project(xt, xp.ascontiguousarray((kernel * scale).T), b)
        u_t = xp.ascontiguousarray((recurrent_kernel * scale).T)
        hs = xp.empty((steps + 1, n, batch), x.dtype)
        hs[0] = self._initial(states, n, batch, x.dtype)[0]
        loop = self._steps_compiled if self._compiled(x.dtype) else self._steps_numpy
        self.khz, self.kr = loop(a, u_t, hs, rec_h)
        self.xt, self.a, self.hs = xt, a, hs
        self.kernel, self.recurrent_kernel = kernel, recurrent_kernel
        return self._pack(hs, [hs[steps]])

    def _steps_compiled(self, a: np.ndarray, u_t: np.ndarray, hs: np.ndarray, rec_h: Any) -> tuple[Any, Any]:
        """The time loop with each step's gate work in one compiled pass (`kernels_recurrent.gru_step`, the
        arithmetic of `_steps_numpy`) after the step's product U^T h: ([K_h, K_z], K_r)."""
        xp = self.xp
        steps, n, batch, dtype, keep = hs.shape[0] - 1, hs.shape[1], hs.shape[2], hs.dtype, self.keep
        real = self._real_steps(steps, batch, dtype)
        khz = xp.empty((steps, 2 * n, batch), dtype) if keep else xp.empty((steps, 0, 0), dtype)
        kr = xp.empty((steps, n, batch), dtype) if keep else khz
        rec = xp.zeros(n, dtype) if rec_h is None else xp.ascontiguousarray(rec_h[:, 0], dtype=dtype)
        r_buf, hbuf = xp.empty((3 * n, batch), dtype), xp.empty((n, batch), dtype)
        blas = sgemm() if xp is np else None
        if blas is not None:  # whole compiled loops, no Python between steps
            rmask = self.rmask if self.rmask is not None else xp.empty((0, 0), dtype)
            parts = small_parts(3 * n, batch, n)
            for t0, t1 in self._segments(steps):
                kernels_recurrent.gru_forward(blas, parts, a, u_t, hs, r_buf, hbuf, rmask, rec, real, keep, khz, kr,
                                              t0, t1)
            return (khz, kr) if keep else (None, None)
        step = kernels_recurrent.gru_step
        for t in self._steps(steps):
            xp.matmul(u_t, self._step_input(hs[t], hbuf), out=r_buf)
            step(a[t], r_buf, rec, hs[t], real[t], keep, hs[t + 1], khz[t], kr[t])
        return (khz, kr) if keep else (None, None)

    def _steps_numpy(self, a: np.ndarray, u_t: np.ndarray, hs: np.ndarray, rec_h: Any) -> tuple[Any, Any]:
        """The time loop in NumPy passes on the step's gates (the reference of `_steps_compiled`)."""
        xp = self.xp
        steps, n, batch, dtype = hs.shape[0] - 1, hs.shape[1], hs.shape[2], hs.dtype
        r_buf = xp.empty((3 * n, batch), dtype)
        tmp, hbuf = xp.empty((n, batch), dtype), xp.empty((n, batch), dtype)
        d_zr = xp.empty((2 * n, batch), dtype)
        keep, fast, act, ract, drop = self.keep, self.fast, self.act, self.ract, self.drop
        khz = xp.empty((steps, 2 * n, batch), dtype) if keep else None  # [K_h, K_z]
        kr = xp.empty((steps, n, batch), dtype) if keep else None
        for t in self._steps(steps):
            h = hs[t]
            xp.matmul(u_t, self._step_input(h, hbuf), out=r_buf)
            at = a[t]
            zr = at[:2 * n]
            zr += r_buf[:2 * n]
            if fast:
                xp.tanh(zr, out=zr)
                if keep:
                    tanh_grad(zr, out=d_zr)
                zr *= 0.5
                zr += 0.5
            else:
                ract(zr)
                if keep:
                    d_zr[...] = self.d_ract(zr)
            rh = r_buf[2 * n:]
            if rec_h is not None:
                rh += rec_h
            z, r, hh = at[:n], at[n:2 * n], at[2 * n:]
            xp.multiply(r, rh, out=tmp)
            hh += tmp
            act(hh)
            hn = hs[t + 1]
            xp.subtract(h, hh, out=hn)
            if keep:
                kt = khz[t]
                xp.multiply(d_zr[n:], rh, out=kr[t])
                xp.multiply(hn, d_zr[:n], out=kt[n:])
                if fast:
                    tanh_grad(hh, out=tmp)
                else:
                    tmp[...] = self.d_act(hh)
                xp.subtract(1, z, out=kt[:n])
                kt[:n] *= tmp
                if drop is not None:
                    kt *= self.keepf[t]
            hn *= z
            hn += hh
            if drop is not None:
                xp.copyto(hn, h, where=drop[t])
        return khz, kr

    def _backward(self, g: Any) -> tuple[Any, ...]:
        xp = self.xp
        hs, n = self.hs, self.hs.shape[1]
        steps, batch = hs.shape[0] - 1, hs.shape[2]
        big, dh, _ = self._unpack_grad(g, steps)
        z = self.a[:, :n]
        carry = z if self.drop is None else xp.where(self.drop, z.dtype.type(1), z)
        scale_rec = xp.ones(3 * n, dh.dtype)  # rows z, r, h
        scale_rec[:2 * n] = self.d_sig
        scale_in = xp.roll(scale_rec, n)  # rows h, z, r
        u = self.recurrent_kernel * scale_rec
        d = xp.empty((steps, 4 * n, batch), dh.dtype)  # [dh~', dz', dr', dh~' r]
        w_in = _reorder(self.kernel, n, _GRU_INPUT_ORDER)
        products = _WeightGrads(self, d, slice(0, 3 * n), slice(n, None), w_in, scale_in, scale_rec)
        back = self._back_compiled if self._compiled(dh.dtype) else self._back_numpy
        dh = back(products, big, dh, d, carry, u)
        dx, dw, du, sums = products.result()
        grads = [dx, None if dw is None else _restore(dw, n, _GRU_INPUT_ORDER), du]
        if self.has_bias:
            db = None
            if self.needs_grad(3):
                db = xp.stack([_restore(sums[:3 * n] * scale_in, n, _GRU_INPUT_ORDER), sums[n:] * scale_rec])
            grads.append(db)
        if self.has_state:
            grads.append(dh.T)
        return tuple(grads)

    def _back_compiled(self, products: _WeightGrads, big: Any, dh: np.ndarray, d: np.ndarray, carry: np.ndarray,
                       u: np.ndarray) -> np.ndarray:
        """BPTT with each step's gate work in one compiled pass (`kernels_recurrent.gru_step_back`, the arithmetic of
        `_back_numpy`) before the step's product U [dz', dr', dh~' r]: fills d, returns the initial state's gradient."""
        xp = self.xp
        khz, kr, a, n, last = self.khz, self.kr, self.a, dh.shape[0], self.hs.shape[0] - 2
        real = self._real_steps(last + 1, dh.shape[1], dh.dtype)
        nxt, extra, zeros = xp.empty_like(dh), xp.zeros_like(dh), xp.zeros_like(dh)
        blas = sgemm() if xp is np else None
        if blas is not None:  # whole compiled loops, no Python between steps
            none = xp.empty((0, n, dh.shape[1]), dh.dtype), xp.empty((0, 0), dh.dtype)
            args = (big if big is not None else none[0], zeros, d, khz, kr, a, real, u,
                    self.rmask if self.rmask is not None else none[1])
            parts = small_parts(n, dh.shape[1], 3 * n)
            for t0, t1 in products.segments_back():
                dh, nxt = kernels_recurrent.gru_backward(blas, parts, dh, nxt, extra, *args, t0, t1)
            dh += extra
            return dh
        step = kernels_recurrent.gru_step_back
        for t in products.steps_back():
            dt = d[t]
            step(dh, extra, big[t] if big is not None and t < last else zeros, dt, khz[t], kr[t], a[t], real[t])
            self._recurrent_grad(dt[n:], u, dh, nxt, None)
            dh, nxt = nxt, dh
        dh += extra
        return dh

    def _back_numpy(self, products: _WeightGrads, big: Any, dh: np.ndarray, d: np.ndarray, carry: np.ndarray,
                    u: np.ndarray) -> np.ndarray:
        """BPTT in NumPy passes (the reference of `_back_compiled`): fills d, returns the initial state's gradient."""
        xp = self.xp
        khz, kr, n, batch = self.khz, self.kr, dh.shape[0], dh.shape[1]
        r = self.a[:, n:2 * n]
        nxt, tmp = xp.empty_like(dh), xp.empty_like(dh)
        for t in products.steps_back():
            dt = d[t]
            xp.multiply(dh, khz[t].reshape(2, n, batch), out=dt[:2 * n].reshape(2, n, batch))
            xp.multiply(dt[:n], kr[t], out=dt[2 * n:3 * n])
            xp.multiply(dt[:n], r[t], out=dt[3 * n:])
            xp.multiply(dh, carry[t], out=tmp)
            self._recurrent_grad(dt[n:], u, dh, nxt, None)
            nxt += tmp
            dh, nxt = nxt, dh
            if big is not None and t:
                dh += big[t - 1]
        return dh
