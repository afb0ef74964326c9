"""File readers: TextLineDataset (the lines of text files) and CsvDataset (the records of CSV files).

Each pass reads the files again (they may change between epochs, as with tf.data) into one array per column, so
the rows travel as an index plan: shuffle and batch never touch them one by one. Text comes out as TensorFlow's
strings look from NumPy: object arrays of bytes. gzip and zlib files are read through Python's own modules.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import Dataset
from shendu.data.plan import Slices
from shendu.data.sources import as_dtype
from shendu.data.spec import TensorSpec
from shendu.data.structure import flatten
from shendu.tensor import Tensor

CSV_DTYPES = tuple(np.dtype(t) for t in ("float32", "float64", "int32", "int64", "object"))


def file_names(filenames: Any, where: str) -> list[str]:
    """A path, a list or array of paths (str or bytes), or a Dataset of them, as a list of str."""
    if isinstance(filenames, Dataset):
        names = [leaf for element in filenames._elements() for leaf in flatten(element)]
    elif isinstance(filenames, (str, bytes, os.PathLike)):
        names = [filenames]
    else:
        arr = filenames.data if isinstance(filenames, Tensor) else filenames
        names = list(np.asarray(arr, dtype=object).ravel()) if not isinstance(arr, (list, tuple)) else list(arr)
    out = []
    for name in names:
        name = name.item() if isinstance(name, np.ndarray) else name
        if isinstance(name, (bytes, np.bytes_)):
            name = bytes(name).decode("utf-8")
        if not isinstance(name, (str, os.PathLike)):
            raise TypeError(f"{where}: expected file names, got {type(name).__name__} {name!r:.60}")
        out.append(os.fspath(name))
    return out


def _compression(compression_type: str | None, where: str) -> str:
    kind = (compression_type or "").upper()
    if kind not in ("", "GZIP", "ZLIB"):
        raise ValueError(f"{where}: compression_type must be '', 'GZIP' or 'ZLIB', got {compression_type!r}")
    return kind


def read_bytes(path: str, compression_type: str | None, where: str) -> bytes:
    """A file's bytes, decompressed for compression_type 'GZIP' or 'ZLIB' ('' or None: as stored)."""
    kind = _compression(compression_type, where)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}: {path} does not exist") from None
    try:
        return gzip.decompress(data) if kind == "GZIP" else zlib.decompress(data) if kind == "ZLIB" else data
    except (OSError, zlib.error) as e:
        raise ValueError(f"{where}: {path} is not a valid {kind} file ({e})") from None


