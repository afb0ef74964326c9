"""Tensor: an array, its gradient, and the node that made it; `backward()` runs reverse-mode autodiff."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shendu import backend, keras_mask
from shendu import devices as _devices
from shendu.tensor_shape import TensorShape

if TYPE_CHECKING:
    from shendu.ops.function import Function


class Tensor:
    """A multi-dimensional array that records the operations applied to it (define-by-run).

    `requires_grad=True` makes a leaf whose `.grad` receives d(output)/d(tensor) after `backward()`.
    Python lists and floats become float32 (see `backend.floatx`); arrays keep their dtype.
    NumPy functions take tensors and return NumPy values (`np.mean(t)`), as they do with TensorFlow's tensors.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_shape", "__weakref__")
    __array_priority__ = 1000  # so that `ndarray + Tensor` calls Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = backend.as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"Only floating-point tensors can require gradients; got dtype {self.data.dtype}. "
                "Convert with .astype('float32') first."
            )
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | None = None
        self._shape: tuple[Any, TensorShape] | None = None  # (the array it was made for, its TensorShape)

    # --- array attributes -------------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        """The shape as a `TensorShape` (a tuple with TensorFlow's `as_list()`, `rank`, ...), made once per array."""
        data = self.data
        cached = self._shape
        if cached is not None and cached[0] is data:
            return cached[1]
        shape = tuple.__new__(TensorShape, data.shape)
        self._shape = (data, shape)
        return shape

    @property
    def _keras_mask(self) -> Tensor | None:
        """The Keras mask attached to this tensor (Embedding(mask_zero=True), Masking), as a bool tensor, or None."""
        mask = keras_mask.get_keras_mask(self)
        return None if mask is None else Tensor(mask)

    @_keras_mask.setter
    def _keras_mask(self, mask: Any) -> None:
        keras_mask.set_keras_mask(self, None if mask is None else keras_mask.as_mask(mask))

    @property
    def device(self) -> str:
        """Where the values live, in TensorFlow's spelling: the CPU for NumPy arrays, the GPU (its index) for CuPy's."""
        return _devices.name(backend.array_device(self.data))

    def get_shape(self) -> TensorShape:
        """The shape (TensorFlow's alias of `.shape`)."""
        return self.shape

    def set_shape(self, shape: Any) -> None:
        """Check that shape (None for unknown sizes) fits this tensor's; an eager tensor's shape never changes."""
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied shape {TensorShape(shape)}.")

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def grad_fn(self) -> Function | None:
        """The op that produced this tensor (None for leaves and constants)."""
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis (each `self[i]`, so gradients flow)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's conversion protocol: `np.asarray(t)` shares memory, `np.array(t)` copies (copy=True); a GPU
        tensor is copied to the host (refused while `backend.forbid_implicit_transfers` is on, as in the tests)."""
        arr = self.data
        if not isinstance(arr, np.ndarray):
            backend.check_implicit_transfer(arr, "np.asarray(tensor)")
            arr = backend.to_host(arr)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def numpy(self) -> Any:
        """The values as a NumPy array (shares memory on the CPU, a copy from a GPU; no gradient); a 0-d tensor
        gives a NumPy scalar (np.float32, np.int64, ...), as TensorFlow's `numpy()` does."""
        arr = backend.to_host(self.data)
        return arr[()] if arr.ndim == 0 else arr

    def to(self, device: str) -> Tensor:
        """The tensor on this device ('cpu', 'gpu', 'cuda:1', '/GPU:0'): itself when it is there, else a copy the
        gradient flows back through (PyTorch's `Tensor.to`)."""
        index = _devices.parse(device)
        if backend.array_device(self.data) == index:
            return self
        return _ops.cast.ToDevice.apply(self, index=index)

    def cpu(self) -> Tensor:
        """The tensor on the CPU (`to('cpu')`)."""
        return self.to("cpu")

    def cuda(self, device: int = 0) -> Tensor:
        """The tensor on GPU `device` (`to('cuda:N')`)."""
        return self.to(f"cuda:{int(device)}")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """NumPy functions (`np.mean`, `np.concatenate`, ...) run on the arrays and return NumPy values, no gradient.

        GPU values are copied to the host first (an implicit transfer, refused under `forbid_implicit_transfers`),
        except for the shape queries (`np.shape`, `np.ndim`, `np.size`), which need no values."""
        args, kwargs = _arrays_in(args), _arrays_in(kwargs)
        if not isinstance(self.data, np.ndarray) and backend.is_device_array(self.data):
            if func in _SHAPE_QUERIES:
                return func(np.empty(self.data.shape, dtype=bool), *args[1:], **kwargs)
            backend.check_implicit_transfer(self.data, f"np.{func.__name__}(tensor)")
            args, kwargs = _to_host_in(args), _to_host_in(kwargs)
        return func(*args, **kwargs)

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a number; shape is {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same values cut off from the graph (no gradient flows through)."""
        return make_tensor(self.data, None)

    def astype(self, dtype: Any) -> Tensor:
        """A copy converted to dtype; differentiable between float dtypes."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            return make_tensor(self.data.astype(dtype), None)
        return _ops.AsType.apply(self, dtype=dtype)

    def zero_grad(self) -> None:
        """Clear the accumulated gradient (same as `t.grad = None`)."""
        self.grad = None

    def __repr__(self) -> str:
        body = np.array2string(backend.to_host(self.data), separator=", ", prefix="tensor(", threshold=200)
        extra = f", grad_fn={self._ctx!r}" if self._ctx is not None else ""
        if self._ctx is None and self.requires_grad:
            extra = ", requires_grad=True"
        return f"tensor({body}, shape={self.shape}, dtype={self.dtype}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A 0-d integer tensor as an index or count: `range(t)`, `items[t]`."""
        return operator.index(self.data)

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats a 0-d tensor's value; without a spec, the tensor's text."""
        return format(self.numpy(), spec) if spec else str(self)

    __hash__ = object.__hash__

    def ref(self) -> Reference:
        """A hashable reference to this tensor, compared by identity (TensorFlow's `Tensor.ref()`)."""
        return Reference(self)

    # --- autograd --------------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`, walking the graph in reverse order.

        A non-scalar tensor needs `grad`, the gradient of some scalar with respect to it. The graph
        is freed afterwards unless `retain_graph=True`.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require a gradient; create the leaves with "
                "requires_grad=True and compute outside no_grad()"
            )
        xp = backend.get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): the output has shape {self.shape}, not a scalar; pass grad= "
                    "(the gradient with respect to it) or reduce it first, e.g. .sum()"
                )
            grad = xp.ones(self.data.shape, dtype=self.data.dtype)
        else:
            grad = xp.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape} but the output has shape {self.shape}")
        stored: set[int] = set()
        root = self._ctx
        if root is None:
            _accumulate(self, grad, stored)
            return
        grads = {root: grad}
        for fn in _reverse_topological(root):
            g = grads.pop(fn, None)
            if g is not None:
                for t, gi in zip(fn.inputs, fn.backward(g)):
                    if gi is None or not t.requires_grad:
                        continue
                    gi = _fit(gi, t.data)
                    ctx = t._ctx
                    if ctx is None:
                        _accumulate(t, gi, stored)
                    elif ctx in grads:
                        grads[ctx] = grads[ctx] + gi
                    else:
                        grads[ctx] = gi
            if not retain_graph:
                fn.release()

    # --- operators -------------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self, _operand(other, self))

    def __radd__(self, other: Any) -> Tensor:
        return _ops.Add.apply(_operand(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(self, _operand(other, self))

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(_operand(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, _operand(other, self))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(_operand(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, _operand(other, self))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(_operand(other, self), self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float, np.number)):
            return _ops.PowScalar.apply(self, p=other)
        return _ops.Pow.apply(self, _operand(other, self))

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(_operand(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(self, _operand(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(_operand(other, self), self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.arithmetic.FloorDiv.apply(self, _operand(other, self))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.arithmetic.FloorDiv.apply(_operand(other, self), self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.arithmetic.FloorMod.apply(self, _operand(other, self))

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.arithmetic.FloorMod.apply(_operand(other, self), self)

    def __and__(self, other: Any) -> Tensor:
        """Logical and of bool tensors (bitwise for integers), as TensorFlow's `&`; no gradient."""
        return Tensor(_xp(self).bitwise_and(self.data, _raw(other)))

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        return Tensor(_xp(self).bitwise_or(self.data, _raw(other)))

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        return Tensor(_xp(self).bitwise_xor(self.data, _raw(other)))

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        return Tensor(_xp(self).invert(self.data))

    def __neg__(self) -> Tensor:
        return _ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.GetItem.apply(self, index=_index(index))

    # comparisons give boolean tensors that carry no gradient
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return make_tensor(self.data == _raw(other), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return make_tensor(self.data != _raw(other), None)

    def __lt__(self, other: Any) -> Tensor:
        return make_tensor(self.data < _raw(other), None)

    def __le__(self, other: Any) -> Tensor:
        return make_tensor(self.data <= _raw(other), None)

    def __gt__(self, other: Any) -> Tensor:
        return make_tensor(self.data > _raw(other), None)

    def __ge__(self, other: Any) -> Tensor:
        return make_tensor(self.data >= _raw(other), None)

    # --- element-wise functions ------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    __abs__ = abs

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return _ops.ReLU.apply(self)

    def leaky_relu(self, alpha: float = 0.2) -> Tensor:
        """x if x > 0 else alpha * x (alpha 0.2 as in Keras's `leaky_relu`)."""
        return _ops.LeakyReLU.apply(self, alpha=alpha)

    def clip(self, lo: float | None, hi: float | None) -> Tensor:
        return _ops.Clip.apply(self, lo=lo, hi=hi)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.LogSoftmax.apply(self, axis=axis)

    # --- reductions ------------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Var.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the maxima (an integer tensor without gradient)."""
        return make_tensor(self.data.argmax(axis=axis, keepdims=keepdims), None)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the minima (an integer tensor without gradient)."""
        return make_tensor(self.data.argmin(axis=axis, keepdims=keepdims), None)

    # --- shape -----------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """Same values in a new shape; one dimension may be -1. Accepts `reshape(2, 3)` or `reshape((2, 3))`."""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0]) if axes[0] is not None else ()
        return _ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self) -> Tensor:
        return _ops.Transpose.apply(self)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        """Insert axes of length one at the given positions (NumPy's `expand_dims`)."""
        shape = np.expand_dims(np.empty(self.shape, dtype=bool), axis).shape
        return _ops.Reshape.apply(self, shape=shape)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor:
        """Remove axes of length one (all of them, or those named)."""
        shape = np.squeeze(np.empty(self.shape, dtype=bool), axis).shape
        return _ops.Reshape.apply(self, shape=shape)

    def flatten(self) -> Tensor:
        return _ops.Reshape.apply(self, shape=(-1,))


def make_tensor(data: Any, ctx: Function | None) -> Tensor:
    """Wrap an op's output array without the checks of `Tensor()`; `ctx` is the op that made it."""
    t = _new(Tensor)
    if not isinstance(data, np.ndarray) and not backend.is_device_array(data):
        data = np.asarray(data)
    t.data = data
    t.grad = None
    t.requires_grad = ctx is not None
    t._ctx = ctx
    t._shape = None
    return t


_new = object.__new__


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None,
         retain_graph: bool = False) -> list[Tensor | None]:
    """d(outputs)/d(input) for each input, returned and not stored in any `.grad` (as `torch.autograd.grad`).

    Several outputs add their gradients; `grad_outputs` gives each output's gradient (None: ones, a scalar output
    needs none). An input no output depends on gets None. The nodes walked are freed unless `retain_graph`.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    seeds = []
    for out, g in zip(outputs, grad_outputs, strict=True):
        if g is None and out.data.size != 1:
            raise RuntimeError(f"grad(): an output has shape {out.shape}, not a scalar; pass its grad_outputs")
        seeds.append((out, seed_gradient(out, g, "grad()")))
    return [None if g is None else make_tensor(g, None) for g in backprop(seeds, inputs, retain_graph)]


def seed_gradient(out: Tensor, g: Any, where: str) -> Any:
    """The gradient array that starts a backward pass at out: g in out's shape and dtype, or ones when g is None."""
    xp = backend.get_array_module(out.data)
    if g is None:
        return xp.ones(out.data.shape, dtype=out.data.dtype)
    g = xp.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.data.dtype)
    if g.shape != out.data.shape:
        raise ValueError(f"{where}: an output gradient has shape {g.shape} but its output has shape {out.shape}")
    return g


def backprop(seeds: Sequence[tuple[Tensor, Any]], sources: Sequence[Tensor], retain_graph: bool = False,
             through: Callable[[Function], bool] | None = None) -> list[Any]:
    """The gradient arrays of `sources` (None where nothing arrives), from gradient arrays seeded at some tensors.

    Only the nodes that lead to a source are walked, and with `through` only those it accepts: a tensor made by a
    node it refuses is a constant (how a GradientTape ignores what it did not record). No `.grad` is read or
    written; the walked nodes are freed unless `retain_graph`. Each returned array is owned by its caller.
    """
    slots: dict[int, list[int]] = {}
    for i, s in enumerate(sources):
        slots.setdefault(id(s), []).append(i)
    order = _nodes_to_sources([t._ctx for t, _ in seeds], slots, through)
    needed = set(order)
    found: list[Any] = [None] * len(sources)
    grads: dict[Function, Any] = {}

    def arrive(t: Tensor, g: Any) -> None:
        for i in slots.get(id(t), ()):
            found[i] = g if found[i] is None else found[i] + g
        ctx = t._ctx
        if ctx in needed:
            grads[ctx] = grads[ctx] + g if ctx in grads else g

    for t, g in seeds:
        arrive(t, _fit(g, t.data))
    for fn in order:
        g = grads.pop(fn, None)
        if g is not None:
            for t, gi in zip(fn.inputs, fn.backward(g)):
                if gi is not None and t.requires_grad and (id(t) in slots or t._ctx in needed):
                    arrive(t, _fit(gi, t.data))
        if not retain_graph:
            fn.release()
    owned: set[int] = set()
    for i, g in enumerate(found):
        if g is not None:
            if g.base is not None or id(g) in owned or not getattr(g.flags, "writeable", True):
                found[i] = g = g.copy()
            owned.add(id(g))
    return found


def _nodes_to_sources(roots: list[Function | None], slots: dict[int, list[int]],
                      through: Callable[[Function], bool] | None) -> list[Function]:
    """The nodes reachable from roots (those `through` accepts) from which some source (by id) is reachable, newest
    first (the order of the backward walk)."""
    seen: set[Function] = set()
    stack = [fn for fn in roots if fn is not None and (through is None or through(fn))]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        if fn.inputs is None:
            raise RuntimeError(_FREED)
        seen.add(fn)
        stack.extend(c for t in fn.inputs if (c := t._ctx) is not None and c not in seen
                     and (through is None or through(c)))
    needed: set[Function] = set()
    for fn in sorted(seen, key=_seq):
        for t in fn.inputs:
            if id(t) in slots or t._ctx in needed:
                needed.add(fn)
                break
    return sorted(needed, key=_seq, reverse=True)


def _fit(g: Any, data: Any) -> Any:
    """A gradient in its tensor's shape (a broadcast one summed back) and dtype."""
    if g.shape != data.shape:
        g = _ops.sum_to_shape(g, data.shape)
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _accumulate(t: Tensor, g: Any, stored: set[int]) -> None:
    """Add g to a leaf's gradient. A new `.grad` owns its array: views, and arrays already given to
    another leaf in this pass (`stored`), are copied so that updating one gradient in place never changes another.
    """
    if t.grad is not None:
        t.grad = make_tensor(t.grad.data + g, None)
        return
    if g.base is not None or id(g) in stored:
        g = g.copy()
    stored.add(id(g))
    t.grad = make_tensor(g, None)


def _reverse_topological(root: Function) -> list[Function]:
    """The nodes that root depends on, each before the nodes that made its inputs; iterative (no recursion).

    `Function.apply` numbers each recorded node (`seq`) after the nodes of its inputs, so sorting the
    reachable nodes newest first gives the order.
    """
    if root.inputs is None:
        raise RuntimeError(_FREED)
    seen = {root}
    stack = [root]
    while stack:
        for t in stack.pop().inputs:
            c = t._ctx
            if c is not None and c not in seen:
                if c.inputs is None:
                    raise RuntimeError(_FREED)
                seen.add(c)
                stack.append(c)
    return sorted(seen, key=_seq, reverse=True)


_seq = operator.attrgetter("seq")
_FREED = (
    "backward(): trying to backward through the graph a second time; its saved values were freed "
    "by the first backward(). Pass retain_graph=True to the first call if you need to backward twice "
    "(or GradientTape(persistent=True) to take several gradients from one tape)."
)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _xp(t: Tensor) -> Any:
    """The array module of a tensor's values."""
    return backend.get_array_module(t.data)


def _operand(other: Any, like: Tensor) -> Tensor:
    """Make the other operand of a binary op a Tensor; Python and NumPy numbers take the tensor's float dtype, and
    Python ints an integer tensor's dtype (as TensorFlow: int32 + 2 stays int32)."""
    if isinstance(other, Tensor):
        if backend.cupy is not None:  # a GPU is in use: tensors on two devices are an error naming both
            _devices.check_same_device("Tensor operator", like.data, other.data)
        return other
    data = like.data
    kind = data.dtype.kind
    if (kind == "f" and isinstance(other, (int, float, np.number))) or (
            kind in "iu" and type(other) is int and np.can_cast(np.min_scalar_type(other), data.dtype)):
        xp = np if isinstance(data, np.ndarray) else backend.get_array_module(data)
        return make_tensor(xp.asarray(other, dtype=data.dtype), None)  # a number joins the tensor on its device
    index = backend.array_device(data)
    arr = backend.as_array(other)
    return make_tensor(arr if index is None else backend.to_device(arr, index), None)


_SHAPE_QUERIES = frozenset({np.shape, np.ndim, np.size})


def _to_host_in(value: Any) -> Any:
    """value with every device array inside (lists, tuples, dict values) copied to the host."""
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_to_host_in(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_host_in(v) for k, v in value.items()}
    return backend.to_host(value)


def _arrays_in(value: Any) -> Any:
    """value with every Tensor inside (lists, tuples, dict values) replaced by its array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays_in(v) for v in value) if not hasattr(value, "_fields") else value
    if isinstance(value, dict):
        return {k: _arrays_in(v) for k, v in value.items()}
    return value


class Reference:
    """A hashable handle on a tensor, equal only to handles on the same tensor (`Tensor.ref()`); `deref()` gives it."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self._tensor = tensor

    def deref(self) -> Tensor:
        return self._tensor

    def __hash__(self) -> int:
        return id(self._tensor)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reference) and other._tensor is self._tensor

    def __repr__(self) -> str:
        return f"<Reference to {self._tensor!r}>"


def _index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


from shendu import ops as _ops  # noqa: E402  (ops import Tensor, so they load after it)
