"""Fused recurrent ops: a whole SimpleRNN, LSTM or GRU sequence as one Function.

The forward pass projects the inputs of all time steps with one matrix product, then loops over time on
raw time-major arrays (one product h @ U per step, gates updated in place in preallocated buffers) and
keeps the gate activations. The backward pass is backpropagation through time as an iterative loop over
the same buffers: the per-step factors that do not depend on the incoming gradient are computed for all
steps at once, each step then costs one product dZ @ U^T and a few in-place multiplies, and the weight
gradients are single products over the stacked steps at the end. Memory grows linearly with the length.

Inputs: x (batch, steps, features), kernel, recurrent_kernel, [bias], [initial states]; the weights in
Keras's layouts and gate orders (LSTM i, f, c, o; GRU z, r, h with a (2, 3 units) reset_after bias).
Output: (batch, steps_out + n_states, units): the outputs (all steps, or the last one) followed, when
`return_state`, by the final states along the same axis, so that one node carries them all.

Masks (batch, steps) keep the previous state at padded steps; the output there is the previous output
(zero before the first real step), or zero with `zero_output_for_mask`, as Keras computes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shendu.ops.function import Function


# --- activations on raw arrays: applied in place, derivative from the output --------------------------------
def _tanh(a: np.ndarray) -> None:
    np.tanh(a, out=a)


def _sigmoid(a: np.ndarray) -> None:
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _relu(a: np.ndarray) -> None:
    np.maximum(a, 0, out=a)


def _linear(a: np.ndarray) -> None:
    return None


def _hard_sigmoid(a: np.ndarray) -> None:
    a *= 1 / 6
    a += 0.5
    np.clip(a, 0, 1, out=a)


def _softsign(a: np.ndarray) -> None:
    np.divide(a, 1 + np.abs(a), out=a)


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], None], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (_tanh, lambda y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda y: y * (1 - y)),
    "relu": (_relu, lambda y: (y > 0).astype(y.dtype)),
    "linear": (_linear, lambda y: np.ones_like(y)),
    "hard_sigmoid": (_hard_sigmoid, lambda y: ((y > 0) & (y < 1)) * y.dtype.type(1 / 6)),
    "softsign": (_softsign, lambda y: (1 - np.abs(y)) ** 2),
}
"""Activations the fused ops run, by Keras name: (apply in place, derivative as a function of the output)."""


class _Recurrence(Function):
    """What the three recurrences share: time-major inputs, masks, packing the outputs and unpacking their gradient."""

    n_states = 1

    def __init__(self, activation: str = "tanh", recurrent_activation: str = "sigmoid", mask: Any = None,
                 go_backwards: bool = False, return_sequences: bool = False, return_state: bool = False,
                 zero_output_for_mask: bool = False, recurrent_mask: Any = None, has_bias: bool = True,
                 has_state: bool = False) -> None:
        self.act, self.d_act = ACTIVATIONS[activation]
        self.ract, self.d_ract = ACTIVATIONS[recurrent_activation]
        self.fast = activation == "tanh" and recurrent_activation == "sigmoid"
        self.mask, self.go_backwards = mask, go_backwards
        self.return_sequences, self.return_state = return_sequences, return_state
        self.zero_output_for_mask = zero_output_for_mask
        self.rmask, self.has_bias, self.has_state = recurrent_mask, has_bias, has_state

    def _unpack(self, rest: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        bias = rest[0] if self.has_bias else None
        states = list(rest[1:] if self.has_bias else rest) if self.has_state else []
        return bias, states

    def _time_major(self, x: np.ndarray) -> np.ndarray:
        """x (batch, steps, features) as a contiguous (steps, batch, features) array in processing order."""
        xt = x.transpose(1, 0, 2)
        return np.ascontiguousarray(xt[::-1] if self.go_backwards else xt)

    def _prepare_mask(self, steps: int) -> None:
        """Time-major masks (steps, batch, 1): `keep` real steps, `drop` padded ones, `wout` the output weights."""
        self.keep = self.drop = self.wout = None
        if self.mask is None:
            return
        m = np.asarray(self.mask, dtype=bool).T
        if self.go_backwards:
            m = m[::-1]
        if m.all():
            return
        self.keep = m[:, :, None]
        self.drop = ~self.keep
        w = m if self.zero_output_for_mask else np.logical_or.accumulate(m, axis=0)
        self.wout = None if w.all() else w[:, :, None]

    def _initial(self, states: list[Any], shape: tuple[int, ...], dtype: Any) -> list[np.ndarray]:
        return [np.asarray(s, dtype=dtype) for s in states] if states else [np.zeros(shape, dtype)] * self.n_states

    def _pack(self, hs: np.ndarray, finals: list[np.ndarray]) -> np.ndarray:
        """(batch, steps_out + n_states, units): outputs (masked as Keras does), then the final states."""
        steps, batch, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        t_out = steps if self.return_sequences else 1
        out = np.empty((batch, t_out + (len(finals) if self.return_state else 0), units), hs.dtype)
        w = self.wout
        if self.return_sequences:
            ys = hs[1:].transpose(1, 0, 2)
            if w is None:
                out[:, :steps] = ys
            else:
                np.multiply(ys, w.transpose(1, 0, 2), out=out[:, :steps])
        else:
            np.multiply(hs[steps], 1 if w is None else w[-1], out=out[:, 0])
        if self.return_state:
            for k, s in enumerate(finals):
                out[:, t_out + k] = s
        return out

    def _unpack_grad(self, g: np.ndarray, steps: int) -> tuple[np.ndarray | None, np.ndarray, list[np.ndarray]]:
        """From the output's gradient: per-step gradients G (steps, batch, units) of the states (None without
        return_sequences), the gradient of the last state, and the gradients of the final states."""
        t_out = steps if self.return_sequences else 1
        w = self.wout
        if self.return_sequences:
            big = np.ascontiguousarray(g[:, :steps].transpose(1, 0, 2))
            if w is not None:
                big *= w
            dh = big[-1].copy()
        else:
            big = None
            dh = g[:, 0] * (1 if w is None else w[-1])
        finals = [g[:, t_out + k] for k in range(self.n_states)] if self.return_state else []
        if finals:
            dh += finals[0]
        return big, dh, finals

    def _step_input(self, h: np.ndarray, buf: np.ndarray) -> np.ndarray:
        """h, or h times the recurrent dropout mask (written into buf)."""
        if self.rmask is None:
            return h
        return np.multiply(h, self.rmask, out=buf)

    def _weight_grads(self, xt: np.ndarray, hs: np.ndarray, dz_in: np.ndarray, dz_rec: np.ndarray,
                      w: np.ndarray) -> tuple[Any, Any, Any]:
        """dx (batch, steps, features), dW = x^T dZ, dU = h_{t-1}^T dZ over all steps stacked."""
        steps, batch, features = xt.shape
        dx = dw = du = None
        if self.needs_grad(0):
            dx = (dz_in @ w.T).reshape(steps, batch, features)
            dx = (dx[::-1] if self.go_backwards else dx).transpose(1, 0, 2)
        if self.needs_grad(1):
            dw = xt.reshape(-1, features).T @ dz_in
        if self.needs_grad(2):
            h_in = hs[:-1] if self.rmask is None else hs[:-1] * self.rmask
            du = h_in.reshape(-1, hs.shape[2]).T @ dz_rec
        return dx, dw, du


class SimpleRNNSequence(_Recurrence):
    """h_t = act(x_t W + b + h_{t-1} U) over all steps;  BPTT: dA_t = dh_t act'(h_t), dh_{t-1} = dA_t U^T."""

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        bias, states = self._unpack(rest)
        steps, batch, units = x.shape[1], x.shape[0], recurrent_kernel.shape[0]
        self._prepare_mask(steps)
        xt = self._time_major(x)
        a = (xt.reshape(-1, xt.shape[2]) @ kernel).reshape(steps, batch, units)
        if bias is not None:
            a += bias
        hs = np.empty((steps + 1, batch, units), x.dtype)
        hs[0] = self._initial(states, (batch, units), x.dtype)[0]
        tmp, hbuf = np.empty((batch, units), x.dtype), np.empty((batch, units), x.dtype)
        act, drop = self.act, self.drop
        for t in range(steps):
            np.matmul(self._step_input(hs[t], hbuf), recurrent_kernel, out=tmp)
            h = hs[t + 1]
            np.add(a[t], tmp, out=h)
            act(h)
            if drop is not None:
                np.copyto(h, hs[t], where=drop[t])
        self.xt, self.hs, self.kernel, self.recurrent_kernel = xt, hs, kernel, recurrent_kernel
        return self._pack(hs, [hs[steps]])

    def backward(self, g: Any) -> tuple[Any, ...]:
        hs, u = self.hs, self.recurrent_kernel
        steps = hs.shape[0] - 1
        big, dh, _ = self._unpack_grad(g, steps)
        k = self.d_act(hs[1:])
        if self.keep is not None:
            k *= self.keep
        da = np.empty_like(k)
        ut = np.ascontiguousarray(u.T)
        nxt = np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            np.multiply(dh, k[t], out=da[t])
            np.matmul(da[t], ut, out=nxt)
            if self.rmask is not None:
                nxt *= self.rmask
            if self.drop is not None:
                np.copyto(nxt, dh, where=self.drop[t])
            dh, nxt = nxt, dh
            if big is not None and t:
                dh += big[t - 1]
        flat = da.reshape(-1, da.shape[2])
        dx, dw, du = self._weight_grads(self.xt, hs, flat, flat, self.kernel)
        grads = [dx, dw, du]
        if self.has_bias:
            grads.append(flat.sum(axis=0) if self.needs_grad(3) else None)
        if self.has_state:
            grads.append(dh)
        return tuple(grads)