def split_lines(data: bytes) -> list[bytes]:
    """Lines without their '\\n' or '\\r\\n' ending; a last line without an ending counts, an empty one does not."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


class TextLineDataset(Dataset):
    """tf.data.TextLineDataset: each line of the files in turn, as a 0-d string tensor (bytes)."""

    def __init__(self, filenames: Any, compression_type: str | None = None, buffer_size: int | None = None,
                 num_parallel_reads: int | None = None) -> None:
        self._filenames, self._compression = filenames, _compression(compression_type, "TextLineDataset")
        if not isinstance(filenames, Dataset):
            file_names(filenames, "TextLineDataset")

    def _element_spec(self) -> Any:
        return TensorSpec((), object)

    def _slices(self) -> Slices:
        where = "TextLineDataset"
        lines = [line for path in file_names(self._filenames, where)
                 for line in split_lines(read_bytes(path, self._compression, where))]
        column = _object_array(lines)
        return Slices([column], lambda leaves: leaves[0], lambda: iter((range(len(column)),)))


def csv_rows(text: str, field_delim: str, use_quote_delim: bool) -> Iterator[list[str]]:
    quoting = csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE
    return csv.reader(io.StringIO(text, newline=""), delimiter=field_delim, quoting=quoting)


def _csv_default(value: Any, where: str) -> tuple[np.dtype, Any]:
    """(dtype, default) of one record_defaults item: a dtype (a required column), an empty tensor of a dtype
    (required), or a scalar default; Python ints are int32 and floats float32, as TensorFlow makes them."""
    if isinstance(value, (type, np.dtype)):
        dtype = as_dtype(value, where)
        default = None
    else:
        arr = value.data if isinstance(value, Tensor) else np.asarray(
            value, dtype=np.int32 if isinstance(value, int) and not isinstance(value, bool) else
            np.float32 if isinstance(value, float) else None)
        dtype = np.dtype(object) if arr.dtype.kind in "OSU" else arr.dtype
        if arr.size > 1:
            raise ValueError(f"{where}: a record default must be a scalar or an empty tensor, got shape {arr.shape}")
        default = None if arr.size == 0 else arr.reshape(())[()]
        if default is not None and dtype.kind == "O":
            default = default if isinstance(default, bytes) else str(default).encode("utf-8")
    if dtype not in CSV_DTYPES:
        raise TypeError(f"{where}: a column's type must be float32, float64, int32, int64 or string, got {dtype}")
    return dtype, default


def parse_column(values: list[str], dtype: np.dtype, default: Any, na_value: str, name: str, where: str,
                 bad_rows: set[int] | None = None) -> np.ndarray:
    """One CSV column of field strings as an array: '' and na_value take the default (an error when required).

    With bad_rows, the indices of fields that do not parse are added to it (their value is the default or 0)
    instead of raising.
    """
    if dtype.kind != "O" and not any(text == "" or text == na_value for text in values):
        parsed = _parse_all(values, dtype)
        if parsed is not None:
            return parsed
    out = np.empty(len(values), dtype=dtype)
    for i, text in enumerate(values):
        missing = text == "" or text == na_value
        if missing and default is None:
            if bad_rows is None:
                raise ValueError(f"{where}: {name} is required but missing in record {i}")
            bad_rows.add(i)
            continue
        if dtype.kind == "O":
            out[i] = default if missing else text.encode("utf-8")
            continue
        try:
            value = default if missing else float(text) if dtype.kind == "f" else int(text.strip())
            out[i] = value
            if dtype.kind == "i" and out[i] != value:
                raise OverflowError
        except (ValueError, OverflowError):
            if bad_rows is None:
                raise ValueError(f"{where}: {name} in record {i} is {text!r}, not a valid {dtype}") from None
            bad_rows.add(i)
            out[i] = 0
    return out


def _parse_all(values: list[str], dtype: np.dtype) -> np.ndarray | None:
    """A numeric column parsed in one NumPy conversion, or None when some field does not parse (or overflows)."""
    try:
        parsed = np.array(values, dtype=str).astype(np.float64 if dtype.kind == "f" else np.int64)
    except (ValueError, OverflowError):
        return None
    if dtype.kind == "i" and len(parsed):
        info = np.iinfo(dtype)
        if parsed.min() < info.min or parsed.max() > info.max:
            return None
    return parsed.astype(dtype)


class CsvReader(Dataset):
    """The records of CSV files as tuples of scalars, one per selected column (CsvDataset; make_csv_dataset also
    skips records that do not parse, with ignore_errors)."""

    def __init__(self, filenames: Any, record_defaults: Any, compression_type: str | None, header: bool,
                 field_delim: str, use_quote_delim: bool, na_value: str, select_cols: Any, exclude_cols: Any,
                 ignore_errors: bool = False, encoding: str = "utf-8", where: str = "CsvDataset") -> None:
        self._where = where
        if select_cols is not None and exclude_cols is not None:
            raise ValueError(f"{where}: give select_cols or exclude_cols, not both")
        self._columns = [_csv_default(v, where) for v in list(record_defaults)]
        if not self._columns:
            raise ValueError(f"{where}: record_defaults must describe at least one column")
        self._select = None if select_cols is None else self._indices(select_cols, "select_cols")
        self._exclude = None if exclude_cols is None else set(self._indices(exclude_cols, "exclude_cols"))
        if self._select is not None and len(self._select) != len(self._columns):
            raise ValueError(f"{where}: select_cols has {len(self._select)} columns, record_defaults "
                             f"{len(self._columns)}; give one default per selected column")
        self._filenames, self._compression, self._header = filenames, compression_type, bool(header)
        self._delim, self._quote, self._na = field_delim, bool(use_quote_delim), na_value
        self._ignore, self._encoding = bool(ignore_errors), encoding
        if not isinstance(filenames, Dataset):
            file_names(filenames, where)

    def _indices(self, cols: Any, what: str) -> list[int]:
        cols = [int(c) for c in np.asarray(cols).ravel()]
        if any(b <= a for a, b in itertools.pairwise(cols)) or (cols and cols[0] < 0):
            raise ValueError(f"{self._where}: {what} must be increasing non-negative column indices, got {cols}")
        return cols

    def _element_spec(self) -> Any:
        return tuple(TensorSpec((), dtype) for dtype, _ in self._columns)

    def _picked(self, width: int) -> list[int]:
        if self._select is not None:
            return self._select
        if self._exclude is not None:
            return [i for i in range(width) if i not in self._exclude]
        return list(range(width))

    def _read(self) -> list[np.ndarray]:
        where, n_cols = self._where, len(self._columns)
        fields: list[list[str]] = [[] for _ in range(n_cols)]
        for path in file_names(self._filenames, where):
            text = read_bytes(path, self._compression, where).decode(self._encoding)
            rows = csv_rows(text, self._delim, self._quote)
            if self._header:
                next(rows, None)
            for number, row in enumerate(rows, 2 if self._header else 1):
                if not row:
                    continue
                picked = self._picked(len(row))
                if len(picked) != n_cols or picked[-1] >= len(row) or (
                        self._select is None and self._exclude is None and len(row) != n_cols):
                    if self._ignore:
                        continue
                    raise ValueError(f"{where}: {path} line {number} has {len(row)} fields; record_defaults "
                                     f"expects {n_cols}" + (" selected" if self._select or self._exclude else ""))
                for column, index in zip(fields, picked):
                    column.append(row[index])
        bad: set[int] | None = set() if self._ignore else None
        arrays = [parse_column(values, dtype, default, self._na, f"column {k}", where, bad)
                  for k, (values, (dtype, default)) in enumerate(zip(fields, self._columns))]
        if bad:
            keep = np.setdiff1d(np.arange(len(arrays[0])), np.fromiter(bad, dtype=np.int64))
            arrays = [a[keep] for a in arrays]
        return arrays

    def _slices(self) -> Slices:
        arrays = self._read()
        n = len(arrays[0])
        return Slices(arrays, tuple, lambda: iter((range(n),)))


class CsvDataset(CsvReader):
    """tf.data.experimental.CsvDataset: the records of CSV files as tuples of scalar tensors, one per column.

    record_defaults: per column a dtype (float32, float64, int32, int64 or string: a required column) or a
    default value for empty fields; select_cols / exclude_cols: which columns to parse (increasing indices).
    """

    def __init__(self, filenames: Any, record_defaults: Any, compression_type: str | None = None,
                 buffer_size: int | None = None, header: bool = False, field_delim: str = ",",
                 use_quote_delim: bool = True, na_value: str = "", select_cols: Any = None,
                 exclude_cols: Any = None) -> None:
        super().__init__(filenames, record_defaults, compression_type, header, field_delim, use_quote_delim,
                         na_value, select_cols, exclude_cols)

