"""TensorFlow's control flow and Python-function ops, run eagerly: `tf.cond`, `case`, `switch_case`, `while_loop`,
`map_fn`, `vectorized_map`, `scan`, `foldl`, `foldr`, `py_function`, `numpy_function`, plus `ensure_shape`,
`executing_eagerly` and `timestamp`.

shendu has no graph, so a branch or a loop body is the Python function called on the values of the moment, and the
gradients flow through the ops it runs (a `map_fn`'s results are stacked by a differentiable op). What TensorFlow
checks is checked: a predicate must be a single boolean, the loop variables keep their structure, `ensure_shape`
compares with None as a wildcard.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from shendu.creation import as_dtype, convert_to_tensor
from shendu.tensor import Tensor
from shendu.tensor_shape import TensorShape
from shendu.tf.array_ops import stack, unstack
from shendu.utils.tree import flatten, pack_sequence_as

__all__ = ["case", "cond", "ensure_shape", "executing_eagerly", "foldl", "foldr", "map_fn", "numpy_function",
           "py_function", "scan", "switch_case", "timestamp", "vectorized_map", "while_loop"]


def _truth(pred: Any, where: str) -> bool:
    """A predicate as a Python bool: a bool, or a tensor or array of one element."""
    value = np.asarray(pred.numpy() if isinstance(pred, Tensor) else pred)
    if value.size != 1:
        raise ValueError(f"{where}: the predicate must be a single boolean, got shape {value.shape}")
    return bool(value.reshape(()))


def cond(pred: Any, true_fn: Callable[[], Any] | None = None, false_fn: Callable[[], Any] | None = None,
         name: str | None = None) -> Any:
    """true_fn() if pred else false_fn() (TensorFlow 2's `tf.cond`)."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("tf.cond: true_fn and false_fn must be callables that take no arguments")
    return true_fn() if _truth(pred, "tf.cond") else false_fn()


def case(pred_fn_pairs: Sequence[tuple[Any, Callable[[], Any]]] | dict, default: Callable[[], Any] | None = None,
         exclusive: bool = False, strict: bool = False, name: str = "case") -> Any:
    """The function of the first true predicate (with exclusive=True exactly one may be true), else default()."""
    pairs = list(pred_fn_pairs.items() if isinstance(pred_fn_pairs, dict) else pred_fn_pairs)
    true = [fn for pred, fn in pairs if _truth(pred, "tf.case")]
    if exclusive and len(true) > 1:
        raise ValueError(f"tf.case: exclusive=True but {len(true)} predicates are true")
    if true:
        return true[0]()
    if default is None:
        raise ValueError("tf.case: no predicate is true and no default is given")
    return default()


def switch_case(branch_index: Any, branch_fns: Sequence[Callable[[], Any]] | dict,
                default: Callable[[], Any] | None = None, name: str = "switch_case") -> Any:
    """branch_fns[branch_index](); an index outside the branches runs default (the last branch when None)."""
    index = int(np.asarray(branch_index.numpy() if isinstance(branch_index, Tensor) else branch_index))
    fns = dict(branch_fns) if isinstance(branch_fns, dict) else dict(enumerate(branch_fns))
    if index in fns:
        return fns[index]()
    return (default or fns[max(fns)])()


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: int | None = None, name: str | None = None) -> Any:
    """Repeat loop_vars = body(*loop_vars) while cond(*loop_vars) (at most maximum_iterations times); the loop
    variables keep their nested structure."""
    single = not isinstance(loop_vars, (list, tuple))
    values = [loop_vars] if single else list(loop_vars)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and _truth(cond(*values), "tf.while_loop"):
        out = body(*values)
        out = [out] if single or not isinstance(out, (list, tuple)) else list(out)
        if len(flatten(out)) != len(flatten(values)):
            raise ValueError(f"tf.while_loop: body returned {len(flatten(out))} values for {len(flatten(values))} "
                             f"loop variables")
        values = pack_sequence_as(values, flatten(out))
        count += 1
    return values[0] if single else type(loop_vars)(values) if isinstance(loop_vars, tuple) else values


def _elements(elems: Any, where: str) -> tuple[list[list[Tensor]], Any, int]:
    """The slices along axis 0 of each tensor in elems (a tensor or a nested structure of them), their structure
    and their count."""
    leaves = [convert_to_tensor(e) for e in flatten(elems)]
    if not leaves or any(t.ndim == 0 for t in leaves):
        raise ValueError(f"{where}: elems must be tensors of rank 1 or more (their first axis is mapped over)")
    n = leaves[0].shape[0]
    if any(t.shape[0] != n for t in leaves):
        raise ValueError(f"{where}: the tensors in elems must have the same first dimension, got "
                         f"{[t.shape[0] for t in leaves]}")
    return [unstack(t) if n else [] for t in leaves], elems, n


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None, parallel_iterations: int | None = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, name: str | None = None,
           fn_output_signature: Any = None) -> Any:
    """fn applied to each slice of elems along axis 0, the results stacked (in fn's output structure)."""
    slices, structure, n = _elements(elems, "tf.map_fn")
    outputs = [fn(pack_sequence_as(structure, [s[i] for s in slices])) for i in range(n)]
    if not outputs:
        raise ValueError("tf.map_fn: elems has no elements along axis 0")
    return _stacked(outputs)