_LSTM_ORDER = (3, 0, 1, 2)  # internal gate order o, i, f, c from Keras's i, f, c, o


def _reorder(a: np.ndarray, units: int, order: tuple[int, ...]) -> np.ndarray:
    """The gate blocks of the last axis in the given order (a copy)."""
    return np.concatenate([a[..., k * units:(k + 1) * units] for k in order], axis=-1)


def _restore(a: np.ndarray, units: int, order: tuple[int, ...]) -> np.ndarray:
    """Inverse of `_reorder`: blocks taken in `order` put back in Keras's order."""
    out = np.empty_like(a)
    for pos, k in enumerate(order):
        out[..., k * units:(k + 1) * units] = a[..., pos * units:(pos + 1) * units]
    return out


class LSTMSequence(_Recurrence):
    """LSTM over all steps: [i, f, c~, o] = gates of x_t W + h_{t-1} U + b, c_t = f c_{t-1} + i c~, h_t = o act(c_t).

    Internally the gates are ordered o, i, f, c~ so that the three sigmoid gates are one block in the forward
    pass and the three gates driven by dc are one block in the backward pass:
    dz_o = dh act(c) o', dc += dh o act'(c), dz_{i,f,c~} = dc [c~ i', c_{t-1} f', i c~'], dc_{t-1} = dc f.
    """

    n_states = 2

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        bias, states = self._unpack(rest)
        steps, batch, units = x.shape[1], x.shape[0], recurrent_kernel.shape[0]
        n = units
        self._prepare_mask(steps)
        xt = self._time_major(x)
        w, u = _reorder(kernel, n, _LSTM_ORDER), _reorder(recurrent_kernel, n, _LSTM_ORDER)
        ws, us = w, u
        b = _reorder(bias, n, _LSTM_ORDER) if bias is not None else None
        if self.fast:  # sigmoid(z) = (1 + tanh(z / 2)) / 2: halve the sigmoid gates' weights, one tanh for all gates
            scale = np.ones(4 * n, x.dtype)
            scale[:3 * n] = 0.5
            ws, us = w * scale, u * scale
            b = b * scale if b is not None else None
        a = (xt.reshape(-1, xt.shape[2]) @ ws).reshape(steps, batch, 4 * n)
        if b is not None:
            a += b
        h0, c0 = self._initial(states, (batch, n), x.dtype)
        hs = np.empty((steps + 1, batch, n), x.dtype)
        cs = np.empty((steps + 1, batch, n), x.dtype)
        hs[0], cs[0] = h0, c0
        tc = np.empty((steps, batch, n), x.dtype)
        z = np.empty((batch, 4 * n), x.dtype)
        tmp, hbuf = np.empty((batch, n), x.dtype), np.empty((batch, n), x.dtype)
        act, ract, fast, drop = self.act, self.ract, self.fast, self.drop
        for t in range(steps):
            np.matmul(self._step_input(hs[t], hbuf), us, out=z)
            at = a[t]
            at += z
            if fast:
                np.tanh(at, out=at)
                sig = at[:, :3 * n]
                sig *= 0.5
                sig += 0.5
            else:
                ract(at[:, :3 * n])
                act(at[:, 3 * n:])
            c = cs[t + 1]
            np.multiply(at[:, 2 * n:3 * n], cs[t], out=c)
            np.multiply(at[:, n:2 * n], at[:, 3 * n:], out=tmp)
            c += tmp
            tct = tc[t]
            np.copyto(tct, c)
            act(tct)
            np.multiply(at[:, :n], tct, out=hs[t + 1])
            if drop is not None:
                np.copyto(hs[t + 1], hs[t], where=drop[t])
                np.copyto(c, cs[t], where=drop[t])
        self.xt, self.a, self.hs, self.cs, self.tc, self.w, self.u = xt, a, hs, cs, tc, w, u
        return self._pack(hs, [hs[steps], cs[steps]])

    def _factors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For all steps at once: K = [act(c) o', c~ i', c_{t-1} f', i c~'], Kc = o act'(c) and the forget gate
        (1 at padded steps, where the cell state passes through)."""
        a, tc, n = self.a, self.tc, self.hs.shape[2]
        o, i, f, g = a[..., :n], a[..., n:2 * n], a[..., 2 * n:3 * n], a[..., 3 * n:]
        k = np.empty_like(a)
        k[..., :3 * n] = self.d_ract(a[..., :3 * n])
        k[..., :n] *= tc
        k[..., n:2 * n] *= g
        k[..., 2 * n:3 * n] *= self.cs[:-1]
        np.multiply(self.d_act(g), i, out=k[..., 3 * n:])
        kc = self.d_act(tc)
        kc *= o
        forget = f
        if self.keep is not None:
            k *= self.keep
            kc *= self.keep
            forget = np.where(self.keep, f, f.dtype.type(1))
        return k, kc, forget

    def backward(self, g: Any) -> tuple[Any, ...]:
        hs, n = self.hs, self.hs.shape[2]
        steps, batch = hs.shape[0] - 1, hs.shape[1]
        big, dh, finals = self._unpack_grad(g, steps)
        dc = finals[1].copy() if finals else np.zeros_like(dh)
        k, kc, forget = self._factors()
        dz = np.empty_like(k)
        ut = np.ascontiguousarray(self.u.T)
        nxt, tmp = np.empty_like(dh), np.empty_like(dh)
        dc3 = dc[:, None, :]
        for t in range(steps - 1, -1, -1):
            kt, zt = k[t], dz[t]
            np.multiply(dh, kt[:, :n], out=zt[:, :n])
            np.multiply(dh, kc[t], out=tmp)
            dc += tmp
            np.multiply(dc3, kt[:, n:].reshape(batch, 3, n), out=zt[:, n:].reshape(batch, 3, n))
            dc *= forget[t]
            np.matmul(zt, ut, out=nxt)
            if self.rmask is not None:
                nxt *= self.rmask
            if self.drop is not None:
                np.copyto(nxt, dh, where=self.drop[t])
            dh, nxt = nxt, dh
            if big is not None and t:
                dh += big[t - 1]
        flat = dz.reshape(-1, 4 * n)
        dx, dw, du = self._weight_grads(self.xt, hs, flat, flat, self.w)
        grads = [dx, None if dw is None else _restore(dw, n, _LSTM_ORDER),
                 None if du is None else _restore(du, n, _LSTM_ORDER)]
        if self.has_bias:
            grads.append(_restore(flat.sum(axis=0), n, _LSTM_ORDER) if self.needs_grad(3) else None)
        if self.has_state:
            grads += [dh, dc]
        return tuple(grads)


_GRU_INPUT_ORDER = (2, 0, 1)  # the input-side gradient blocks come out as h, z, r


class GRUSequence(_Recurrence):
    """GRU (reset_after, Keras's default) over all steps, gates z, r, h as in Keras:
    z, r = sigmoid(x W_zr + b_zr + h U_zr + b'_zr), h~ = act(x W_h + b_h + r (h U_h + b'_h)), h_t = z h + (1 - z) h~.

    The bias is (2, 3 units): input bias, then recurrent bias (PyTorch's b_ih and b_hh with gates reordered).
    BPTT per step: dh~' = dh (1 - z) act'(h~), dz' = dh (h - h~) z', dr' = dh~' (h U_h + b'_h) r',
    dh_{t-1} = dh z + [dz', dr', dh~' r] U^T.
    """

    def forward(self, x: Any, kernel: Any, recurrent_kernel: Any, *rest: Any) -> Any:
        bias, states = self._unpack(rest)
        steps, batch, n = x.shape[1], x.shape[0], recurrent_kernel.shape[0]
        self._prepare_mask(steps)
        xt = self._time_major(x)
        ws, us = kernel, recurrent_kernel
        b = rec_h = None
        if bias is not None:
            b = bias[0].copy()
            b[:2 * n] += bias[1, :2 * n]
            rec_h = bias[1, 2 * n:]
        if self.fast:
            scale = np.ones(3 * n, x.dtype)
            scale[:2 * n] = 0.5
            ws, us = kernel * scale, recurrent_kernel * scale
            b = b * scale if b is not None else None
        a = (xt.reshape(-1, xt.shape[2]) @ ws).reshape(steps, batch, 3 * n)
        if b is not None:
            a += b
        hs = np.empty((steps + 1, batch, n), x.dtype)
        hs[0] = self._initial(states, (batch, n), x.dtype)[0]
        rh = np.empty((steps, batch, n), x.dtype)
        r_buf = np.empty((batch, 3 * n), x.dtype)
        tmp, hbuf = np.empty((batch, n), x.dtype), np.empty((batch, n), x.dtype)
        act, ract, fast, drop = self.act, self.ract, self.fast, self.drop
        for t in range(steps):
            h = hs[t]
            np.matmul(self._step_input(h, hbuf), us, out=r_buf)
            at = a[t]
            zr = at[:, :2 * n]
            zr += r_buf[:, :2 * n]
            if fast:
                np.tanh(zr, out=zr)
                zr *= 0.5
                zr += 0.5
            else:
                ract(zr)
            rht = rh[t]
            if rec_h is None:
                np.copyto(rht, r_buf[:, 2 * n:])
            else:
                np.add(r_buf[:, 2 * n:], rec_h, out=rht)
            hh = at[:, 2 * n:]
            np.multiply(at[:, n:2 * n], rht, out=tmp)
            hh += tmp
            act(hh)
            hn = hs[t + 1]
            np.subtract(h, hh, out=hn)
            hn *= at[:, :n]
            hn += hh
            if drop is not None:
                np.copyto(hn, h, where=drop[t])
        self.xt, self.a, self.hs, self.rh = xt, a, hs, rh
        self.kernel, self.recurrent_kernel = kernel, recurrent_kernel
        return self._pack(hs, [hs[steps]])

    def _factors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For all steps: [K_h, K_z] = [(1 - z) act'(h~), (h_{t-1} - h~) z'], [K_r, r] = [rh r', r], and z
        (1 at padded steps, where the state passes through)."""
        a, n = self.a, self.hs.shape[2]
        z, r, hh = a[..., :n], a[..., n:2 * n], a[..., 2 * n:]
        khz = np.empty((*a.shape[:2], 2 * n), a.dtype)
        np.subtract(1, z, out=khz[..., :n])
        khz[..., :n] *= self.d_act(hh)
        np.subtract(self.hs[:-1], hh, out=khz[..., n:])
        khz[..., n:] *= self.d_ract(z)
        krr = np.empty_like(khz)
        np.multiply(self.rh, self.d_ract(r), out=krr[..., :n])
        krr[..., n:] = r
        carry = z
        if self.keep is not None:
            khz *= self.keep
            carry = np.where(self.keep, z, z.dtype.type(1))
        return khz, krr, carry

    def backward(self, g: Any) -> tuple[Any, ...]:
        hs, n = self.hs, self.hs.shape[2]
        steps, batch = hs.shape[0] - 1, hs.shape[1]
        big, dh, _ = self._unpack_grad(g, steps)
        khz, krr, carry = self._factors()
        d = np.empty((steps, batch, 4 * n), hs.dtype)  # [dh~', dz', dr', dh~' r]
        ut = np.ascontiguousarray(self.recurrent_kernel.T)
        nxt, tmp = np.empty_like(dh), np.empty_like(dh)
        dh3 = dh[:, None, :]
        for t in range(steps - 1, -1, -1):
            dt = d[t]
            np.multiply(dh3, khz[t].reshape(batch, 2, n), out=dt[:, :2 * n].reshape(batch, 2, n))
            np.multiply(dt[:, None, :n], krr[t].reshape(batch, 2, n), out=dt[:, 2 * n:].reshape(batch, 2, n))
            np.multiply(dh, carry[t], out=tmp)
            np.matmul(dt[:, n:], ut, out=nxt)
            if self.rmask is not None:
                nxt *= self.rmask
            nxt += tmp
            dh, nxt = nxt, dh
            dh3 = dh[:, None, :]
            if big is not None and t:
                dh += big[t - 1]
        flat = d.reshape(-1, 4 * n)
        w_in = _reorder(self.kernel, n, _GRU_INPUT_ORDER)
        dx, dw, du = self._weight_grads(self.xt, hs, flat[:, :3 * n], flat[:, n:], w_in)
        grads = [dx, None if dw is None else _restore(dw, n, _GRU_INPUT_ORDER), du]
        if self.has_bias:
            db = None
            if self.needs_grad(3):
                db = np.stack([_restore(flat[:, :3 * n].sum(axis=0), n, _GRU_INPUT_ORDER), flat[:, n:].sum(axis=0)])
            grads.append(db)
        if self.has_state:
            grads.append(dh)
        return tuple(grads)
