"""tf.function: runs the Python function eagerly (TensorFlow's run_functions_eagerly(True) semantics).

shendu has no graphs to trace, so a decorated function is its Python function, called as written at every call
(Python side effects such as `print` run every time, not once per trace). What TensorFlow checks is checked:
`input_signature` (TensorSpecs, or nested lists, tuples and dicts of them) binds and converts the arguments,
raising TypeError for one that does not fit. The compilation options (`jit_compile`, `autograph`,
`reduce_retracing`, ...) are accepted and change nothing. Methods work too: a decorated method binds to its object.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from shendu import backend
from shendu.tensor import Tensor
from shendu.tensor_spec import TensorSpec
from shendu.utils.tree import flatten, map_structure


class PolymorphicFunction:
    """What `tf.function` returns: callable like the function it wraps (and a descriptor, so methods bind)."""

    def __init__(self, python_function: Callable[..., Any], input_signature: Any = None) -> None:
        self.__name__ = type(python_function).__name__  # for a callable object; a function's own name replaces it
        functools.update_wrapper(self, python_function, updated=())
        self._python_function = python_function
        self._instance: Any = None  # the object of a bound method
        self.input_signature = None if input_signature is None else tuple(input_signature)
        self._names: list[str] = []  # the positional parameters of the function, which the input_signature binds
        if self.input_signature is not None:
            for spec in flatten(self.input_signature):
                if not isinstance(spec, TensorSpec):
                    raise TypeError(f"tf.function `{self.__name__}`: input_signature must hold tf.TensorSpec objects "
                                    f"(in lists, tuples or dicts); got {spec!r}")
            self._names = _positional_names(python_function)

    @property
    def python_function(self) -> Callable[..., Any]:
        """The Python function run at each call (bound to its object for a method)."""
        return self.__wrapped__

    def __get__(self, instance: Any, owner: Any = None) -> PolymorphicFunction:
        if instance is None:
            return self
        bound = object.__new__(PolymorphicFunction)
        bound.__dict__.update(self.__dict__)
        bound._instance = instance
        bound.__wrapped__ = self._python_function.__get__(instance, owner)  # what inspect.signature reads
        return bound

    @property
    def _bound_names(self) -> list[str]:
        """The parameters the input_signature binds (a method's first, self, excluded once bound)."""
        return self._names if self._instance is None else self._names[1:]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.input_signature is not None:
            args, kwargs = _bind(self._bound_names, self.input_signature, args, kwargs, self.__name__), {}
        if self._instance is None:
            return self._python_function(*args, **kwargs)
        return self._python_function(self._instance, *args, **kwargs)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """A function for one signature: the input_signature, or the specs of the given TensorSpecs, tensors and
        arrays (other arguments are fixed to the values given)."""
        if self.input_signature is not None:
            if args or kwargs:
                raise ValueError(f"tf.function `{self.__name__}` has an input_signature: call get_concrete_function() "
                                 "without arguments")
            return ConcreteFunction(self.python_function, self.input_signature, self._bound_names, self.__name__)
        bound = inspect.signature(self.python_function).bind(*args, **kwargs)
        specs, fixed = {}, {}
        for name, value in bound.arguments.items():
            leaves = flatten(value)
            if leaves and all(isinstance(v, (TensorSpec, Tensor, np.ndarray)) for v in leaves):
                specs[name] = map_structure(lambda v: v if isinstance(v, TensorSpec) else TensorSpec.from_tensor(v),
                                            value)
            else:
                fixed[name] = value
        call = functools.partial(self.python_function, **fixed)
        return ConcreteFunction(call, tuple(specs.values()), list(specs), self.__name__, by_keyword=True)

    def __repr__(self) -> str:
        return f"<tf.function {self.__name__} (run eagerly)>"


class ConcreteFunction:
    """One signature of a tf.function: called with tensors that fit `structured_input_signature`."""

    def __init__(self, call: Callable[..., Any], specs: tuple[Any, ...], names: list[str], name: str,
                 by_keyword: bool = False) -> None:
        self._call = call
        self._specs = specs
        self._names = names
        self._by_keyword = by_keyword  # call with the parameters by name (the others were fixed by keyword)
        self.__name__ = name

    @property
    def structured_input_signature(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """(positional specs, keyword specs), as TensorFlow gives it."""
        return self._specs, {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = _bind(self._names, self._specs, args, kwargs, self.__name__)
        if self._by_keyword:
            return self._call(**dict(zip(self._names, values)))
        return self._call(*values)


def function(func: Callable[..., Any] | None = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: bool | None = None, reduce_retracing: bool = False, experimental_implements: Any = None,
             experimental_autograph_options: Any = None, experimental_attributes: Any = None,
             experimental_relax_shapes: Any = None, experimental_compile: Any = None,
             experimental_follow_type_hints: Any = None) -> Any:
    """`@tf.function`, `@tf.function(input_signature=[tf.TensorSpec([None, 3])], jit_compile=True)` or
    `tf.function(f)`: f run eagerly, with its input_signature checked; the other options are for TensorFlow's
    compiler and change nothing here."""

    def decorate(f: Callable[..., Any]) -> PolymorphicFunction:
        if not callable(f):
            raise TypeError(f"tf.function: expected a function or method to decorate, got {f!r}")
        return PolymorphicFunction(f, input_signature)

    return decorate if func is None else decorate(func)


def _positional_names(python_function: Callable[..., Any]) -> list[str]:
    return [p.name for p in inspect.signature(python_function).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _bind(names: list[str], specs: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any],
          name: str) -> list[Any]:
    """The arguments of a call in the order of the signature (`names`, then any *args), each converted to fit its
    spec; raises TypeError, as TensorFlow does, for a missing, extra or unfitting one."""
    if len(args) > len(specs):
        raise TypeError(f"Binding inputs to tf.function `{name}` failed: got {len(args)} positional arguments but the "
                        f"input_signature has {len(specs)} entries")
    values = list(args)
    kwargs = dict(kwargs)
    for param in names[len(args):len(specs)]:
        if param not in kwargs:
            raise TypeError(f"Binding inputs to tf.function `{name}` failed: missing argument `{param}`")
        values.append(kwargs.pop(param))
    if kwargs or len(values) < len(specs):
        raise TypeError(f"Binding inputs to tf.function `{name}` failed: the input_signature covers "
                        f"{names[:len(specs)]}; got the extra keywords {sorted(kwargs)}")
    return [_conform(spec, value, param, name) for spec, value, param in zip(specs, values, names + [""] * len(specs))]


def _conform(spec: Any, value: Any, where: str, name: str) -> Any:
    """value checked against spec (a TensorSpec, or a list, tuple or dict of them), its leaves made tensors."""
    fail = f"Binding inputs to tf.function `{name}` failed: argument `{where}`"
    if isinstance(spec, TensorSpec):
        return _as_tensor(spec, value, fail)
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise TypeError(f"{fail} should be a dict with the keys {sorted(spec)}; got {value!r}")
        return {k: _conform(spec[k], v, f"{where}[{k!r}]", name) for k, v in value.items()}
    if not isinstance(value, (list, tuple)) or len(value) != len(spec):
        raise TypeError(f"{fail} should be a sequence of {len(spec)} values matching {spec}; got {value!r}")
    items = [_conform(s, v, f"{where}[{i}]", name) for i, (s, v) in enumerate(zip(spec, value))]
    return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)


def _as_tensor(spec: TensorSpec, value: Any, fail: str) -> Tensor:
    """value as a tensor of spec's dtype (tensors and arrays must have it; Python numbers convert within their kind
    or upwards, ints to floats); its shape must be compatible with spec's."""
    if isinstance(value, Tensor):
        tensor = value
    elif isinstance(value, (np.ndarray, np.generic)):
        tensor = Tensor(value)
    else:
        natural = backend.as_array(value)
        if not np.can_cast(natural.dtype, spec.dtype, "same_kind"):
            raise TypeError(f"{fail}: {value!r} cannot be converted to {spec.dtype}, the dtype of {spec}")
        tensor = Tensor(natural.astype(spec.dtype))
    if tensor.dtype != spec.dtype or not spec.shape.is_compatible_with(tensor.shape):
        raise TypeError(f"{fail}: a tensor of shape {tensor.shape} and dtype {tensor.dtype} does not fit {spec}")
    return tensor


__all__: list[str] = ["function"]
