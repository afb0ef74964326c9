"""tf's array functions: reshape, transpose, concat, stack, split, tile, gather, pad, squeeze, slice, sort, ...
Each is an adapter over shendu.ops (Reshape, GetItem, Pad, BroadcastTo, ScatterND, ...), so gradients flow; the
products and norms (matmul, einsum, tensordot, norm) live in shendu.tf.linalg and are exported here too."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from shendu.creation import as_dtype, convert_to_tensor, default_array, shape_tuple
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops.embedding import Gather as EmbeddingGather
from shendu.ops.shape import (
    BroadcastTo,
    Concatenate,
    GetItem,
    Pad,
    Reshape,
    ScatterND,
    ScatterNDUpdate,
    Stack,
    Transpose,
)
from shendu.tensor import Tensor
from shendu.tf.linalg import einsum, matmul, norm, tensordot

_ALL = builtins.slice(None)


def _axis(axis: Any, ndim: int, fn: str) -> int:
    """axis as a non-negative int, checked against a rank of ndim."""
    a = int(default_array(axis))
    if not -ndim <= a < ndim:
        raise ValueError(f"{fn}: axis {a} is out of range for a tensor of rank {ndim}")
    return a % ndim


def _tensors(values: Any, fn: str) -> list[Tensor]:
    """A list of values as tensors; Python and NumPy values take the first tensor's dtype where it fits."""
    values = [values] if isinstance(values, Tensor) else list(values)
    if not values:
        raise ValueError(f"{fn}: expected a non-empty list of tensors")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    return [convert_to_tensor(v, dtype_hint=None if like is None else like.dtype) for v in values]


def _indices(indices: Any, fn: str) -> Any:
    arr = default_array(indices)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {arr.dtype}")
    return arr


def _check_range(idx: Any, n: int, fn: str) -> None:
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"{fn}: index {bad} is not in [0, {n})")


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """The same values in a new shape; one dimension may be -1 (inferred)."""
    x = convert_to_tensor(tensor)
    target = shape_tuple(shape, "tf.reshape")
    known = int(np.prod([d for d in target if d != -1]))
    free = target.count(-1)
    if free > 1 or (free and (known == 0 or x.size % known)) or (not free and known != x.size):
        raise ValueError(f"tf.reshape: cannot reshape a tensor of {x.size} values (shape {x.shape}) to {list(target)}")
    return Reshape.apply(x, shape=target)


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str = "transpose") -> Tensor:
    """The axes permuted by perm (reversed when None)."""
    x = convert_to_tensor(a)
    if conjugate and x.dtype.kind == "c":
        raise NotImplementedError("tf.transpose: conjugate=True on complex tensors is not supported")
    if perm is None:
        return Transpose.apply(x)
    axes = shape_tuple(perm, "tf.transpose")
    if sorted(p % x.ndim if -x.ndim <= p < x.ndim else -1 for p in axes) != list(builtins.range(x.ndim)):
        raise ValueError(f"tf.transpose: perm {list(axes)} is not a permutation of the {x.ndim} axes")
    return Transpose.apply(x, axes=axes)


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """The tensors joined along an existing axis; the other dimensions must agree."""
    xs = _tensors(values, "tf.concat")
    ndim = xs[0].ndim
    if ndim == 0:
        raise ValueError("tf.concat: cannot concatenate scalars; use tf.stack")
    axis = _axis(axis, ndim, "tf.concat")
    rest = [x.shape[:axis] + x.shape[axis + 1:] for x in xs]
    if builtins.any(x.ndim != ndim for x in xs) or builtins.any(r != rest[0] for r in rest):
        raise ValueError(f"tf.concat: shapes {[tuple(x.shape) for x in xs]} differ outside axis {axis}")
    return Concatenate.apply(*xs, axis=axis)


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """The tensors (all of one shape) joined along a new axis."""
    xs = _tensors(values, "tf.stack")
    if builtins.any(x.shape != xs[0].shape for x in xs):
        raise ValueError(f"tf.stack: all shapes must be equal, got {[tuple(x.shape) for x in xs]}")
    return Stack.apply(*xs, axis=_axis(axis, xs[0].ndim + 1, "tf.stack"))


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """The slices of value along axis, as a list."""
    x = convert_to_tensor(value)
    axis = _axis(axis, x.ndim, "tf.unstack")
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"tf.unstack: num={num} but axis {axis} has length {n}")
    return [GetItem.apply(x, index=(_ALL,) * axis + (i,)) for i in builtins.range(n)]


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str = "split") -> list[Tensor]:
    """value cut along axis into num_or_size_splits equal parts, or into parts of the given sizes (one -1
    takes the rest)."""
    x = convert_to_tensor(value)
    axis = _axis(axis, x.ndim, "tf.split")
    n = x.shape[axis]
    spec = default_array(num_or_size_splits)
    if spec.ndim == 0:
        k = int(spec)
        if k <= 0 or n % k:
            raise ValueError(f"tf.split: cannot split an axis of length {n} into {k} equal parts")
        sizes = [n // k] * k
    else:
        sizes = [int(s) for s in spec]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - sum(sizes) - 1
        if builtins.any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"tf.split: sizes {spec.tolist()} do not add up to the axis length {n}")
    ends = np.cumsum([0, *sizes]).tolist()
    return [GetItem.apply(x, index=(_ALL,) * axis + (builtins.slice(a, b),)) for a, b in itertools.pairwise(ends)]


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """input repeated multiples[i] times along each axis i: (d0, d1) -> (1, d0, 1, d1), broadcast to
    (m0, d0, m1, d1), reshaped to (m0 d0, m1 d1)."""
    x = convert_to_tensor(input)
    m = shape_tuple(multiples, "tf.tile")
    if len(m) != x.ndim or builtins.any(k < 0 for k in m):
        raise ValueError(f"tf.tile: multiples must be {x.ndim} non-negative ints for shape {x.shape}, got {list(m)}")
    spread = Reshape.apply(x, shape=tuple(v for d in x.shape for v in (1, d)))
    copies = BroadcastTo.apply(spread, shape=tuple(v for k, d in zip(m, x.shape) for v in (k, d)))
    return Reshape.apply(copies, shape=tuple(k * d for k, d in zip(m, x.shape)))


