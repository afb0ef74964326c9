"""tf.strings on shendu Tensors (and NumPy arrays, Python strings) that hold strings.

A shendu Tensor holds any NumPy array, strings included. `tf.constant('a')` and Python strings give the object dtype
holding Python str (shendu's `tf.string`); NumPy str ('<U') and bytes ('S') arrays work too. Each result keeps the
kind it came in (str in, str out; bytes in, UTF-8 bytes out; TensorFlow's are always bytes), and `as_string` gives
str in the object dtype. `split` and `unicode_split` give, for one string, a 1-D Tensor of its pieces and, for an
array of strings, nested Python lists (one level per axis) of such Tensors, where TensorFlow gives a RaggedTensor.
No gradients: strings have none.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shendu.creation import as_dtype
from shendu.tensor import Tensor

_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = _ASCII_UPPER.lower()
_TO_LOWER, _TO_UPPER = str.maketrans(_ASCII_UPPER, _ASCII_LOWER), str.maketrans(_ASCII_LOWER, _ASCII_UPPER)
_ASCII_SPACE = " \t\n\v\f\r"
_UNITS = ("BYTE", "UTF8_CHAR")


def _array(x: Any, fn: str) -> np.ndarray:
    """x as a NumPy array of strings (str, bytes or objects holding them)."""
    if isinstance(x, Tensor):
        x = x.data
    arr = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)
    if arr.dtype.kind not in "USO" or (arr.dtype.kind == "O" and not all(isinstance(v, (str, bytes))
                                                                         for v in arr.flat)):
        raise TypeError(f"{fn}: expected strings, got an array of dtype {arr.dtype}")
    return arr


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _like(values: list[Any], like: np.ndarray) -> Tensor:
    """Strings made from the elements of `like`, in its shape and string kind."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    out = out.reshape(like.shape)
    if like.dtype.kind == "U":
        return Tensor(out.astype(str))
    if like.dtype.kind == "S":
        return Tensor(out.astype(bytes))
    return Tensor(out)


def _map(x: Any, fn: str, f: Callable[[str], str]) -> Tensor:
    """f applied to each string of x (bytes decoded from UTF-8 and encoded back)."""
    arr = _array(x, fn)
    return _like([f(_text(v)).encode("utf-8") if isinstance(v, bytes) else f(_text(v)) for v in arr.flat], arr)


def _numbers(x: Any, fn: str, f: Callable[[str], Any], dtype: Any) -> Tensor:
    arr = _array(x, fn)
    return Tensor(np.asarray([f(_text(v)) for v in arr.flat], dtype=dtype).reshape(arr.shape))


def _check_encoding(encoding: str, fn: str) -> None:
    if encoding not in ("", "utf-8", "UTF-8", "utf8", "UTF8"):
        raise ValueError(f"{fn}: encoding must be '' (ASCII letters only) or 'utf-8', got {encoding!r}")


def lower(input: Any, encoding: str = "", name: str | None = None) -> Tensor:
    """Each string in lower case: ASCII letters only unless encoding='utf-8' (TensorFlow's default)."""
    _check_encoding(encoding, "tf.strings.lower")
    return _map(input, "tf.strings.lower", (lambda s: s.translate(_TO_LOWER)) if not encoding else str.lower)


def upper(input: Any, encoding: str = "", name: str | None = None) -> Tensor:
    """Each string in upper case: ASCII letters only unless encoding='utf-8'."""
    _check_encoding(encoding, "tf.strings.upper")
    return _map(input, "tf.strings.upper", (lambda s: s.translate(_TO_UPPER)) if not encoding else str.upper)


def strip(input: Any, name: str | None = None) -> Tensor:
    """Each string without its leading and trailing ASCII whitespace."""
    return _map(input, "tf.strings.strip", lambda s: s.strip(_ASCII_SPACE))


def _pattern(pattern: Any) -> str:
    return _text(np.asarray(pattern.data if isinstance(pattern, Tensor) else pattern).item())


def _rewrite(rewrite: str) -> str:
    """An RE2 rewrite string (\\0 the whole match, \\1 ... \\9 the groups) in Python's spelling."""
    return re.sub(r"\\(\d)|\\\\", lambda m: rf"\g<{m.group(1)}>" if m.group(1) else m.group(0), rewrite)


