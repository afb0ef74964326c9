"""tf.print: values printed as TensorFlow prints them, tensors as their elements without `tensor(...)` around them.

A tensor's elements are separated by spaces, its rows by a new line (a blank line between blocks of higher rank),
and each axis longer than 2 x `summarize` shows its first and last `summarize` entries around `...`. Numbers are
written as TensorFlow's kernels write them: a float with 6 significant digits when that reads back to the same value,
else 9 (float32) or 17 (float64); a bool as 1 or 0; a string in double quotes. Lists, tuples and dicts keep their
Python form with the tensors inside written the same way.
"""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np

from shendu.tensor import Tensor


def print(*inputs: Any, output_stream: Any = None, summarize: int | None = 3, sep: str = " ", end: str = "\n",
          name: str | None = None) -> None:
    """Print the inputs, as `tf.print`: to `output_stream` (sys.stderr by default, sys.stdout, a 'file://path' to
    append to, or a logging function such as `logging.info`); `summarize=-1` (or None: 3) shows every element."""
    edge = 3 if summarize is None else int(summarize)
    output_stream = sys.stderr if output_stream is None else output_stream  # the stream of the moment
    text = sep.join(_top(value, edge) for value in inputs) + end
    if isinstance(output_stream, str):
        if not output_stream.startswith("file://"):
            raise ValueError(f"tf.print: output_stream {output_stream!r} is not a stream, a logging function or a "
                             f"'file://' path")
        with open(output_stream[len("file://"):], "a", encoding="utf-8") as f:
            f.write(text)
    elif hasattr(output_stream, "write"):
        output_stream.write(text)
        if hasattr(output_stream, "flush"):
            output_stream.flush()
    elif callable(output_stream):
        output_stream(text[:-len(end)] if end and text.endswith(end) else text)
    else:
        raise ValueError(f"tf.print: output_stream must be a stream, a logging function or a 'file://' path, got "
                         f"{output_stream!r}")


def _top(value: Any, edge: int) -> str:
    """A top-level input: a Python string as it is, anything else as `_format` writes it."""
    return value if isinstance(value, str) else _format(value, edge)


def _format(value: Any, edge: int) -> str:
    """A value inside the printed line: tensors and arrays by their elements, containers in their Python form."""
    if isinstance(value, Tensor):
        return _array(np.asarray(value.numpy()), edge)
    if isinstance(value, (np.ndarray, np.generic)):
        return _array(np.asarray(value), edge)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_format(k, edge)}: {_format(v, edge)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v, edge) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_format(v, edge) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value) if isinstance(value, str) else builtins.str(value)


def _array(a: np.ndarray, edge: int, depth: int = 0) -> str:
    """The elements of a, row by row, each axis cut to its first and last `edge` entries when longer than 2 edge."""
    if a.ndim == 0:
        return _scalar(a[()])
    n = a.shape[0]
    cut = edge >= 0 and 2 * edge < n
    index = [*range(edge), None, *range(n - edge, n)] if cut else range(n)
    parts = ["..." if i is None else _array(a[i], edge, depth + 1) for i in index]
    sep = " " if a.ndim == 1 else "\n" * (a.ndim - 1) + " " * (depth + 1)
    return "[" + sep.join(parts) + "]"


def _scalar(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (bytes, np.bytes_)):
        return '"' + x.decode("utf-8", "replace") + '"'
    if isinstance(x, (str, np.str_)):
        return f'"{x}"'
    if isinstance(x, np.floating):
        short, full = (6, 9) if x.dtype.itemsize <= 4 else (15, 17)
        text = f"{float(x):.{short}g}"
        return text if x.dtype.type(text) == x or x != x else f"{float(x):.{full}g}"
    return builtins.str(x)
