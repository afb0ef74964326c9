"""tf.linalg, and the products and norms also at the top level (tf.matmul, tf.einsum, tf.tensordot, tf.norm):
adapters over shendu.ops (MatMul, Einsum, Inv, Det, Solve, MatrixDiag, ...), with TensorFlow's arguments.
`l2_normalize` is tf.math's, re-exported."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from shendu.creation import convert_to_tensor, default_array
from shendu.layers.op_layer import dispatch_symbolic
from shendu.ops.einsum import Einsum, explicit_equation
from shendu.ops.linalg import Det, Inv, LogAbsDet, MatMul, MatrixDiag, Solve
from shendu.ops.shape import GetItem, Reshape, Transpose, Where
from shendu.tensor import Tensor
from shendu.tf.creation import eye
from shendu.tf.math_ops import l2_normalize


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """a and b as tensors; a Python or NumPy value takes the other operand's dtype where it converts exactly."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    hint = None if like is None else like.dtype
    return convert_to_tensor(a, dtype_hint=hint), convert_to_tensor(b, dtype_hint=hint)


def _matrices(x: Tensor, fn: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected a matrix or a batch of matrices (rank >= 2), got shape {x.shape}")
    return x


def _square(x: Any, fn: str) -> Tensor:
    x = _matrices(convert_to_tensor(x), fn)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{fn}: expected square matrices, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a float tensor, got dtype {x.dtype}")
    return x


def matrix_transpose(a: Any, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    """The last two axes swapped (each matrix of a batch transposed)."""
    x = _matrices(convert_to_tensor(a), "tf.linalg.matrix_transpose")
    if conjugate and x.dtype.kind == "c":
        raise NotImplementedError("tf.linalg.matrix_transpose: conjugate=True on complex tensors is not supported")
    perm = (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)
    return Transpose.apply(x, axes=perm)


transpose = matrix_transpose


def adjoint(matrix: Any, name: str | None = None) -> Tensor:
    """The conjugate transpose of each matrix; real tensors only (there it is the transpose)."""
    return matrix_transpose(matrix, conjugate=True)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False,
           name: str | None = None) -> Tensor:
    """The matrix product a @ b of rank >= 2 tensors (batch axes broadcast), each optionally transposed first;
    the sparsity hints change nothing here."""
    x, y = _pair(a, b)
    if (transpose_a and adjoint_a) or (transpose_b and adjoint_b):
        raise ValueError("tf.matmul: transpose and adjoint of the same input cannot both be True")
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"tf.matmul: both inputs need rank >= 2, got shapes {x.shape} and {y.shape}; "
                         "use tf.linalg.matvec or tf.tensordot for vectors")
    if transpose_a or adjoint_a:
        x = matrix_transpose(x, conjugate=adjoint_a)
    if transpose_b or adjoint_b:
        y = matrix_transpose(y, conjugate=adjoint_b)
    if x.shape[-1] != y.shape[-2]:
        raise ValueError(f"tf.matmul: the inner dimensions differ: shapes {x.shape} and {y.shape} (after the "
                         "transpose flags)")
    return MatMul.apply(x, y)


