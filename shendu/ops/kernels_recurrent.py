"""Compiled time steps of the fused LSTM and GRU (numba, the optional `shendu[fast]` extra), float32 only.

The NumPy loop of `shendu.ops.recurrent` makes about fifteen passes over a step's gates (each a NumPy call of a few
microseconds on these small arrays); each loop here makes the same step in one pass, between the step's matrix
products, which stay with BLAS. The arithmetic is the NumPy loop's, in the same internal layouts (the state
transposed (units, batch), the sigmoid gates as 0.5 + 0.5 tanh(z / 2) with their weights halved), so the tests
compare the two paths. tanh is the rational approximation XLA and Eigen use for float32 (within 3e-7 of np.tanh),
which vectorizes where a call of the C library's tanhf does not.

Masks come as one float per sample, `m` (1 at a real step, 0 at a padded one); without a mask it is all ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.ops.blas import NO_TRANS, ROW_MAJOR
from shendu.ops.kernels import _jit, _jit_fma

_CLAMP = np.float32(7.90531110763549805)  # tanh rounds to +-1 in float32 beyond this


@_jit_fma
def tanh32(x: Any) -> Any:
    """tanh of a float32 as the ratio of two polynomials in x^2 (Eigen's ptanh_float), clamped to +-7.9053."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return x * p / q


@_jit_fma
def tanh_into(x: Any, out: Any) -> None:
    """out = tanh32(x) over flat float32 arrays (what the tests compare with np.tanh)."""
    for i in range(x.size):
        out[i] = tanh32(x[i])


@_jit_fma
def lstm_step(a: Any, z: Any, h: Any, c: Any, m: Any, keep: bool, h_out: Any, c_out: Any, k: Any, kc: Any) -> None:
    """One LSTM step, gates in the internal order o, i, f, c~ (rows of a and z, (4 units, batch)):
    gates = act(a + z) written back into a; c_out = f c + i c~, h_out = o tanh(c_out) (the previous h and c where
    m is 0). When keep, the backward factors: k = [s'(o) tanh(c_out), s'(i) c~, s'(f) c, tanh'(c~) i] m and
    kc = tanh'(c_out) o m, with tanh' = 1 - t^2 and s'(s) = 4 s (1 - s) (the sigmoid's derivative times 4, as
    the NumPy loop keeps it: the 1/4 is folded into the weights). z is overwritten (it holds tanh(c_out) for the
    second loop: one loop writing all nine arrays does not vectorize)."""
    n, batch = c.shape
    half, one, four = np.float32(0.5), np.float32(1), np.float32(4)
    for j in range(n):
        for b in range(batch):
            o = half + half * tanh32(a[j, b] + z[j, b])
            i = half + half * tanh32(a[n + j, b] + z[n + j, b])
            f = half + half * tanh32(a[2 * n + j, b] + z[2 * n + j, b])
            g = tanh32(a[3 * n + j, b] + z[3 * n + j, b])
            cp = c[j, b]
            cn = f * cp + i * g
            tc = tanh32(cn)
            a[j, b], a[n + j, b], a[2 * n + j, b], a[3 * n + j, b] = o, i, f, g
            z[j, b] = tc
            real = m[b] != 0
            h_out[j, b] = o * tc if real else h[j, b]
            c_out[j, b] = cn if real else cp
    if keep:
        for j in range(n):
            for b in range(batch):
                o, i, f, g = a[j, b], a[n + j, b], a[2 * n + j, b], a[3 * n + j, b]
                tc, mb = z[j, b], m[b]
                k[j, b] = four * o * (one - o) * tc * mb
                k[n + j, b] = four * i * (one - i) * g * mb
                k[2 * n + j, b] = four * f * (one - f) * c[j, b] * mb
                k[3 * n + j, b] = (one - g * g) * i * mb
                kc[j, b] = (one - tc * tc) * o * mb


@_jit_fma
def lstm_step_back(dh: Any, add: Any, k: Any, kc: Any, a: Any, m: Any, dc: Any) -> None:
    """One LSTM step backward, before the product U dz: dh += add (the output's gradient at this step), then
    dz_o = dh K_o, dc += dh Kc, dz_{i,f,c~} = dc K_{i,f,c~} (written over k), dc *= f (the forget gate, row block
    2 of the step's gates a; 1 at a padded step, where the cell passes through)."""
    n, batch = dh.shape
    one = np.float32(1)
    for j in range(n):
        for b in range(batch):
            d = dh[j, b] + add[j, b]
            dh[j, b] = d
            dcv = dc[j, b] + d * kc[j, b]
            k[j, b] *= d
            k[n + j, b] *= dcv
            k[2 * n + j, b] *= dcv
            k[3 * n + j, b] *= dcv
            dc[j, b] = dcv * (a[2 * n + j, b] if m[b] != 0 else one)


@_jit_fma
def gru_step(a: Any, r_buf: Any, rec_h: Any, h: Any, m: Any, keep: bool, h_out: Any, khz: Any, kr: Any) -> None:
    """One GRU step (reset_after), rows z, r, h~ of a and of r_buf = U^T h (3 units, batch): z, r = sigmoid,
    rh = r_buf_h + rec_h, h~ = tanh(a_h + r rh), h_out = z (h - h~) + h~ (h where m is 0); a gets z, r, h~.
    When keep, the backward factors khz = [(1 - z) tanh'(h~), (h - h~) tanh'(z)] m and kr = tanh'(r) rh."""
    n, batch = h.shape
    half, one = np.float32(0.5), np.float32(1)
    for j in range(n):
        rb = rec_h[j]
        for b in range(batch):
            tz = tanh32(a[j, b] + r_buf[j, b])
            tr = tanh32(a[n + j, b] + r_buf[n + j, b])
            z, r = half + half * tz, half + half * tr
            rh = r_buf[2 * n + j, b] + rb
            hh = tanh32(a[2 * n + j, b] + r * rh)
            hp = h[j, b]
            d = hp - hh
            a[j, b], a[n + j, b], a[2 * n + j, b] = z, r, hh
            mb = m[b]
            if keep:
                khz[j, b] = (one - z) * (one - hh * hh) * mb
                khz[n + j, b] = d * (one - tz * tz) * mb
                kr[j, b] = (one - tr * tr) * rh
            h_out[j, b] = d * z + hh if mb != 0 else hp


@_jit_fma
def gru_step_back(dh: Any, extra: Any, add: Any, d: Any, khz: Any, kr: Any, a: Any, m: Any) -> None:
    """One GRU step backward, before the product U [dz', dr', dh~' r]: dh += extra + add (the carried part of the
    later step and the output's gradient), then d = [dh~', dz', dr', dh~' r] (4 units, batch) with
    dh~' = dh K_h, dz' = dh K_z, dr' = dh~' K_r; extra = dh z (the part of dh_{t-1} that skips the product; dh
    itself at a padded step). z and r are the rows 0 and 1 of the step's gates a."""
    n, batch = dh.shape
    for j in range(n):
        for b in range(batch):
            g = dh[j, b] + extra[j, b] + add[j, b]
            dh[j, b] = g
            dhh = g * khz[j, b]
            d[j, b] = dhh
            d[n + j, b] = g * khz[n + j, b]
            d[2 * n + j, b] = dhh * kr[j, b]
            d[3 * n + j, b] = dhh * a[n + j, b]
            extra[j, b] = g * a[j, b] if m[b] != 0 else g


@_jit
def _product(blas: Any, parts: int, a: Any, b: Any, out: Any) -> None:
    """out = a @ b by BLAS's sgemm (`blas`, `shendu.ops.blas.sgemm()`), for C-contiguous float32 (m, k) a, (k, n) b
    and (m, n) out, in `parts` pieces along the longer of m and k (a piece of k adds into out): OpenBLAS's
    small-matrix kernels run them faster than the whole (`blas.small_parts`)."""
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    one, zero, size = np.float32(1), np.float32(0), a.itemsize
    for p in range(parts):
        if m >= k:
            r0, r1 = m * p // parts, m * (p + 1) // parts
            blas(ROW_MAJOR, NO_TRANS, NO_TRANS, r1 - r0, n, k, one, a.ctypes.data + r0 * k * size, k, b.ctypes.data,
                 n, zero, out.ctypes.data + r0 * n * size, n)
        else:
            k0, k1 = k * p // parts, k * (p + 1) // parts
            blas(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k1 - k0, one, a.ctypes.data + k0 * size, k,
                 b.ctypes.data + k0 * n * size, n, zero if p == 0 else one, out.ctypes.data, n)


@_jit
def _masked(x: Any, mask: Any, out: Any) -> Any:
    """x times the recurrent dropout mask, written into out (which may be x), when the mask is not empty; else x."""
    if mask.size == 0:
        return x
    for j in range(x.shape[0]):
        for b in range(x.shape[1]):
            out[j, b] = x[j, b] * mask[j, b]
    return out


@_jit
def lstm_forward(blas: Any, parts: int, a: Any, u_t: Any, hs: Any, c: Any, c_new: Any, z: Any, hbuf: Any,
                 rmask: Any, real: Any, keep: bool, k: Any, kc: Any, t0: int, t1: int) -> tuple[Any, Any]:
    """Steps t0 ... t1 - 1 of the LSTM's time loop in one call: per step z = U^T h with BLAS's sgemm (`blas`,
    `shendu.ops.blas.sgemm()`; h times the recurrent dropout mask rmask when that is not empty), then `lstm_step`.
    No Python runs between steps (about 8 us a step otherwise). Returns (c, c_new) as they are after the steps
    (the loop swaps them)."""
    for t in range(t0, t1):
        _product(blas, parts, u_t, _masked(hs[t], rmask, hbuf), z)
        lstm_step(a[t], z, hs[t], c, real[t], keep, hs[t + 1], c_new, k[t], kc[t])
        c, c_new = c_new, c
    return c, c_new


@_jit
def lstm_backward(blas: Any, parts: int, dh: Any, nxt: Any, big: Any, zeros: Any, k: Any, kc: Any, a: Any,
                  real: Any, dc: Any, u: Any, rmask: Any, drop: Any, t0: int, t1: int) -> tuple[Any, Any]:
    """Steps t1 - 1 down to t0 of the LSTM's backward loop in one call: per step `lstm_step_back` (adding big[t], the
    outputs' gradient, below the last step where big is not empty), then nxt = U dZ with sgemm, times rmask, and dh
    itself at the steps that drop marks padded. Returns (dh, nxt) as they are after the steps."""
    last = k.shape[0] - 1
    for t in range(t1 - 1, t0 - 1, -1):
        add = big[t] if big.size > 0 and t < last else zeros
        lstm_step_back(dh, add, k[t], kc[t], a[t], real[t], dc)
        _product(blas, parts, u, k[t], nxt)
        _masked(nxt, rmask, nxt)
        if drop.size > 0:
            for b in range(dh.shape[1]):
                if drop[t, 0, b]:
                    for j in range(dh.shape[0]):
                        nxt[j, b] = dh[j, b]
        dh, nxt = nxt, dh
    return dh, nxt


@_jit
def gru_forward(blas: Any, parts: int, a: Any, u_t: Any, hs: Any, r_buf: Any, hbuf: Any, rmask: Any, rec: Any,
                real: Any, keep: bool, khz: Any, kr: Any, t0: int, t1: int) -> None:
    """Steps t0 ... t1 - 1 of the GRU's time loop in one call: per step r_buf = U^T h with BLAS's sgemm (h times the
    recurrent dropout mask rmask when that is not empty), then `gru_step`."""
    for t in range(t0, t1):
        _product(blas, parts, u_t, _masked(hs[t], rmask, hbuf), r_buf)
        gru_step(a[t], r_buf, rec, hs[t], real[t], keep, hs[t + 1], khz[t], kr[t])


@_jit
def gru_backward(blas: Any, parts: int, dh: Any, nxt: Any, extra: Any, big: Any, zeros: Any, d: Any, khz: Any,
                 kr: Any, a: Any, real: Any, u: Any, rmask: Any, t0: int, t1: int) -> tuple[Any, Any]:
    """Steps t1 - 1 down to t0 of the GRU's backward loop in one call: per step `gru_step_back` (adding big[t] below
    the last step where big is not empty), then nxt = U [dz', dr', dh~' r] with sgemm, times rmask. Returns (dh, nxt)
    as they are after the steps (extra, the part that skips the product, is added by the caller at the end)."""
    last, n = d.shape[0] - 1, dh.shape[0]
    for t in range(t1 - 1, t0 - 1, -1):
        dt = d[t]
        add = big[t] if big.size > 0 and t < last else zeros
        gru_step_back(dh, extra, add, dt, khz[t], kr[t], a[t], real[t])
        _product(blas, parts, u, dt[n:], nxt)
        _masked(nxt, rmask, nxt)
        dh, nxt = nxt, dh
    return dh, nxt
