"""A stand-in for CuPy that computes with NumPy on the CPU but keeps CuPy's rules, so the tests find host round trips
without a GPU.

Its arrays (`ndarray`) wrap a NumPy array and are not NumPy arrays: `np.asarray(x)` raises as CuPy's does, NumPy
functions and ufuncs refuse them (`__array_function__` raises, `__array_ufunc__ = None`), and this module's functions
refuse NumPy arrays (CuPy's "Unsupported type"), except `asarray`/`array`, the explicit copies to the device.
Reductions and scalar indexing give 0-d arrays, as CuPy's do. `set_device_module(fake_cupy)` makes it shendu's
device module.
"""

from __future__ import annotations

import operator
from types import SimpleNamespace
from typing import Any

import numpy as np

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array "
            "explicitly.")  # CuPy's own message
_HOST_ONLY = frozenset({"data", "ctypes", "tofile", "tobytes", "dump", "dumps"})


def _host_error(where: str) -> TypeError:
    return TypeError(f"fake_cupy.{where}: got a NumPy (host) array where a device array is needed (CuPy raises "
                     f"'Unsupported type'); move it with xp.asarray or create it with the array module")


def _unwrap(x: Any, where: str) -> Any:
    """The NumPy array inside a device array; host arrays are refused; lists and tuples are unwrapped inside."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise _host_error(where)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x: Any) -> Any:
    """Results back on the 'device': arrays and NumPy scalars become device arrays (0-d for scalars)."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic) and x.dtype.kind in "biufc":
        return ndarray(np.asarray(x))
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class _Device:
    """cupy.cuda.Device: a context manager selecting a GPU; there is one, index 0."""

    def __init__(self, device: int = 0) -> None:
        if int(device) != 0:
            raise ValueError(f"fake_cupy: there is one device (0), not {device}")
        self.id = 0

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def use(self) -> None:
        return None

    def synchronize(self) -> None:
        return None


class ndarray:  # noqa: N801  (CuPy's name)
    """A device array: a NumPy array behind CuPy's interface and CuPy's refusals."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # NumPy ufuncs refuse it; `host + device` defers to our reflected operators, which refuse
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(IMPLICIT)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(f"numpy.{func.__name__} was called on a device array: call the array module's function "
                        f"(xp.{func.__name__}, xp = backend.get_array_module(x)) instead")

    # --- attributes ---------------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: ndarray(self._a.T))
    real = property(lambda self: ndarray(self._a.real))
    imag = property(lambda self: ndarray(self._a.imag))
    device = property(lambda self: _Device(0))

    @property
    def base(self) -> ndarray | None:
        return None if self._a.base is None else ndarray(self._a.base)

    @property
    def flags(self) -> SimpleNamespace:
        """CuPy's flags: c_contiguous, f_contiguous and owndata (no `writeable`)."""
        f = self._a.flags
        return SimpleNamespace(c_contiguous=f.c_contiguous, f_contiguous=f.f_contiguous, owndata=f.owndata)

    def get(self, stream: Any = None, order: str = "C", out: Any = None) -> np.ndarray:
        """The explicit copy to the host."""
        return np.array(self._a, order=order)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in _HOST_ONLY:  # no __array_interface__: np.asarray must fail
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()}))

        return method

    # --- Python protocols ---------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return _wrap(self._a[_unwrap(index, "__getitem__")])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap(index, "__setitem__")] = _unwrap(value, "__setitem__")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (_wrap(row) for row in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __repr__(self) -> str:
        return f"fake_cupy.{self._a!r}"

    def __neg__(self) -> ndarray:
        return ndarray(-self._a)

    def __pos__(self) -> ndarray:
        return ndarray(+self._a)

    def __abs__(self) -> ndarray:
        return ndarray(abs(self._a))

    def __invert__(self) -> ndarray:
        return ndarray(~self._a)


def _binary(op: Any, name: str, reflected: bool = False) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        other = _unwrap(other, f"__{name}__")
        return _wrap(op(other, self._a) if reflected else op(self._a, other))
    return method


