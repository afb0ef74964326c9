"""tf.nn: activations, cross-entropies with logits, dropout, convolutions, pooling, moments, ... over shendu.ops.

Inputs may be Tensors, Variables, NumPy arrays or Python numbers; every result is a shendu Tensor and every float
result takes gradients through the ops it is made of. Labels (and the other non-float arguments) take none.
Images are NHWC unless `data_format='NCHW'` (transposed in and out). `name=` is accepted and unused (shendu is eager).
`sigmoid`, `tanh`, `softplus`, `l2_normalize` and `top_k` are tf.math's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shendu import activations
from shendu import random as sd_random
from shendu.creation import convert_to_tensor
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops import conv as conv_ops
from shendu.ops import embedding, losses, nn, pool
from shendu.tensor import Tensor
from shendu.tf.math_ops import l2_normalize, sigmoid, softplus, tanh, top_k

Padding = tuple[tuple[int, int], ...]


def _t(x: Any) -> Tensor:
    return convert_to_tensor(x)


def _raw(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


# --- activations -------------------------------------------------------------------------------------------------
def relu(features: Any, name: str | None = None) -> Tensor:
    """max(x, 0)."""
    return activations.relu(features)


def relu6(features: Any, name: str | None = None) -> Tensor:
    """min(max(x, 0), 6)."""
    return activations.relu6(features)


def elu(features: Any, name: str | None = None) -> Tensor:
    """x if x > 0 else e^x - 1."""
    return activations.elu(features)


def selu(features: Any, name: str | None = None) -> Tensor:
    """scale * elu(x, alpha) with alpha = 1.6733, scale = 1.0507."""
    return activations.selu(features)


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Tensor:
    """x Phi(x) (the tanh form when approximate)."""
    return activations.gelu(features, approximate=approximate)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """x if x > 0 else alpha x."""
    return activations.leaky_relu(features, negative_slope=alpha)


def softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """e^x / sum(e^x) along axis (the last by default)."""
    return activations.softmax(logits, axis=-1 if axis is None else axis)


def log_softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """x - log sum(e^x) along axis (the last by default)."""
    return activations.log_softmax(logits, axis=-1 if axis is None else axis)


def silu(features: Any, beta: float = 1.0) -> Tensor:
    """x sigmoid(beta x) (swish)."""
    if beta == 1.0:
        return activations.silu(features)
    x = _t(features)
    return x * activations.sigmoid(x * beta)


swish = silu


def softsign(features: Any, name: str | None = None) -> Tensor:
    """x / (1 + |x|)."""
    return activations.softsign(features)


# --- losses ------------------------------------------------------------------------------------------------------
def _float_labels(labels: Any, logits: Tensor, fn: str) -> np.ndarray:
    z = _raw(labels).astype(logits.dtype, copy=False)
    if z.shape != logits.shape:
        raise ValueError(f"{fn}: labels and logits must have the same shape, got {z.shape} and {logits.shape}")
    return z


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None, name: str | None = None) -> Tensor:
    """Element-wise max(x, 0) - x z + log(1 + e^-|x|) for logits x and labels z (not reduced)."""
    x = _t(logits)
    z = _float_labels(labels, x, "tf.nn.sigmoid_cross_entropy_with_logits")
    per = losses.SigmoidCrossEntropy.apply(x.reshape(*x.shape, 1), targets=z[..., None])  # mean over a size-1 axis
    return per.reshape(x.shape)


def weighted_cross_entropy_with_logits(labels: Any, logits: Any, pos_weight: Any, name: str | None = None) -> Tensor:
    """Element-wise (1 - z) x + (1 + (q - 1) z) log(1 + e^-x): the sigmoid cross-entropy with positives weighted q."""
    x = _t(logits)
    z = _float_labels(labels, x, "tf.nn.weighted_cross_entropy_with_logits")
    q = _raw(pos_weight).astype(x.dtype, copy=False)
    return x * (1 - z) + activations.softplus(-x) * (1 + (q - 1) * z)


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along axis, one loss per example (the other axes)."""
    x = _t(logits)
    t = _float_labels(labels, x, "tf.nn.softmax_cross_entropy_with_logits")
    axis = axis % x.ndim
    if axis != x.ndim - 1:
        perm = [i for i in range(x.ndim) if i != axis] + [axis]
        x, t = x.transpose(perm), t.transpose(perm)
    return losses.SoftmaxCrossEntropy.apply(x, targets=t)


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any, name: str | None = None) -> Tensor:
    """logsumexp(x) - x[label] per example, from logits (..., classes) and integer labels (...)."""
    fn = "tf.nn.sparse_softmax_cross_entropy_with_logits"
    x = _t(logits)
    lab = _raw(labels)
    if lab.dtype.kind not in "iu":
        raise ValueError(f"{fn}: labels must be integers (class indices), got dtype {lab.dtype}")
    if x.ndim == 0 or lab.shape != x.shape[:-1]:
        raise ValueError(f"{fn}: labels must have the shape of logits without its last axis; got labels {lab.shape} "
                         f"and logits {x.shape}")
    classes = x.shape[-1]
    if lab.size and (lab.min() < 0 or lab.max() >= classes):
        bad = lab[(lab < 0) | (lab >= classes)].flat[0]
        raise ValueError(f"{fn}: received a label value of {bad}, outside the valid range [0, {classes})")
    return losses.SparseSoftmaxCrossEntropy.apply(x, labels=lab)


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """sum(t^2) / 2."""
    x = _t(t)
    return (x * x).sum() * 0.5