def vectorized_map(fn: Callable[[Any], Any], elems: Any, fallback_to_while_loop: bool = True,
                   warn: bool = True) -> Any:
    """As `map_fn` (shendu runs it as a loop over the first axis; the results are the same)."""
    return map_fn(fn, elems)


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
         back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False,
         name: str | None = None) -> Any:
    """The running results acc = fn(acc, x) over the slices x of elems (from the first, or the last when reverse),
    stacked; acc starts at initializer, or at the first slice (which is then the first result)."""
    results = list(_accumulate(fn, elems, initializer, reverse, "tf.scan"))
    return _stacked(results[::-1] if reverse else results)


def foldl(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """acc = fn(acc, x) over the slices of elems from the first; the final acc."""
    return _last(_accumulate(fn, elems, initializer, False, "tf.foldl"), initializer)


def foldr(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """acc = fn(acc, x) over the slices of elems from the last; the final acc."""
    return _last(_accumulate(fn, elems, initializer, True, "tf.foldr"), initializer)


def _accumulate(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, reverse: bool,
                where: str) -> Iterator[Any]:
    """The successive acc = fn(acc, x) over the slices of elems (from the last when reverse); acc starts at the
    initializer, or at the first slice, which is then the first value given."""
    slices, structure, n = _elements(elems, where)
    order = list(range(n - 1, -1, -1) if reverse else range(n))
    acc = initializer
    if acc is None:
        if not order:
            raise ValueError(f"{where}: elems has no elements and no initializer is given")
        acc, order = pack_sequence_as(structure, [s[order[0]] for s in slices]), order[1:]
        yield acc
    for i in order:
        acc = fn(acc, pack_sequence_as(structure, [s[i] for s in slices]))
        yield acc


def _last(values: Iterator[Any], default: Any) -> Any:
    """The last of the values (default when there are none)."""
    for default in values:  # noqa: B007 (the loop variable is the result)
        pass
    return default


def _stacked(results: list[Any]) -> Any:
    """Results of the same structure stacked leaf by leaf along a new first axis (a differentiable op)."""
    columns = zip(*(flatten(r) for r in results))
    return pack_sequence_as(results[0], [stack([convert_to_tensor(v) for v in column]) for column in columns])


def _outputs(result: Any, tout: Any, where: str) -> Any:
    """A Python function's result as tensors of the Tout dtypes (one or a list, as Tout is)."""
    if tout is None:
        return None
    many = isinstance(tout, (list, tuple))
    values = list(result) if many and isinstance(result, (list, tuple)) else [result]
    types = list(tout) if many else [tout]
    if len(values) != len(types):
        raise ValueError(f"{where}: the function returned {len(values)} values for Tout {tout!r}")
    tensors = []
    for v, t in zip(values, types):
        value = v if isinstance(v, Tensor) else convert_to_tensor(np.asarray(v))
        tensors.append(value if value.dtype == as_dtype(t) else value.astype(as_dtype(t)))
    return tensors if many else tensors[0]


def py_function(func: Callable[..., Any], inp: Sequence[Any], Tout: Any, name: str | None = None) -> Any:  # noqa: N803
    """func called on the inputs as tensors (eagerly, so gradients flow through the ops it runs); its results as
    tensors of the Tout dtypes."""
    return _outputs(func(*[convert_to_tensor(x) if not isinstance(x, Tensor) else x for x in inp]), Tout,
                    "tf.py_function")


def numpy_function(func: Callable[..., Any], inp: Sequence[Any], Tout: Any, stateful: bool = True,  # noqa: N803
                   name: str | None = None) -> Any:
    """func called on the inputs as NumPy arrays; its results as tensors of the Tout dtypes (no gradient)."""
    arrays = [x.numpy() if isinstance(x, Tensor) else np.asarray(x) for x in inp]
    return _outputs(func(*arrays), Tout, "tf.numpy_function")


def ensure_shape(x: Any, shape: Any, name: str | None = None) -> Tensor:
    """x itself when its shape fits `shape` (None or -1 matching any size), else ValueError naming both."""
    t = convert_to_tensor(x)
    want = TensorShape(shape)
    if want.rank is not None and (want.rank != t.ndim or any(
            w is not None and w != s for w, s in zip(want.as_list(), t.shape))):
        raise ValueError(f"tf.ensure_shape: shape of tensor {tuple(t.shape)} is not compatible with expected shape "
                         f"{want}")
    return t


def executing_eagerly() -> bool:
    """True: shendu always runs eagerly (`tf.function` bodies included)."""
    return True


def timestamp(name: str | None = None) -> Tensor:
    """Seconds since the epoch, as a float64 tensor."""
    return Tensor(np.float64(time.time()))