def repeat(input: Any, repeats: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """Each element repeated `repeats` times (one count, or one per element) along axis (the flattened input
    when axis is None), as NumPy's repeat."""
    x = convert_to_tensor(input)
    if axis is None:
        x, axis = Reshape.apply(x, shape=(-1,)), 0
    axis = _axis(axis, x.ndim, "tf.repeat")
    n = x.shape[axis]
    counts = _indices(repeats, "tf.repeat").reshape(-1)
    if counts.size not in (1, n) or (counts < 0).any():
        raise ValueError(f"tf.repeat: repeats must be one count or {n} non-negative counts, got {counts.tolist()}")
    return GetItem.apply(x, index=(_ALL,) * axis + (np.repeat(np.arange(n), np.broadcast_to(counts, (n,))),))


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: int | None = None, batch_dims: int = 0,
           name: str | None = None) -> Tensor:
    """Slices of params along axis picked by indices: shape params[:axis] + indices[batch_dims:] +
    params[axis + 1:]; with batch_dims, each batch picks from its own slice. The gradient adds up repeats."""
    x = convert_to_tensor(params)
    idx = _indices(indices, "tf.gather")
    batch = batch_dims + idx.ndim if batch_dims < 0 else batch_dims
    axis = _axis(batch if axis is None else axis, x.ndim, "tf.gather")
    if not 0 <= batch <= min(axis, idx.ndim) or x.shape[:batch] != idx.shape[:batch]:
        raise ValueError(f"tf.gather: batch_dims={batch_dims} needs the first dimensions of params {x.shape} and "
                         f"indices {idx.shape} to agree, and batch_dims <= axis={axis}")
    _check_range(idx, x.shape[axis], "tf.gather")
    if batch == 0 and axis == 0 and x.ndim == 2:  # rows of a table: the embedding op's sorted scatter-add gradient
        return EmbeddingGather.apply(x, ids=idx)
    if batch == 0:
        return GetItem.apply(x, index=(_ALL,) * axis + (idx,))
    # move axis right after the batch axes; then index (batch aranges..., idx) and move the middle axes back
    front = Transpose.apply(x, axes=(*builtins.range(batch), axis, *builtins.range(batch, axis),
                                     *builtins.range(axis + 1, x.ndim)))
    picked = GetItem.apply(front, index=(*_batch_aranges(idx.shape[:batch], idx.ndim), idx))
    middle, taken = axis - batch, idx.ndim - batch
    if middle == 0:
        return picked
    perm = (*builtins.range(batch), *builtins.range(batch + taken, batch + taken + middle),
            *builtins.range(batch, batch + taken), *builtins.range(batch + taken + middle, picked.ndim))
    return Transpose.apply(picked, axes=perm)