def regex_replace(input: Any, pattern: Any, rewrite: Any, replace_global: bool = True,
                  name: str | None = None) -> Tensor:
    """Each string with the matches of pattern replaced by rewrite (all of them, or the first if not
    replace_global). Python's `re` runs the pattern: RE2's syntax is, for what tutorials use, the same."""
    regex = re.compile(_pattern(pattern))
    repl = _rewrite(_pattern(rewrite))
    return _map(input, "tf.strings.regex_replace", lambda s: regex.sub(repl, s, count=0 if replace_global else 1))


def regex_full_match(input: Any, pattern: Any, name: str | None = None) -> Tensor:
    """Whether each whole string matches pattern (a bool Tensor)."""
    regex = re.compile(_pattern(pattern))
    return _numbers(input, "tf.strings.regex_full_match", lambda s: regex.fullmatch(s) is not None, bool)


def _pieces(x: Any, fn: str, f: Callable[[str], list[str]]) -> Any:
    """f's pieces of each string: a 1-D Tensor for one string, nested lists of them for an array."""
    arr = _array(x, fn)

    def one(v: Any) -> Tensor:
        parts = [p.encode("utf-8") if isinstance(v, bytes) else p for p in f(_text(v))]
        return _like(parts, np.empty(len(parts), dtype=arr.dtype if arr.dtype.kind != "O" else object))

    def nest(a: np.ndarray) -> Any:
        return one(a.item()) if a.ndim == 0 else [nest(a[i, ...]) for i in range(len(a))]

    return nest(arr)


def split(input: Any, sep: Any = None, maxsplit: int = -1, name: str | None = None) -> Any:
    """Each string cut at sep (None or '': runs of whitespace, no empty pieces), at most maxsplit times when it is
    >= 0, as Python's str.split. See the module docstring for the result's form."""
    sep = None if sep is None else _pattern(sep) or None
    return _pieces(input, "tf.strings.split", lambda s: s.split(sep, maxsplit))


def unicode_split(input: Any, input_encoding: str, errors: str = "replace", replacement_char: int = 65533,
                  name: str | None = None) -> Any:
    """Each string cut into its characters (UTF-8 only). See the module docstring for the result's form."""
    _check_encoding(input_encoding, "tf.strings.unicode_split")
    return _pieces(input, "tf.strings.unicode_split", list)


def _check_unit(unit: str, fn: str) -> None:
    if unit not in _UNITS:
        raise ValueError(f"{fn}: unit must be one of {_UNITS}, got {unit!r}")


def length(input: Any, unit: str = "BYTE", name: str | None = None) -> Tensor:
    """The length of each string in UTF-8 bytes ('BYTE') or characters ('UTF8_CHAR'), as int32."""
    _check_unit(unit, "tf.strings.length")
    count = (lambda s: len(s.encode("utf-8"))) if unit == "BYTE" else len
    return _numbers(input, "tf.strings.length", count, np.int32)


def substr(input: Any, pos: Any, len: Any, unit: str = "BYTE", name: str | None = None) -> Tensor:
    """input[pos : pos + len] of each string (pos < 0 counts from the end), in bytes or characters; pos and len
    broadcast against input. A byte cut through a character of a str gives U+FFFD there."""
    fn = "tf.strings.substr"
    _check_unit(unit, fn)
    arr = _array(input, fn)
    strings, starts, sizes = np.broadcast_arrays(arr, np.asarray(pos), np.asarray(len))
    out = []
    for v, p, n in zip(strings.flat, starts.flat, sizes.flat):
        s = v.encode("utf-8") if unit == "BYTE" and isinstance(v, str) else v
        s = _text(s) if unit == "UTF8_CHAR" else s
        size = builtins.len(s)
        start = p + size if p < 0 else p
        if not 0 <= start <= size:
            raise ValueError(f"{fn}: pos {p} is out of range for the string {v!r} of length {size}")
        piece = s[start:start + max(int(n), 0)]
        out.append(piece.decode("utf-8", errors="replace") if isinstance(v, str) and isinstance(piece, bytes)
                   else piece)
    return _like(out, np.broadcast_to(arr, strings.shape))


