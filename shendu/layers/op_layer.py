"""TFOpLambda: a tf.* function or a Python operator applied to symbolic tensors, as one layer of a functional model.

`tf.reduce_sum(x, axis=1)`, `x * y` or `x[:, 0]` on KerasTensors record a TFOpLambda node that holds the function
(by its public name, "math.reduce_sum", "__operators__.mul") and its non-tensor arguments, as tf.keras does. The
output shape is found by running the function on zeros. The tf.* modules route symbolic calls here through
`dispatch_symbolic`, one line at the end of each module.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import grad_mode
from shendu.layers.base import Layer, to_tensor, unique_name
from shendu.layers.symbolic import KerasTensor, Node
from shendu.utils.tree import flatten, map_structure, pack_sequence_as

_OPS: dict[str, Callable[..., Any]] = {}
_LOOK_INTO = frozenset({KerasTensor, list, tuple, dict})  # the argument classes a symbolic tensor can be or hide in


def register_op(name: str, function: Callable[..., Any]) -> None:
    """Make `function` loadable by its public name (e.g. "math.reduce_sum" for tf.math.reduce_sum)."""
    _OPS.setdefault(name, function)


def get_op(name: str) -> Callable[..., Any]:
    """The function registered under a public name; a ValueError naming it when there is none."""
    try:
        return _OPS[name]
    except KeyError:
        raise ValueError(f"TFOpLambda: unknown function 'tf.{name}'; expected a public tf.* function or a Python "
                         f"operator ('__operators__.add', ...)") from None


def has_symbolic(values: Any) -> bool:
    """Whether a KerasTensor is among `values` (an iterable of arguments; lists, tuples, dicts looked into)."""
    for v in values:
        if isinstance(v, KerasTensor):
            return True
        if isinstance(v, (list, tuple)) and v and has_symbolic(v):
            return True
        if isinstance(v, dict) and v and has_symbolic(v.values()):
            return True
    return False


def dispatch_symbolic(namespace: dict[str, Any], prefix: str, skip: tuple[str, ...] = ()) -> None:
    """Wrap the public functions of a tf module so that a call on KerasTensors builds a TFOpLambda layer.

    Wrapped: the functions the module defines and those its `__all__` re-exports (unless already wrapped); an
    alias (`transpose = matrix_transpose`) stays the same function, named by its definition."""
    module = namespace["__name__"]
    exported = set(namespace.get("__all__", ()))
    wrapped: dict[int, Callable[..., Any]] = {}
    for name, fn in list(namespace.items()):
        if name.startswith("_") or name in skip or not inspect.isfunction(fn) or hasattr(fn, "_tf_op_name"):
            continue
        if fn.__module__ == module or name in exported:
            register_op(prefix + name, fn)
            if id(fn) not in wrapped:
                own = fn.__name__ if namespace.get(fn.__name__) is fn else name
                wrapped[id(fn)] = _dispatching(fn, prefix + own)
            namespace[name] = wrapped[id(fn)]


def _dispatching(fn: Callable[..., Any], public: str) -> Callable[..., Any]:
    """fn behind a check of its arguments for KerasTensors. The wrapper is generated with fn's own parameters
    (its defaults shared), so that an eager call costs one class lookup per argument and no packing of them."""
    register_op(public, fn)
    params = list(inspect.signature(fn).parameters.values())
    header, forward, checks = [], [], []
    for i, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL:
            header.append(f"*{p.name}")
            forward.append(f"*{p.name}")
            checks.append(f"_sd_has_({p.name})")
        elif p.kind is p.VAR_KEYWORD:
            header.append(f"**{p.name}")
            forward.append(f"**{p.name}")
            checks.append(f"_sd_has_({p.name}.values())")
        else:
            if p.kind is p.KEYWORD_ONLY and not any(h.startswith("*") for h in header):
                header.append("*")
            header.append(p.name)
            forward.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
            checks.append(f"({p.name}.__class__ in _sd_look_ and _sd_has_(({p.name},)))")
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
            header.append("/")
    call = ", ".join(forward)
    source = (f"def dispatch({', '.join(header)}):\n"
              f"    if {' or '.join(checks) or 'False'}:\n"
              f"        return _sd_op_(_sd_name_)({call})\n"
              f"    return _sd_fn_({call})\n")
    scope = {"_sd_look_": _LOOK_INTO, "_sd_has_": has_symbolic, "_sd_op_": TFOpLambda, "_sd_name_": public,
             "_sd_fn_": fn}
    exec(source, scope)  # the source holds nothing but fn's parameter names
    dispatch = functools.update_wrapper(scope["dispatch"], fn)
    dispatch.__defaults__, dispatch.__kwdefaults__ = fn.__defaults__, fn.__kwdefaults__
    dispatch._tf_op_name = public  # type: ignore[attr-defined]
    return dispatch


def _getitem(x: Any, *key: Any) -> Any:
    """x[key] with the key's parts as separate arguments (so that a saved config keeps tuple keys apart)."""
    return x[key[0] if len(key) == 1 else key]


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "pos", "invert",
              "lt", "le", "gt", "ge", "and_", "or_", "xor"):
    register_op(f"__operators__.{_name.rstrip('_')}", getattr(operator, _name))