def compute_average_loss(per_example_loss: Any, sample_weight: Any = None, global_batch_size: int | None = None
                         ) -> Tensor:
    """sum(loss * sample_weight) / global_batch_size (the batch's first dimension by default)."""
    loss = _t(per_example_loss)
    if sample_weight is not None:
        loss = loss * _raw(sample_weight).astype(loss.dtype, copy=False)
    n = global_batch_size if global_batch_size is not None else (loss.shape[0] if loss.ndim else 1)
    return loss.sum() * (1.0 / n if n else 0.0)  # an empty batch gives 0, as TensorFlow's div_no_nan


# --- dropout and lookups -----------------------------------------------------------------------------------------
def dropout(x: Any, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """x * m / (1 - rate) with m ~ Bernoulli(1 - rate), always (tf.nn.dropout has no training flag); noise_shape
    (broadcastable to x, None entries taking x's) shares one draw along its axes of length 1."""
    x = _t(x)
    rate = float(_raw(rate))
    if not 0 <= rate < 1:
        raise ValueError(f"tf.nn.dropout: rate must be in [0, 1), got {rate}")
    if x.dtype.kind != "f":
        raise ValueError(f"tf.nn.dropout: x must be a float tensor, got dtype {x.dtype}")
    shape = None
    if noise_shape is not None:
        dims = list(_raw(noise_shape).tolist()) if not isinstance(noise_shape, (list, tuple)) else list(noise_shape)
        if len(dims) != x.ndim:
            raise ValueError(f"tf.nn.dropout: noise_shape {noise_shape} must have one entry per axis of x {x.shape}")
        shape = tuple(n if d is None else int(d) for d, n in zip(dims, x.shape))
    return nn.Dropout.apply(x, rate=rate, rng=sd_random.op_generator("dropout", seed), noise_shape=shape)


def embedding_lookup(params: Any, ids: Any, max_norm: float | None = None, name: str | None = None) -> Tensor:
    """params[ids]: rows of the table (vocabulary, ...) picked by integer ids; the gradient is added into the rows."""
    fn = "tf.nn.embedding_lookup"
    if max_norm is not None:
        raise NotImplementedError(f"{fn}: max_norm is not supported; clip the rows yourself (tf.clip_by_norm)")
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError(f"{fn}: a table split into {len(params)} shards is not supported; "
                                      "concatenate them into one")
        params = params[0]
    table, idx = _t(params), _raw(ids)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{fn}: ids must be integers, got dtype {idx.dtype}")
    if table.ndim == 0:
        raise ValueError(f"{fn}: params must have at least one axis, got a scalar")
    rows = table.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = idx[(idx < 0) | (idx >= rows)].flat[0]
        raise ValueError(f"{fn}: id {bad} is outside the table's rows [0, {rows})")
    flat = table.reshape(rows, -1) if table.ndim != 2 else table
    return embedding.Gather.apply(flat, ids=idx).reshape(*idx.shape, *table.shape[1:])


# --- convolutions and pooling ------------------------------------------------------------------------------------
def _channels_first(data_format: str | None, fn: str) -> bool:
    """Whether data_format puts channels second ('NCHW', 'NCW'); channels-last ('NHWC', 'NWC') is the default."""
    if data_format is None or data_format in ("NHWC", "NWC"):
        return False
    if data_format in ("NCHW", "NCW"):
        return True
    raise ValueError(f"{fn}: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")


def _spatial(value: Any, n: int, what: str, fn: str, channels_first: bool = False) -> tuple[int, ...]:
    """An int or a list of 1, n or n + 2 ints (the batch and channel entries 1) as n spatial values."""
    vals = [int(v) for v in np.atleast_1d(_raw(value))]
    if len(vals) == n + 2:
        outer = (vals[0], vals[1]) if channels_first else (vals[0], vals[-1])
        if outer != (1, 1):
            raise ValueError(f"{fn}: {what} {list(vals)} must be 1 on the batch and channel axes")
        vals = vals[2:] if channels_first else vals[1:-1]
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n or min(vals) < 1:
        raise ValueError(f"{fn}: {what} must be a positive int or a list of 1, {n} or {n + 2} of them, got {value!r}")
    return tuple(vals)


def _padding(padding: Any, lengths: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
             dilations: Sequence[int], fn: str, channels_first: bool = False, explicit: bool = True) -> Padding:
    """'SAME', 'VALID' or explicit pairs per input axis (zero on the batch and channel axes) as spatial pairs."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in ("SAME", "VALID"):
            raise ValueError(f"{fn}: padding must be 'SAME', 'VALID' or explicit pairs, got {padding!r}")
        return tuple(conv_ops.explicit_padding(mode.lower(), n, k, s, d)
                     for n, k, s, d in zip(lengths, kernel, strides, dilations))
    n = len(lengths)
    pairs = np.asarray(_raw(padding))
    if not explicit or pairs.shape != (n + 2, 2):
        allowed = "'SAME' or 'VALID'" if not explicit else f"'SAME', 'VALID' or {n + 2} (before, after) pairs"
        raise ValueError(f"{fn}: padding must be {allowed}, got {padding!r}")
    outer = pairs[:2] if channels_first else pairs[[0, -1]]
    inner = pairs[2:] if channels_first else pairs[1:-1]
    if outer.any() or (inner < 0).any():
        raise ValueError(f"{fn}: explicit padding must be zero on the batch and channel axes and non-negative, "
                         f"got {pairs.tolist()}")
    return tuple((int(a), int(b)) for a, b in inner)


def _to_last(x: Tensor, channels_first: bool) -> Tensor:
    return x.transpose(0, *range(2, x.ndim), 1) if channels_first else x


def _from_last(y: Tensor, channels_first: bool) -> Tensor:
    return y.transpose(0, y.ndim - 1, *range(1, y.ndim - 1)) if channels_first else y


def _check_rank(x: Tensor, rank: int, what: str, fn: str) -> None:
    if x.ndim != rank:
        raise ValueError(f"{fn}: {what} must have rank {rank}, got shape {x.shape}")


def conv2d(input: Any, filters: Any, strides: Any, padding: Any, data_format: str = "NHWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """2-D convolution of input (N, H, W, C) with filters (kh, kw, C / groups, F); input channels a multiple of the
    filters' in-channels run as grouped convolutions."""
    fn = "tf.nn.conv2d"
    cf = _channels_first(data_format, fn)
    x, k = _to_last(_t(input), cf), _t(filters)
    _check_rank(x, 4, "input", fn)
    _check_rank(k, 4, "filters", fn)
    s = _spatial(strides, 2, "strides", fn, cf)
    d = _spatial(1 if dilations is None else dilations, 2, "dilations", fn, cf)
    c, cg = x.shape[3], k.shape[2]
    if c % cg or k.shape[3] % (c // cg):
        raise ValueError(f"{fn}: input with {c} channels does not fit filters of shape {k.shape} (in-channels must "
                         "divide the input's channels, and the groups the filters)")
    pads = _padding(padding, x.shape[1:3], k.shape[:2], s, d, fn, cf)
    y = conv_ops.conv2d(x, k, strides=s, padding=pads, dilation=d, groups=c // cg)
    return _from_last(y, cf)


def conv1d(input: Any, filters: Any, stride: Any, padding: Any, data_format: str = "NWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """1-D convolution of input (N, W, C) with filters (kw, C, F), as a 2-D one of height 1."""
    fn = "tf.nn.conv1d"
    cf = _channels_first(data_format, fn)
    x, k = _to_last(_t(input), cf), _t(filters)
    _check_rank(x, 3, "input", fn)
    _check_rank(k, 3, "filters", fn)
    s = _spatial(stride, 1, "stride", fn, cf)
    d = _spatial(1 if dilations is None else dilations, 1, "dilations", fn, cf)
    if not isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be 'SAME' or 'VALID', got {padding!r}")
    y = conv2d(x.expand_dims(1), k.expand_dims(0), (1, *s), padding, dilations=(1, *d))
    return _from_last(y.squeeze(1), cf)


def atrous_conv2d(value: Any, filters: Any, rate: int, padding: str, name: str | None = None) -> Tensor:
    """conv2d with the filters dilated by rate (stride 1)."""
    return conv2d(value, filters, 1, padding, dilations=rate)


def conv2d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any, padding: Any = "SAME",
                     data_format: str = "NHWC", dilations: Any = None, name: str | None = None) -> Tensor:
    """The transpose (gradient) of conv2d: input (N, H, W, C), filters (kh, kw, F, C), output (N, OH, OW, F) of
    output_shape, such that conv2d of the output with the same strides and padding has the input's shape."""
    fn = "tf.nn.conv2d_transpose"
    cf = _channels_first(data_format, fn)
    x, k = _to_last(_t(input), cf), _t(filters)
    _check_rank(x, 4, "input", fn)
    _check_rank(k, 4, "filters", fn)
    out = [int(v) for v in _raw(output_shape).reshape(-1)]
    if len(out) != 4:
        raise ValueError(f"{fn}: output_shape must have 4 entries, got {output_shape!r}")
    n, oh, ow, f = (out[0], out[2], out[3], out[1]) if cf else out
    if n != x.shape[0] or f != k.shape[2] or x.shape[3] != k.shape[3]:
        raise ValueError(f"{fn}: input {x.shape} (NHWC), filters {k.shape} (kh, kw, out, in) and output_shape "
                         f"{out} do not agree")
    s = _spatial(strides, 2, "strides", fn, cf)
    d = _spatial(1 if dilations is None else dilations, 2, "dilations", fn, cf)
    pads = _padding(padding, (oh, ow), k.shape[:2], s, d, fn, cf)
    back = tuple(conv_ops.valid_length(m + a + b, kk, ss, dd)
                 for m, (a, b), kk, ss, dd in zip((oh, ow), pads, k.shape[:2], s, d))
    if back != x.shape[1:3]:
        raise ValueError(f"{fn}: output_shape {out} is not one whose conv2d gives the input's size {x.shape[1:3]} "
                         f"(it gives {back})")
    y = conv_ops.Conv2DTranspose.apply(x, k, out_hw=(oh, ow), crop=(pads[0][0], pads[1][0]), strides=s, dilation=d)
    return _from_last(y, cf)


def depthwise_conv2d(input: Any, filter: Any, strides: Any, padding: Any, data_format: str | None = None,
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """Each input channel filtered on its own by filter (kh, kw, C, multiplier): output channels C * multiplier."""
    fn = "tf.nn.depthwise_conv2d"
    cf = _channels_first(data_format, fn)
    x, k = _to_last(_t(input), cf), _t(filter)
    _check_rank(x, 4, "input", fn)
    _check_rank(k, 4, "filter", fn)
    if x.shape[3] != k.shape[2]:
        raise ValueError(f"{fn}: input with {x.shape[3]} channels does not fit a filter of shape {k.shape}")
    s = _spatial(strides, 2, "strides", fn, cf)
    d = _spatial(1 if dilations is None else dilations, 2, "dilations", fn, cf)
    pads = _padding(padding, x.shape[1:3], k.shape[:2], s, d, fn, cf)
    return _from_last(conv_ops.DepthwiseConv2D.apply(x, k, strides=s, padding=pads, dilation=d), cf)


def separable_conv2d(input: Any, depthwise_filter: Any, pointwise_filter: Any, strides: Any, padding: Any,
                     data_format: str | None = None, dilations: Any = None, name: str | None = None) -> Tensor:
    """depthwise_conv2d, then a 1x1 conv2d with pointwise_filter (1, 1, C * multiplier, F)."""
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv2d(y, pointwise_filter, 1, "VALID", data_format or "NHWC")


def _pool(op: type, input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None, rank: int,
          fn: str, explicit: bool) -> Tensor:
    """Max or average pooling of rank 1 (as 2-D pooling of height 1) or 2."""
    cf = _channels_first(data_format, fn)
    x = _to_last(_t(input), cf)
    _check_rank(x, rank + 2, "input", fn)
    k = _spatial(ksize, rank, "ksize", fn, cf)
    s = _spatial(strides, rank, "strides", fn, cf)
    pads = _padding(padding, x.shape[1:-1], k, s, (1,) * rank, fn, cf, explicit)
    if rank == 1:
        y = op.apply(x.expand_dims(1), pool_size=(1, *k), strides=(1, *s), padding=((0, 0), *pads)).squeeze(1)
    else:
        y = op.apply(x, pool_size=k, strides=s, padding=pads)
    return _from_last(y, cf)


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    """The maximum of each ksize window (padding 'SAME', 'VALID' or explicit pairs); gradient to the first max."""
    return _pool(pool.MaxPool2D, input, ksize, strides, padding, data_format, 2, "tf.nn.max_pool2d", True)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC",
               name: str | None = None) -> Tensor:
    """The mean of each ksize window; with 'SAME' only the pixels inside the image count."""
    return _pool(pool.AvgPool2D, input, ksize, strides, padding, data_format, 2, "tf.nn.avg_pool2d", False)


def max_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    """max_pool2d over (N, W, C) sequences."""
    return _pool(pool.MaxPool2D, input, ksize, strides, padding, data_format, 1, "tf.nn.max_pool1d", True)


def avg_pool1d(input: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NWC",
               name: str | None = None) -> Tensor:
    """avg_pool2d over (N, W, C) sequences."""
    return _pool(pool.AvgPool2D, input, ksize, strides, padding, data_format, 1, "tf.nn.avg_pool1d", False)


def _pool_nd(op: type, input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None, fn: str,
             explicit: bool) -> Tensor:
    rank = np.ndim(_raw(input)) - 2
    if rank not in (1, 2):
        raise NotImplementedError(f"{fn}: inputs of rank 3 or 4 (1-D or 2-D pooling) are supported, got rank "
                                  f"{rank + 2}")
    return _pool(op, input, ksize, strides, padding, data_format, rank, fn, explicit)


def max_pool(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """max_pool1d or max_pool2d, by the input's rank."""
    return _pool_nd(pool.MaxPool2D, input, ksize, strides, padding, data_format, "tf.nn.max_pool", True)


def avg_pool(input: Any, ksize: Any, strides: Any, padding: str, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """avg_pool1d or avg_pool2d, by the input's rank."""
    return _pool_nd(pool.AvgPool2D, input, ksize, strides, padding, data_format, "tf.nn.avg_pool", False)


def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None) -> Tensor:
    """value + bias along the channel axis (the last, or the second for 'NC...' formats)."""
    fn = "tf.nn.bias_add"
    v, b = _t(value), _t(bias)
    cf = data_format is not None and data_format.startswith("NC")
    if b.ndim != 1 or v.ndim < 2 or v.shape[1 if cf else -1] != b.shape[0]:
        raise ValueError(f"{fn}: bias must be 1-D with one value per channel of value; got value {v.shape}, "
                         f"bias {b.shape}, data_format {data_format!r}")
    return v + (b.reshape(-1, *[1] * (v.ndim - 2)) if cf else b)


# --- normalization -----------------------------------------------------------------------------------------------
def moments(x: Any, axes: Sequence[int], shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple[Tensor, Tensor]:
    """(mean, variance) of x over axes, the variance biased (divided by the count)."""
    x = _t(x)
    axes = tuple(int(a) for a in np.atleast_1d(_raw(axes)))
    return x.mean(axis=axes, keepdims=keepdims), x.var(axis=axes, keepdims=keepdims)


def normalize_moments(counts: Any, mean_ss: Any, variance_ss: Any, shift: Any,
                      name: str | None = None) -> tuple[Tensor, Tensor]:
    """(mean, variance) from sufficient statistics: m = mean_ss / counts, variance = variance_ss / counts - m^2,
    mean = m + shift."""
    m = _t(mean_ss) / _t(counts)
    variance = _t(variance_ss) / _t(counts) - m * m
    return (m if shift is None else m + shift), variance


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any, variance_epsilon: float,
                        name: str | None = None) -> Tensor:
    """scale (x - mean) / sqrt(variance + epsilon) + offset (offset and scale may be None)."""
    x = _t(x)
    inv = 1.0 / (_t(variance) + variance_epsilon).sqrt()
    if scale is not None:
        inv = inv * scale
    shift = -(_t(mean) * inv)
    return x * inv + (shift if offset is None else shift + offset)


# --- selection ---------------------------------------------------------------------------------------------------
def in_top_k(targets: Any, predictions: Any, k: int, name: str | None = None) -> Tensor:
    """Whether each target class is among the k largest predictions of its row (ties at the boundary count in)."""
    pred, tgt = _raw(predictions), _raw(targets)
    if pred.ndim != 2 or tgt.shape != pred.shape[:1]:
        raise ValueError(f"tf.nn.in_top_k: predictions must be (batch, classes) and targets (batch,), got "
                         f"{pred.shape} and {tgt.shape}")
    picked = pred[np.arange(len(tgt)), tgt]
    above = (pred > picked[:, None]).sum(axis=1)
    return Tensor((above < k) & np.isfinite(picked))


__all__ = [
    "atrous_conv2d", "avg_pool", "avg_pool1d", "avg_pool2d", "batch_normalization", "bias_add",
    "compute_average_loss", "conv1d", "conv2d", "conv2d_transpose", "depthwise_conv2d", "dropout", "elu",
    "embedding_lookup", "gelu", "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax", "max_pool",
    "max_pool1d", "max_pool2d", "moments", "normalize_moments", "relu", "relu6", "selu", "separable_conv2d",
    "sigmoid", "sigmoid_cross_entropy_with_logits", "silu", "softmax", "softmax_cross_entropy_with_logits",
    "softplus", "softsign", "sparse_softmax_cross_entropy_with_logits", "swish", "tanh", "top_k",
    "weighted_cross_entropy_with_logits",
]

dispatch_symbolic(globals(), "nn.")  # tf.* on KerasTensors builds a TFOpLambda layer