def _bytes_kind(arr: np.ndarray) -> bool:
    """Whether arr holds bytes (then strings made from it are encoded as UTF-8 bytes too)."""
    return arr.dtype.kind == "S" or (arr.dtype.kind == "O" and arr.size > 0 and isinstance(arr.flat[0], bytes))


def _joined(rows: Any, separator: str, arr: np.ndarray, shape: tuple[int, ...]) -> Tensor:
    joined = [separator.join(_text(v) for v in row) for row in rows]
    if _bytes_kind(arr):
        joined = [j.encode("utf-8") for j in joined]
    return _like(joined, np.empty(shape, dtype=object if arr.dtype.kind == "O" else arr.dtype))


def join(inputs: Sequence[Any], separator: str = "", name: str | None = None) -> Tensor:
    """The strings of the inputs joined element by element (the inputs broadcast against each other)."""
    arrays = np.broadcast_arrays(*[_array(x, "tf.strings.join") for x in inputs])
    return _joined(zip(*[a.flat for a in arrays]), separator, arrays[0], arrays[0].shape)


def reduce_join(inputs: Any, axis: int | None = None, keepdims: bool = False, separator: str = "",
                name: str | None = None) -> Tensor:
    """The strings joined along axis (all of them when None), with separator between."""
    arr = _array(inputs, "tf.strings.reduce_join")
    if axis is None:
        return _joined([arr.flat], separator, arr, (1,) * arr.ndim if keepdims else ())
    moved = np.moveaxis(arr, axis, -1)
    shape = moved.shape[:-1]
    if keepdims:
        shape = np.expand_dims(np.empty(shape), axis % arr.ndim).shape
    return _joined(moved.reshape(-1, moved.shape[-1]), separator, arr, shape)


def as_string(input: Any, precision: int = -1, scientific: bool = False, shortest: bool = False, width: int = -1,
              fill: str = "", name: str | None = None) -> Tensor:
    """Numbers as strings, printf-style as TensorFlow: '%d' for ints, '%f' for floats ('%e' scientific, '%g'
    shortest, '.precision'), padded to width with spaces or fill='0'; bools as 'true' / 'false'."""
    fn = "tf.strings.as_string"
    arr = np.asarray(input.data if isinstance(input, Tensor) else input)
    if fill not in ("", " ", "0"):
        raise ValueError(f"{fn}: fill must be '', ' ' or '0', got {fill!r}")
    if scientific and shortest:
        raise ValueError(f"{fn}: scientific and shortest cannot both be set")
    pad = ("0" if fill == "0" else "") + (str(width) if width > -1 else "")
    if arr.dtype.kind == "b":
        values = [("%" + pad + "s") % ("true" if v else "false") for v in arr.flat]
    elif arr.dtype.kind in "iu":
        values = [("%" + pad + "d") % v for v in arr.flat]
    elif arr.dtype.kind == "f":
        spec = "%" + pad + (f".{precision}" if precision > -1 else "") + ("e" if scientific else "g" if shortest
                                                                          else "f")
        values = [spec % v for v in arr.flat]
    else:
        raise TypeError(f"{fn}: expected numbers or bools, got an array of dtype {arr.dtype}")
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return Tensor(out.reshape(arr.shape))


def to_number(string_tensor: Any, out_type: Any = np.float32, name: str | None = None) -> Tensor:
    """Each string parsed as a number of out_type (float32 by default); a string that is not one raises."""
    fn = "tf.strings.to_number"
    dt = as_dtype(out_type)
    if dt.kind not in "fi":
        raise ValueError(f"{fn}: out_type must be a float or int dtype, got {dt}")
    parse = float if dt.kind == "f" else int

    def number(s: str) -> Any:
        try:
            return parse(s)
        except ValueError:
            raise ValueError(f"{fn}: could not convert {s!r} to {dt}") from None

    return _numbers(string_tensor, fn, number, dt)


__all__ = [
    "as_string", "join", "length", "lower", "reduce_join", "regex_full_match", "regex_replace", "split", "strip",
    "substr", "to_number", "unicode_split", "upper",
]
