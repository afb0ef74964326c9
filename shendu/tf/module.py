"""tf.Module: a named container whose variables and sub-modules are found by walking its attributes, as
TensorFlow's guides use it for models written without Keras; and tf.name_scope."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from shendu.layers.base import Layer
from shendu.variable import Variable


class name_scope:  # noqa: N801 (TensorFlow's name)
    """`with tf.name_scope("block"):`: a context manager that keeps TensorFlow's spelling. shendu names variables
    when they are made, so the scope changes no name; it is there so that code using it runs."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"tf.name_scope: the name must be a string, got {type(name).__name__}")
        self.name = name

    def __enter__(self) -> str:
        return self.name + "/"

    def __exit__(self, *exc: Any) -> None:
        return None


class Module:
    """The base of a model made of tf.Variables and other Modules: `variables`, `trainable_variables` and
    `submodules` list what its attributes hold (in attribute-name order, lists, tuples and dicts included, each
    found once). Keras layers held as attributes count as sub-modules with their weights."""

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
            raise ValueError(f"tf.Module: {name!r} is not a valid module name (letters, digits, '_', '.', '-', "
                             "not starting with a digit)")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self) -> name_scope:
        """The scope of this module's name (`with self.name_scope:`)."""
        return name_scope(self._name)

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every Variable this module and its sub-modules hold."""
        return tuple(v for v in _walk(self) if isinstance(v, Variable))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.trainable)

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if not v.trainable)

    @property
    def submodules(self) -> tuple[Any, ...]:
        """Every Module (and Keras layer) below this one."""
        return tuple(m for m in _walk(self) if isinstance(m, (Module, Layer)))

    @classmethod
    def with_name_scope(cls, method: Callable[..., Any]) -> Callable[..., Any]:
        """A decorator that runs a method inside its module's name scope."""

        @functools.wraps(method)
        def scoped(self: Module, *args: Any, **kwargs: Any) -> Any:
            with self.name_scope:
                return method(self, *args, **kwargs)

        return scoped

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self._name!r}>"


def _walk(root: Module) -> Iterator[Any]:
    """The Variables, Modules and layers under root's attributes, depth first, each once."""
    seen = {id(root)}

    def visit(value: Any) -> Iterator[Any]:
        if id(value) in seen:
            return
        if isinstance(value, Variable):
            seen.add(id(value))
            yield value
        elif isinstance(value, Layer):
            seen.add(id(value))
            yield value
            for v in value.weights:
                yield from visit(v)
        elif isinstance(value, Module):
            seen.add(id(value))
            yield value
            yield from children(value)
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                yield from visit(value[key])
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from visit(item)

    def children(module: Module) -> Iterator[Any]:
        for key in sorted(vars(module)):
            yield from visit(vars(module)[key])

    yield from children(root)


__all__: list[str] = ["Module", "name_scope"]