def _batch_aranges(batch_shape: tuple[int, ...], ndim: int) -> tuple[Any, ...]:
    """arange(n_k) for each batch axis k, shaped to broadcast over an index array of rank ndim."""
    return tuple(np.arange(n).reshape((1,) * k + (n,) + (1,) * (ndim - k - 1)) for k, n in enumerate(batch_shape))


def gather_nd(params: Any, indices: Any, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """params at the multi-indices in indices' last axis: shape indices[:-1] + params[batch_dims + m:] for
    m = indices.shape[-1]. The gradient adds up repeats."""
    x = convert_to_tensor(params)
    idx = _indices(indices, "tf.gather_nd")
    m = idx.shape[-1] if idx.ndim else 0
    if idx.ndim == 0 or not 1 <= m <= x.ndim - batch_dims or x.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise ValueError(f"tf.gather_nd: indices of shape {idx.shape} do not index params of shape {x.shape} "
                         f"with batch_dims={batch_dims}")
    for k in builtins.range(m):
        _check_range(idx[..., k], x.shape[batch_dims + k], "tf.gather_nd")
    index = (*_batch_aranges(idx.shape[:batch_dims], idx.ndim - 1), *(idx[..., k] for k in builtins.range(m)))
    return GetItem.apply(x, index=index)


def boolean_mask(tensor: Any, mask: Any, axis: int | None = None, name: str = "boolean_mask") -> Tensor:
    """The entries of tensor where mask (covering the axes from `axis` on) is True, flattened into one axis."""
    x = convert_to_tensor(tensor)
    keep = default_array(mask)
    if keep.dtype.kind != "b" or keep.ndim == 0:
        raise ValueError(f"tf.boolean_mask: mask must be a boolean tensor of rank >= 1, got {keep.dtype} "
                         f"of shape {keep.shape}")
    axis = 0 if axis is None else _axis(axis, x.ndim, "tf.boolean_mask")
    if x.shape[axis:axis + keep.ndim] != keep.shape:
        raise ValueError(f"tf.boolean_mask: mask of shape {keep.shape} does not match tensor of shape {x.shape} "
                         f"at axis {axis}")
    return GetItem.apply(x, index=(_ALL,) * axis + (keep,))


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """tensor padded by paddings[i] = [before, after] on each axis i: with constant_values ('CONSTANT'), or
    mirrored without ('REFLECT') or with ('SYMMETRIC') the edge values; mode is case-insensitive."""
    x = convert_to_tensor(tensor)
    width = _indices(paddings, "tf.pad")
    if width.shape != (x.ndim, 2) or (width < 0).any():
        raise ValueError(f"tf.pad: paddings must be {x.ndim} pairs of non-negative ints for shape {x.shape}, "
                         f"got {width.tolist()}")
    kind = str(mode).lower()
    if kind not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"tf.pad: mode must be 'CONSTANT', 'REFLECT' or 'SYMMETRIC', got {mode!r}")
    if kind != "constant":
        room = np.asarray(x.shape)[:, None] - (kind == "reflect")
        if (width > room).any():
            raise ValueError(f"tf.pad: {mode} padding of shape {x.shape} allows at most {room[:, 0].tolist()} "
                             f"per side, got {width.tolist()}")
    fill = default_array(constant_values)
    return Pad.apply(x, pad_width=width, constant_values=fill.item(), mode=kind)


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """input without its axes of length 1 (all of them, or those listed, which must have length 1)."""
    x = convert_to_tensor(input)
    if axis is None:
        drop = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        drop = {_axis(a, x.ndim, "tf.squeeze") for a in np.atleast_1d(default_array(axis)).tolist()}
        if builtins.any(x.shape[a] != 1 for a in drop):
            raise ValueError(f"tf.squeeze: cannot squeeze axes {sorted(drop)} of shape {x.shape}: not all length 1")
    return Reshape.apply(x, shape=tuple(n for i, n in enumerate(x.shape) if i not in drop))


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:
    """input with a new axis of length 1 at position axis (-1 appends it)."""
    x = convert_to_tensor(input)
    a = _axis(axis, x.ndim + 1, "tf.expand_dims")
    return Reshape.apply(x, shape=(*x.shape[:a], 1, *x.shape[a:]))


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:
    """The block starting at begin[i] of size[i] values along each axis i (-1: to the end)."""
    x = convert_to_tensor(input_)
    b, s = shape_tuple(begin, "tf.slice"), shape_tuple(size, "tf.slice")
    ends = [n if k == -1 else a + k for a, k, n in zip(b, s, x.shape)]
    if len(b) != x.ndim or len(s) != x.ndim or builtins.any(
            not 0 <= a <= e <= n for a, e, n in zip(b, ends, x.shape)):
        raise ValueError(f"tf.slice: begin {list(b)} and size {list(s)} do not fit shape {x.shape}")
    return GetItem.apply(x, index=tuple(builtins.slice(a, e) for a, e in zip(b, ends)))


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0, end_mask: int = 0,
                  ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0, var: Any = None,
                  name: str | None = None) -> Tensor:
    """input_[begin:end:strides] per entry, as Python slicing; bit i of a mask makes entry i start at the
    beginning, run to the end, stand for '...', insert a new axis, or take the single index begin[i]."""
    x = convert_to_tensor(input_)
    b, e = shape_tuple(begin, "tf.strided_slice"), shape_tuple(end, "tf.strided_slice")
    st = (1,) * len(b) if strides is None else shape_tuple(strides, "tf.strided_slice")
    if not len(b) == len(e) == len(st):
        raise ValueError(f"tf.strided_slice: begin, end and strides must have one length, got {b}, {e}, {st}")
    index: list[Any] = []
    for i, (lo, hi, step) in enumerate(zip(b, e, st)):
        if ellipsis_mask >> i & 1:
            index.append(Ellipsis)
        elif new_axis_mask >> i & 1:
            index.append(None)
        elif shrink_axis_mask >> i & 1:
            index.append(lo)
        else:
            index.append(builtins.slice(None if begin_mask >> i & 1 else lo, None if end_mask >> i & 1 else hi, step))
    return GetItem.apply(x, index=tuple(index))


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """tensor with the order of its values reversed along each listed axis."""
    x = convert_to_tensor(tensor)
    axes = {_axis(a, x.ndim, "tf.reverse") for a in np.atleast_1d(default_array(axis)).tolist()}
    return GetItem.apply(x, index=tuple(builtins.slice(None, None, -1) if i in axes else _ALL
                                        for i in builtins.range(x.ndim)))


