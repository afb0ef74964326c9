"""tf.data.experimental.make_csv_dataset: CSV files as batches of (dict of column tensors, label tensor), with the
column names from the header and the column types inferred from the first rows, as TensorFlow does."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from typing import Any

import numpy as np

from shendu.data.dataset import AUTOTUNE, Dataset
from shendu.data.readers import CsvReader, csv_rows, read_bytes
from shendu.data.sources import TensorSliceDataset
from shendu.data.structure import as_bytes_array

_WHERE = "make_csv_dataset"
# TensorFlow's inference ladder: the least permissive type every non-empty field of a column fits
_LADDER = (np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.float32), np.dtype(np.float64), np.dtype(object))


def _fits(text: str, dtype: np.dtype) -> bool:
    if dtype.kind == "O":
        return True
    try:
        if dtype.kind == "i":
            value = int(text)
            info = np.iinfo(dtype)
            return info.min <= value <= info.max
        return bool(abs(float(text)) < np.finfo(dtype).max or np.isnan(float(text)))
    except (ValueError, OverflowError):
        return False


def _infer_type(text: str, na_value: str, previous: np.dtype | None) -> np.dtype | None:
    if text in ("", na_value):
        return previous
    start = 0 if previous is None else _LADDER.index(previous)
    return next(t for t in _LADDER[start:] if _fits(text, t))


def _glob(file_pattern: Any, shuffle: bool) -> list[str]:
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    names = [name for p in patterns for name in sorted(glob.glob(str(p)))]
    if not names:
        raise ValueError(f"{_WHERE}: no files match file_pattern {file_pattern!r}")
    return names if shuffle else sorted(names)


def _rows(names: list[str], options: dict[str, Any], skip_header: bool) -> Iterator[list[str]]:
    """The non-empty rows of the files in turn (without each file's header row when skip_header)."""
    for name in names:
        text = read_bytes(name, options["compression_type"], _WHERE).decode(options["encoding"])
        rows = csv_rows(text, options["field_delim"], options["use_quote_delim"])
        if skip_header:
            next(rows, None)
        yield from (row for row in rows if row)


def _column_names(names: list[str], options: dict[str, Any]) -> list[str]:
    """The header row of the first file; every other file must have the same one."""
    headers = [next(_rows([name], options, False), None) for name in names]
    if headers[0] is None:
        raise ValueError(f"{_WHERE}: {names[0]} is empty: no header row to read the column names from")
    for name, header in zip(names[1:], headers[1:]):
        if header != headers[0]:
            raise ValueError(f"{_WHERE}: {name} has the header {header}, {names[0]} has {headers[0]}")
    return headers[0]


def _selected(select_columns: Any, column_names: list[str]) -> list[int]:
    index = {name: i for i, name in enumerate(column_names)}
    picked = []
    for c in select_columns:
        if isinstance(c, (int, np.integer)):
            if not 0 <= c < len(column_names):
                raise ValueError(f"{_WHERE}: column index {c} in select_columns is out of range")
            picked.append(int(c))
        elif c in index:
            picked.append(index[c])
        else:
            raise ValueError(f"{_WHERE}: {c!r} in select_columns is not a column (columns: {column_names})")
    if len(set(picked)) != len(picked):
        raise ValueError(f"{_WHERE}: select_columns names a column twice: {select_columns}")
    return sorted(picked)


def _inferred_defaults(names: list[str], width: int, picked: list[int], options: dict[str, Any],
                       num_rows: int | None) -> list[Any]:
    """Zero (or b'' for text) of the type inferred from the first num_rows rows (None: all rows)."""
    types: list[np.dtype | None] = [None] * len(picked)
    for count, row in enumerate(_rows(names, options, options["header"])):
        if num_rows is not None and count >= num_rows:
            break
        if len(row) != width:
            raise ValueError(f"{_WHERE}: a row has {len(row)} fields, the header {width}; cannot infer types")
        types = [_infer_type(row[c], options["na_value"], t) for c, t in zip(picked, types)]
    return [b"" if t is None or t.kind == "O" else t.type(0) for t in types]


def make_csv_dataset(file_pattern: Any, batch_size: int, column_names: list[str] | None = None,
                     column_defaults: list[Any] | None = None, label_name: str | None = None,
                     select_columns: list[Any] | None = None, field_delim: str = ",", use_quote_delim: bool = True,
                     na_value: str = "", header: bool = True, num_epochs: int | None = None, shuffle: bool = True,
                     shuffle_buffer_size: int = 10000, shuffle_seed: int | None = None,
                     prefetch_buffer_size: int | None = None, num_parallel_reads: int | None = None,
                     sloppy: bool = False, num_rows_for_inference: int | None = 100,
                     compression_type: str | None = None, ignore_errors: bool = False,
                     encoding: str = "utf-8") -> Dataset:
    """Batches of (dict of column tensors, label tensor) (the dict alone without label_name) from CSV files.

    Files are read in turn (shuffled when shuffle), rows shuffled through shuffle_buffer_size and repeated
    num_epochs times (None: forever, with full batches only).
    """
    options = {"compression_type": compression_type, "encoding": encoding, "field_delim": field_delim,
               "use_quote_delim": use_quote_delim, "na_value": na_value, "header": header}
    names = _glob(file_pattern, shuffle)
    if column_names is None:
        if not header:
            raise ValueError(f"{_WHERE}: without a header row (header=False) give column_names")
        column_names = _column_names(names, options)
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise ValueError(f"{_WHERE}: column names must be unique, got {column_names}")
    picked = list(range(len(column_names))) if select_columns is None else _selected(select_columns, column_names)
    if column_defaults is None:
        column_defaults = _inferred_defaults(names, len(column_names), picked, options, num_rows_for_inference)
    if len(column_defaults) != len(picked):
        raise ValueError(f"{_WHERE}: column_defaults has {len(column_defaults)} items for {len(picked)} columns")
    keys = [column_names[i] for i in picked]
    if label_name is not None and label_name not in keys:
        raise ValueError(f"{_WHERE}: label_name {label_name!r} is not one of the columns {keys}")

    def reader(files: Any) -> Dataset:
        return CsvReader(files, column_defaults, compression_type, header, field_delim, use_quote_delim, na_value,
                         None if select_columns is None else picked, None, ignore_errors, encoding, _WHERE)

    if shuffle and len(names) > 1:
        files = TensorSliceDataset(as_bytes_array(names, _WHERE)).shuffle(len(names), seed=shuffle_seed)
        dataset = files.flat_map(reader)
    else:
        dataset = reader(names)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)

    def to_features(*columns: Any) -> Any:
        features = dict(zip(keys, columns))
        return features if label_name is None else (features, features.pop(label_name))

    dataset = dataset.batch(batch_size, drop_remainder=num_epochs is None).map(to_features)
    return dataset.prefetch(AUTOTUNE if prefetch_buffer_size is None else prefetch_buffer_size)
