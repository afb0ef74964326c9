"""Philox4x32-10 (Salmon et al. 2011), the counter-based generator behind TensorFlow's `tf.random.Generator` and
`tf.random.stateless_*`, with TensorFlow's seeding and its float distributions, so that the same seed gives the same
numbers as TensorFlow (the tests compare with values TensorFlow printed).

One call maps a 128-bit counter (four uint32) and a 64-bit key (two uint32) to four uint32, by ten rounds of
  (c0, c1, c2, c3) -> (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)),  k += (W0, W1).
Samples come in groups of four: group g is the call at counter + g. A uniform float is the 23 low bits of a uint32 as
a mantissa in [1, 2), minus 1; a normal pair is Box-Muller on two of them: sqrt(-2 ln u1) (sin, cos)(2 pi u2).
All of it is NumPy on arrays of counters (uint64 arithmetic for the 32x32-bit products).
"""

from __future__ import annotations

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)
RESERVED_PER_OUTPUT = 256  # TensorFlow moves a stateful generator's counter on by this per value drawn


def philox(counter: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """The four uint32 outputs for each row of counter (n, 4) uint32 and the key (k0, k1): (n, 4) uint32."""
    c = [counter[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & MASK32,
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & MASK32]
    return np.stack(c, axis=1).astype(np.uint32)


def counters(start: tuple[int, int], groups: int) -> np.ndarray:
    """(groups, 4) uint32: the 128-bit counter start (low and high uint64) plus 0, 1, ..., groups - 1."""
    return counters_at(start, np.arange(groups, dtype=np.uint64))


def counters_at(start: tuple[int, int], offsets: np.ndarray) -> np.ndarray:
    """(n, 4) uint32: the 128-bit counter start (low and high uint64) plus each of the uint64 offsets."""
    lo = np.uint64(start[0]) + offsets  # wraps modulo 2^64, the carry going into the high word
    hi = np.full(offsets.shape, start[1], dtype=np.uint64) + (lo < np.uint64(start[0])).astype(np.uint64)
    return np.stack([lo & MASK32, lo >> np.uint64(32), hi & MASK32, hi >> np.uint64(32)], axis=1).astype(np.uint32)


def bits(start: tuple[int, int], key: int, groups: int) -> np.ndarray:
    """The uint32 outputs of `groups` consecutive calls from counter start, key a uint64: (groups * 4,)."""
    return philox(counters(start, groups), (key & 0xFFFFFFFF, key >> 32)).reshape(-1)


def to_unit_float(x: np.ndarray) -> np.ndarray:
    """float32 in [0, 1): the 23 low bits as the mantissa of a number in [1, 2), minus 1 (TensorFlow's
    Uint32ToFloat)."""
    return ((x & np.uint32(0x7FFFFF)) | np.uint32(127 << 23)).view(np.float32) - np.float32(1.0)


def to_unit_double(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """float64 in [0, 1) from two uint32: 20 bits of hi and all of lo as the mantissa (TensorFlow's Uint64ToDouble)."""
    man = ((hi.astype(np.uint64) & np.uint64(0xFFFFF)) << np.uint64(32)) | lo.astype(np.uint64)
    return (man | np.uint64(1023 << 52)).view(np.float64) - 1.0


def uniform(start: tuple[int, int], key: int, size: int, dtype: np.dtype = np.float32) -> np.ndarray:
    """`size` floats in [0, 1): float32 four per call, float64 two per call."""
    if np.dtype(dtype) == np.float64:
        b = bits(start, key, -(-size // 2)).reshape(-1, 2)
        return to_unit_double(b[:, 0], b[:, 1])[:size]
    return to_unit_float(bits(start, key, -(-size // 4)))[:size]


def _box_muller(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Pairs of N(0, 1) values, sqrt(-2 ln u1) (sin, cos)(2 pi u2), interleaved; u1 kept above 1e-7."""
    one = u1.dtype.type
    radius = np.sqrt(one(-2.0) * np.log(np.maximum(u1, one(1e-7))))
    angle = one(2.0 * np.pi) * u2
    return np.stack([np.sin(angle) * radius, np.cos(angle) * radius], axis=1).reshape(-1)


def normal(start: tuple[int, int], key: int, size: int, dtype: np.dtype = np.float32) -> np.ndarray:
    """`size` values from N(0, 1): float32 four per call (Box-Muller on each pair of outputs), float64 two per call
    (on the two doubles that a call's four outputs make)."""
    if np.dtype(dtype) == np.float64:
        b = bits(start, key, -(-size // 2)).reshape(-1, 4)
        return _box_muller(to_unit_double(b[:, 0], b[:, 1]), to_unit_double(b[:, 2], b[:, 3]))[:size]
    u = to_unit_float(bits(start, key, -(-size // 4))).reshape(-1, 2)
    return _box_muller(u[:, 0], u[:, 1])[:size]


def truncated_normal(start: tuple[int, int], key: int, size: int) -> np.ndarray:
    """`size` float32 from N(0, 1) cut at +-2: each group of four values has its own run of outputs from counter
    start + 256 g, taken two at a time for Box-Muller, values beyond 2 in size skipped (TensorFlow's
    TruncatedNormalDistribution). The first two calls of every group are made at once; the rare group that needs
    more reads a longer run."""
    groups = -(-size // 4)
    offsets = (np.arange(groups, dtype=np.uint64)[:, None] * np.uint64(256) + np.arange(2, dtype=np.uint64)).reshape(-1)
    first = counters_at(start, offsets)
    u = to_unit_float(philox(first, (key & 0xFFFFFFFF, key >> 32)).reshape(groups, -1))
    z = _box_muller(u[:, 0::2].reshape(-1), u[:, 1::2].reshape(-1)).reshape(groups, -1)
    kept = np.abs(z) < np.float32(2.0)
    order = np.argsort(~kept, axis=1, kind="stable")[:, :4]  # each group's first four kept values
    out = np.take_along_axis(z, order, axis=1)
    for g in np.flatnonzero(kept.sum(axis=1) < 4):  # fewer than four of eight: read on
        calls = 4
        while True:
            u = to_unit_float(bits(advance(start, 256 * int(g)), key, calls))
            zg = _box_muller(u[0::2], u[1::2])
            zg = zg[np.abs(zg) < np.float32(2.0)]
            if zg.size >= 4:
                out[g] = zg[:4]
                break
            calls *= 2
    return out.reshape(-1)[:size]


def integers(start: tuple[int, int], key: int, size: int, dtype: np.dtype, low: int | None = None,
             high: int | None = None) -> np.ndarray:
    """`size` integers in [low, high) as low + (bits mod (high - low)), or over the dtype's whole range when low and
    high are None; 32-bit ones one output each (four per call), 64-bit ones two outputs each (two per call)."""
    dtype = np.dtype(dtype)
    if dtype.itemsize == 8:
        b = bits(start, key, -(-size // 2)).astype(np.uint64).reshape(-1, 2)
        raw = (b[:, 0] | (b[:, 1] << np.uint64(32)))[:size]
    else:
        raw = bits(start, key, -(-size // 4)).astype(np.uint64)[:size]
    if low is None:
        return raw.astype(np.uint64 if dtype.itemsize == 8 else np.uint32).view(np.int64 if dtype.itemsize == 8
                                                                                  else np.int32).astype(dtype)
    span = np.uint64((high - low) % (1 << (8 * dtype.itemsize)))
    return (low + (raw % span).astype(np.int64)).astype(dtype)


def advance(start: tuple[int, int], n: int) -> tuple[int, int]:
    """The 128-bit counter start (low, high uint64) plus n."""
    total = (start[0] + (start[1] << 64) + n) % (1 << 128)
    return total & 0xFFFFFFFFFFFFFFFF, total >> 64


def key_counter_from_seed(seed: tuple[int, int]) -> tuple[int, tuple[int, int]]:
    """TensorFlow's key and counter for a stateless op's seed (s0, s1): the seed as the counter, scrambled by one
    call under a fixed key; the call's first two outputs become the key, its last two the counter's high word."""
    s0, s1 = (int(s) & 0xFFFFFFFFFFFFFFFF for s in seed)
    start = np.array([[s0 & 0xFFFFFFFF, s0 >> 32, s1 & 0xFFFFFFFF, s1 >> 32]], dtype=np.uint32)
    mix = philox(start, (0x3EC8F720, 0x02461E29))[0].astype(np.uint64)
    key = int(mix[0]) | int(mix[1]) << 32
    return key, (0, int(mix[2]) | int(mix[3]) << 32)