def roll(input: Any, shift: Any, axis: Any, name: str | None = None) -> Tensor:
    """Values shifted by shift places along axis, those pushed off one end coming back at the other."""
    x = convert_to_tensor(input)
    shifts, axes = (np.atleast_1d(default_array(v)).tolist() for v in (shift, axis))
    if len(shifts) != len(axes):
        raise ValueError(f"tf.roll: shift {shifts} and axis {axes} must have one length")
    for s, a in zip(shifts, axes):
        a = _axis(a, x.ndim, "tf.roll")
        n = x.shape[a]
        x = GetItem.apply(x, index=(_ALL,) * a + ((np.arange(n) - s) % max(n, 1),))
    return x


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """input broadcast to shape (NumPy's rules); the gradient is summed back over the broadcast axes."""
    x = convert_to_tensor(input)
    target = shape_tuple(shape, "tf.broadcast_to")
    try:
        fits = np.broadcast_shapes(x.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"tf.broadcast_to: cannot broadcast shape {x.shape} to {list(target)}")
    return BroadcastTo.apply(x, shape=target)


def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """N-D coordinate grids from N 1-D tensors; indexing='xy' (default) swaps the first two output axes
    (Cartesian), 'ij' keeps them (matrix)."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs or indexing not in ("xy", "ij"):
        raise TypeError(f"tf.meshgrid: takes indexing='xy' or 'ij' (and name) only, got {indexing!r} and "
                        f"{sorted(kwargs)}")
    xs = [Reshape.apply(convert_to_tensor(a), shape=(-1,)) for a in args]
    n = len(xs)
    place = list(builtins.range(n))
    if indexing == "xy" and n >= 2:
        place[0], place[1] = 1, 0
    full = [0] * n
    for x, p in zip(xs, place):
        full[p] = x.shape[0]
    return [BroadcastTo.apply(Reshape.apply(x, shape=tuple(full[p] if i == p else 1 for i in builtins.range(n))),
                              shape=tuple(full)) for x, p in zip(xs, place)]


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """values sorted along axis ('ASCENDING' or 'DESCENDING'); the gradient goes back to where each value came from."""
    x = convert_to_tensor(values)
    axis = _axis(axis, x.ndim, "tf.sort")
    order = _argsort(x.data, axis, direction, "tf.sort")
    return GetItem.apply(x, index=_along_axis(order, axis))


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: str | None = None) -> Tensor:
    """The int32 indices that sort values along axis (always stable here: ties keep their order)."""
    x = convert_to_tensor(values)
    return Tensor(_argsort(x.data, _axis(axis, x.ndim, "tf.argsort"), direction, "tf.argsort").astype(np.int32))


def _argsort(a: Any, axis: int, direction: str, fn: str) -> Any:
    if direction == "ASCENDING":
        return np.argsort(a, axis=axis, kind="stable")
    if direction != "DESCENDING":
        raise ValueError(f"{fn}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    # a stable ascending sort of the reversed values, reversed again: descending, ties in their first order
    flipped = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return a.shape[axis] - 1 - np.flip(flipped, axis)


def _along_axis(order: Any, axis: int) -> tuple[Any, ...]:
    """The index that takes order's positions along axis and keeps every other axis (take_along_axis)."""
    grid = [np.arange(n).reshape((1,) * i + (n,) + (1,) * (order.ndim - i - 1)) for i, n in enumerate(order.shape)]
    grid[axis] = order
    return tuple(grid)