def _inplace(op: Any, name: str) -> Any:
    def method(self: ndarray, other: Any) -> ndarray:
        self._a = op(self._a, _unwrap(other, f"__i{name}__"))
        return self
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
              "rshift"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(ndarray, f"__{_name}__", _binary(_op, _name))
    setattr(ndarray, f"__r{_name}__", _binary(_op, _name, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}"), _name))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name), _name))
ndarray.__divmod__ = _binary(divmod, "divmod")  # type: ignore[attr-defined]


class _Ufunc:
    """A NumPy ufunc taking and giving device arrays (`xp.add(a, b, out=c)`, `xp.add.at`, `xp.maximum.reduce`)."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._u = ufunc

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        where = f"{self._u.__name__}{'' if method == '__call__' else '.' + method}"
        out = getattr(self._u, method)(*_unwrap(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()})
        return _wrap(out)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("__call__", *args, **kwargs)

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("reduce", *args, **kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("accumulate", *args, **kwargs)

    def at(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("at", *args, **kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("outer", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._u, name)


def _function(fn: Any, name: str) -> Any:
    def device_function(*args: Any, **kwargs: Any) -> Any:
        return _wrap(fn(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()}))
    device_function.__name__ = name
    return device_function


class _Namespace:
    """A NumPy submodule (linalg, fft, random) seen through the device rules; objects it returns (a random
    Generator) are wrapped the same way."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner, self._name = inner, name

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._inner, name)
        if isinstance(obj, type) or not callable(obj):
            return obj

        def call(*args: Any, **kwargs: Any) -> Any:
            out = obj(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()})
            return _Namespace(out, name) if isinstance(out, np.random.Generator) else _wrap(out)
        return call


def asarray(a: Any, dtype: Any = None, order: Any = None) -> ndarray:
    """The explicit copy to the device (host arrays welcome); a device array stays itself when dtype fits."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == np.dtype(dtype) else ndarray(a._a.astype(dtype))
    return ndarray(np.array(_unwrap_host(a), dtype=dtype, order=order or "K"))


def array(a: Any, dtype: Any = None, copy: bool = True, order: Any = "K", ndmin: int = 0) -> ndarray:
    """A new device array from host or device data."""
    return ndarray(np.array(_unwrap_host(a), dtype=dtype, copy=copy, order=order, ndmin=ndmin))


def _unwrap_host(a: Any) -> Any:
    if isinstance(a, ndarray):
        return a._a
    if isinstance(a, (list, tuple)):
        return type(a)(_unwrap_host(v) for v in a)
    return a


def asnumpy(a: Any, stream: Any = None, order: str = "C") -> np.ndarray:
    """The explicit copy to the host."""
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def get_array_module(*args: Any) -> Any:
    import sys
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else np


def fuse(*args: Any, **kwargs: Any) -> Any:
    """cupy.fuse: the function as it is (its body runs on device arrays through their operators)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


def _as_strided(x: ndarray, shape: Any = None, strides: Any = None) -> ndarray:
    """cupy.lib.stride_tricks.as_strided: CuPy's signature (no `writeable` or `subok`)."""
    return ndarray(np.lib.stride_tricks.as_strided(_unwrap(x, "as_strided"), shape, strides))


lib = SimpleNamespace(stride_tricks=SimpleNamespace(as_strided=_as_strided))
cuda = SimpleNamespace(
    Device=_Device,
    runtime=SimpleNamespace(getDeviceCount=lambda: 1, getDeviceProperties=lambda i: {"name": b"fake CuPy device"}),
    Stream=SimpleNamespace(null=SimpleNamespace(synchronize=lambda: None)),
)
linalg = _Namespace(np.linalg, "linalg")
fft = _Namespace(np.fft, "fft")
random = _Namespace(np.random, "random")
newaxis = None


def __getattr__(name: str) -> Any:
    obj = getattr(np, name)
    if isinstance(obj, np.ufunc):
        return _Ufunc(obj)
    if isinstance(obj, type) or not callable(obj):
        return obj
    return _function(obj, name)