register_op("__operators__.getitem", _getitem)


def apply_operator(name: str, *args: Any) -> Any:
    """The symbolic result of a Python operator (`x + y`, `-x`, `x[:, 0]`) on KerasTensors."""
    return TFOpLambda(f"__operators__.{name}")(*args)


class TFOpLambda(Layer):
    """A layer that applies a tf.* function or an operator, found by its public name, to its arguments."""

    def __init__(self, function: str, **kwargs: Any) -> None:
        self.function = get_op(function)
        kwargs.setdefault("name", unique_name(f"tf.{function}"))
        super().__init__(**kwargs)
        self.function_name = function
        self.built = True

    @classmethod
    def _accepts(cls, arg: str) -> bool:
        return False  # the function receives exactly the recorded arguments: no training= or mask=

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if has_symbolic(args) or has_symbolic(kwargs.values()):
            return self._call_symbolic(args, kwargs)
        return self.function(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def _call_symbolic(self, args: tuple, kwargs: dict) -> Any:
        try:
            bound = inspect.signature(self.function).bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        except TypeError as err:
            raise TypeError(f"tf.{self.function_name}: {err}") from None
        except ValueError:
            pass  # a builtin without a signature: the arguments stay as given
        if not args:
            raise TypeError(f"tf.{self.function_name}: called without arguments")
        runs = [self._run_on_sample(args, kwargs, fill) for fill in (2, 3)]
        outputs = []
        for i, (a, b) in enumerate(zip(flatten(runs[0]), flatten(runs[1]))):
            shape = tuple(None if p != q else p for p, q in zip(np.shape(_data(a)), np.shape(_data(b))))
            outputs.append(KerasTensor(shape, np.asarray(_data(a)).dtype, name=f"{self.name}/output_{i}"))
        node = Node(self, args[0], tuple(args[1:]), dict(kwargs), outputs)
        for i, t in enumerate(outputs):
            t.node, t.index = node, i
        self._inbound_nodes.append(node)
        return pack_sequence_as(runs[0], outputs)

    def _run_on_sample(self, args: tuple, kwargs: dict, fill: int) -> Any:
        """The function's result on zeros in place of the KerasTensors (their unknown axes set to `fill`)."""
        def sample(v: Any) -> Any:
            if not isinstance(v, KerasTensor):
                return v
            return to_tensor(np.zeros([fill if d is None else d for d in v.shape], dtype=v.dtype))

        s_args, s_kwargs = map_structure(sample, args), map_structure(sample, kwargs)
        try:
            with grad_mode.no_grad(), np.errstate(all="ignore"):
                return self.function(*s_args, **s_kwargs)
        except Exception as err:
            kind = type(err) if type(err) in (TypeError, ValueError, IndexError) else ValueError
            raise kind(f"tf.{self.function_name} on symbolic tensors {_describe(args, kwargs)}: {err}") from err

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._inbound_nodes:
            return self._inbound_nodes[0].output_shapes
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "function": self.function_name}


def _data(value: Any) -> Any:
    return getattr(value, "data", value)


def _describe(args: tuple, kwargs: dict) -> str:
    shapes = [tuple(t.shape) for t in flatten([list(args), list(kwargs.values())]) if isinstance(t, KerasTensor)]
    return f"of shapes {shapes}"