def matvec(a: Any, b: Any, transpose_a: bool = False, adjoint_a: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: str | None = None) -> Tensor:
    """The matrix-vector product a @ b for a [..., M, N] and b [..., N]: shape [..., M]."""
    x, v = _pair(a, b)
    if v.ndim < 1:
        raise ValueError(f"tf.linalg.matvec: b must be a vector or a batch of vectors, got shape {v.shape}")
    y = matmul(x, v.expand_dims(-1), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return Reshape.apply(y, shape=y.shape[:-1])


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Einstein summation over the inputs, as NumPy's (explicit '->' or implicit output, '...' broadcasting);
    accepts TensorFlow's `name` and `optimize` keywords (NumPy chooses the contraction order)."""
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"tf.einsum: unexpected keyword arguments {sorted(unknown)}")
    xs = [convert_to_tensor(x) for x in inputs]
    try:
        explicit_equation(equation, [x.ndim for x in xs])
    except ValueError as err:
        raise ValueError(f"tf.{err}") from None
    return Einsum.apply(*xs, equation=equation)


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sum of products over axes: `axes=N` pairs a's last N axes with b's first N, `axes=[a_axes, b_axes]`
    pairs them in order; the result has a's free axes then b's."""
    x, y = _pair(a, b)
    spec = default_array(axes) if not isinstance(axes, (list, tuple)) else None
    if spec is not None and spec.ndim == 0:
        n = int(spec)
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise ValueError(f"tf.tensordot: axes={n} does not fit shapes {x.shape} and {y.shape}")
        a_axes, b_axes = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        if len(axes) != 2:
            raise ValueError(f"tf.tensordot: axes must be an int or a pair [a_axes, b_axes], got {axes!r}")
        a_axes, b_axes = (np.atleast_1d(default_array(v)).astype(int).tolist() for v in axes)
    if len(a_axes) != len(b_axes) or any(x.shape[i] != y.shape[j] for i, j in zip(a_axes, b_axes)):
        raise ValueError(f"tf.tensordot: axes {a_axes} of shape {x.shape} do not match axes {b_axes} of shape "
                         f"{y.shape}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(x.ndim)]
    sb = [next(letters) for _ in range(y.ndim)]
    for i, j in zip(a_axes, b_axes):
        sb[j] = sa[i]
    out = [c for c in sa if c not in sb] + [c for c in sb if c not in sa]
    return Einsum.apply(x, y, equation=f"{''.join(sa)},{''.join(sb)}->{''.join(out)}")


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: bool | None = None,
         name: str | None = None) -> Tensor:
    """Vector norms (2 or 'euclidean', 1, inf, any p > 0: (sum |x|^p)^(1/p)) over all values or one axis, and
    matrix norms ('euclidean'/'fro', 1: largest column sum, inf: largest row sum) over a pair of axes."""
    x = convert_to_tensor(tensor)
    keep = bool(keepdims)
    axes = None if axis is None else np.atleast_1d(default_array(axis)).astype(int).tolist()
    if axes is not None and (len(axes) not in (1, 2) or len({a % x.ndim for a in axes}) != len(axes)):
        raise ValueError(f"tf.norm: axis must be None, an int or a pair of distinct ints, got {axis!r}")
    if axes is not None and len(axes) == 2:
        return _matrix_norm(x, ord, axes[0] % x.ndim, axes[1] % x.ndim, keep)
    over = None if axes is None else axes[0]
    if ord in ("euclidean", 2):
        return (x * x).sum(axis=over, keepdims=keep).sqrt()
    if ord == 1:
        return x.abs().sum(axis=over, keepdims=keep)
    if ord == np.inf:
        return x.abs().max(axis=over, keepdims=keep)
    if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
        return (x.abs() ** ord).sum(axis=over, keepdims=keep) ** (1.0 / ord)
    raise ValueError(f"tf.norm: vector norms take ord 'euclidean', 1, 2, inf or a positive number; got {ord!r}")


def _matrix_norm(x: Tensor, ord: Any, rows: int, cols: int, keep: bool) -> Tensor:
    if ord in ("euclidean", "fro"):
        return (x * x).sum(axis=(rows, cols), keepdims=keep).sqrt()
    if ord == 2:
        raise NotImplementedError("tf.norm: the matrix 2-norm (largest singular value) is not supported; "
                                  "use ord='fro', 1 or np.inf")
    if ord not in (1, np.inf):
        raise ValueError(f"tf.norm: matrix norms take ord 'euclidean', 'fro', 1, 2 or inf; got {ord!r}")
    summed, largest = (rows, cols) if ord == 1 else (cols, rows)
    y = x.abs().sum(axis=summed, keepdims=True).max(axis=largest, keepdims=True)
    return y if keep else Reshape.apply(y, shape=tuple(n for i, n in enumerate(y.shape) if i not in (rows, cols)))


def inv(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """The inverse of each square matrix (of its adjoint when adjoint=True)."""
    x = _square(input, "tf.linalg.inv")
    return Inv.apply(matrix_transpose(x) if adjoint else x)


def det(input: Any, name: str | None = None) -> Tensor:
    """The determinant of each square matrix."""
    return Det.apply(_square(input, "tf.linalg.det"))


def slogdet(input: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(sign, log |det|) of each square matrix; the gradient flows through log |det|."""
    x = _square(input, "tf.linalg.slogdet")
    return Tensor(np.sign(np.linalg.det(x.data)).astype(x.dtype)), LogAbsDet.apply(x)


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """log det of each positive-definite matrix (log |det|, which equals it there)."""
    return LogAbsDet.apply(_square(matrix, "tf.linalg.logdet"))


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """X with matrix @ X = rhs (adjoint(matrix) @ X = rhs when adjoint=True), rhs of shape [..., M, K]."""
    a, b = _pair(matrix, rhs)
    a = _square(a, "tf.linalg.solve")
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"tf.linalg.solve: rhs must have shape [..., {a.shape[-1]}, K], got {b.shape}")
    return Solve.apply(matrix_transpose(a) if adjoint else a, b)