class Unique(NamedTuple):
    """tf.unique's result: the distinct values in order of first appearance, and each input's position in y."""

    y: Tensor
    idx: Tensor


def unique(x: Any, out_idx: Any = np.int32, name: str | None = None) -> Unique:
    """The distinct values of a 1-D tensor in order of first appearance, and the index of each input in them."""
    arr = default_array(x)
    if arr.ndim != 1:
        raise ValueError(f"tf.unique: x must be 1-D, got shape {arr.shape}")
    values, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
    order = np.argsort(first)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return Unique(Tensor(values[order]), Tensor(position[inverse.reshape(-1)].astype(as_dtype(out_idx))))


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """A zero tensor of shape with updates added at indices (repeated indices add up)."""
    u = convert_to_tensor(updates)
    idx = _indices(indices, "tf.scatter_nd")
    target = shape_tuple(shape, "tf.scatter_nd")
    _check_scatter(idx, u, target, "tf.scatter_nd")
    return ScatterND.apply(u, indices=idx, shape=target)


def tensor_scatter_nd_update(tensor: Any, indices: Any, updates: Any, name: str | None = None) -> Tensor:
    """tensor with the entries at indices replaced by updates."""
    x = convert_to_tensor(tensor)
    u = convert_to_tensor(updates, dtype_hint=x.dtype)
    idx = _indices(indices, "tf.tensor_scatter_nd_update")
    _check_scatter(idx, u, x.shape, "tf.tensor_scatter_nd_update")
    return ScatterNDUpdate.apply(x, u, indices=idx)


def tensor_scatter_nd_add(tensor: Any, indices: Any, updates: Any, name: str | None = None) -> Tensor:
    """tensor with updates added at indices (repeated indices add up)."""
    x = convert_to_tensor(tensor)
    return x + scatter_nd(indices, convert_to_tensor(updates, dtype_hint=x.dtype), x.shape)


def _check_scatter(idx: Any, updates: Tensor, shape: tuple[int, ...], fn: str) -> None:
    m = idx.shape[-1] if idx.ndim else 0
    if idx.ndim == 0 or not 1 <= m <= len(shape) or updates.shape != idx.shape[:-1] + tuple(shape[m:]):
        raise ValueError(f"{fn}: indices {idx.shape} and updates {updates.shape} do not fit shape {tuple(shape)} "
                         "(updates must have shape indices.shape[:-1] + shape[indices.shape[-1]:])")
    for k in builtins.range(m):
        _check_range(idx[..., k], shape[k], fn)


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = np.bool_, name: str | None = None) -> Tensor:
    """mask[..., j] = j < lengths[...], with maxlen columns (the largest length by default)."""
    n = _indices(lengths, "tf.sequence_mask")
    width = (int(n.max()) if n.size else 0) if maxlen is None else int(default_array(maxlen))
    return Tensor((np.arange(width) < n[..., None]).astype(as_dtype(dtype)))


__all__: list[str] = [
    "boolean_mask", "broadcast_to", "concat", "einsum", "expand_dims", "gather", "gather_nd", "matmul", "meshgrid",
    "norm", "pad", "repeat", "reshape", "reverse", "roll", "scatter_nd", "sequence_mask", "slice", "sort",
    "argsort", "split", "squeeze", "stack", "strided_slice", "tensor_scatter_nd_add", "tensor_scatter_nd_update",
    "tensordot", "tile", "transpose", "unique", "unstack",
]

dispatch_symbolic(globals(), "")  # tf.* on KerasTensors builds a TFOpLambda layer