def diag_part(input: Any, name: str = "diag_part", k: int = 0, padding_value: Any = 0,
              align: str = "RIGHT_LEFT") -> Tensor:
    """The k-th diagonal of each matrix (k > 0 above the main one, k < 0 below), shape [..., length]."""
    x = _matrices(convert_to_tensor(input), "tf.linalg.diag_part")
    k = _offset(k, "tf.linalg.diag_part")
    m, n = x.shape[-2:]
    length = max(0, min(m + min(k, 0), n - max(k, 0)))
    rows = np.arange(length) + max(-k, 0)
    return GetItem.apply(x, index=(Ellipsis, rows, rows + k))


def diag(diagonal: Any, name: str = "diag", k: int = 0, num_rows: int = -1, num_cols: int = -1,
         padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """Square matrices, zero but for diagonal on their k-th diagonal: [..., N] gives [..., N + |k|, N + |k|]."""
    v = convert_to_tensor(diagonal)
    if v.ndim < 1:
        raise ValueError(f"tf.linalg.diag: diagonal must have rank >= 1, got shape {v.shape}")
    if (num_rows, num_cols) != (-1, -1) or padding_value != 0:
        raise NotImplementedError("tf.linalg.diag: num_rows, num_cols and padding_value are not supported")
    return MatrixDiag.apply(v, k=_offset(k, "tf.linalg.diag"))


def _offset(k: Any, fn: str) -> int:
    arr = default_array(k)
    if arr.ndim != 0:
        raise NotImplementedError(f"{fn}: a band of diagonals (k as a pair) is not supported; give one int")
    return int(arr)


def trace(x: Any, name: str | None = None) -> Tensor:
    """The sum of each matrix's main diagonal."""
    return diag_part(x).sum(axis=-1)


def band_part(input: Any, num_lower: int, num_upper: int, name: str | None = None) -> Tensor:
    """Each matrix with everything outside the band zeroed: kept where i - j <= num_lower and j - i <= num_upper
    (a negative count keeps that whole triangle); the gradient flows through the kept entries."""
    x = _matrices(convert_to_tensor(input), "tf.linalg.band_part")
    lower, upper = int(default_array(num_lower)), int(default_array(num_upper))
    i, j = np.ogrid[:x.shape[-2], :x.shape[-1]]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    zero = Tensor(np.zeros((), dtype=x.dtype))
    return Where.apply(x, zero, cond=keep)


__all__: list[str] = [
    "adjoint", "band_part", "det", "diag", "diag_part", "einsum", "eye", "inv", "l2_normalize", "logdet", "matmul",
    "matrix_transpose", "matvec", "norm", "slogdet", "solve", "tensordot", "trace", "transpose",
]

dispatch_symbolic(globals(), "linalg.")  # tf.* on KerasTensors builds a TFOpLambda layer
