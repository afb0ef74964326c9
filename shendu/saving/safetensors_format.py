"""The safetensors file format, written and read with NumPy alone; the `safetensors` package does it when installed.

Layout: an 8-byte little-endian u64 N; N bytes of JSON header, padded with spaces to a multiple of 8,
mapping each name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (plus an optional
"__metadata__" of string -> string); then the tensors' little-endian C-order bytes back to back, the offsets
counting from the end of the header. Both writers give files that both readers read; no pickle anywhere.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from shendu.saving.file_utils import ModelFileError, atomic_write

try:
    import safetensors.numpy as _st
except ImportError:
    _st = None

MAX_HEADER_SIZE = 100_000_000  # bytes; the limit the safetensors library itself enforces
METADATA = "__metadata__"
DTYPES: dict[str, np.dtype] = {
    code: np.dtype(spec) for code, spec in (
        ("F64", "<f8"), ("F32", "<f4"), ("F16", "<f2"), ("I64", "<i8"), ("I32", "<i4"), ("I16", "<i2"),
        ("I8", "i1"), ("U64", "<u8"), ("U32", "<u4"), ("U16", "<u2"), ("U8", "u1"), ("BOOL", "?"),
    )
}
_CODES = {dtype.str: code for code, dtype in DTYPES.items()}

Entry = tuple[np.dtype, tuple[int, ...], int, int]  # dtype, shape, begin, end


def save(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """The safetensors bytes of a name -> array dict and optional string metadata."""
    arrays = _prepare(tensors)
    metadata = _check_metadata(metadata)
    if _st is None:
        return numpy_save(arrays, metadata)
    return _st.save(arrays, metadata=metadata)


def load(data: bytes, source: str) -> dict[str, np.ndarray]:
    """The tensors held in safetensors bytes; a malformed file raises ModelFileError naming `source`."""
    if _st is None:
        return numpy_load(data, source)
    try:
        return _st.load(data)
    except Exception as err:
        raise ModelFileError(f"{source} is corrupted or truncated: cannot read its tensors ({err})") from None


def load_metadata(data: bytes, source: str) -> dict[str, str]:
    """The "__metadata__" strings of safetensors bytes ({} when there are none), after checking the header."""
    return read_header(data, source)[1]


def save_file(tensors: Mapping[str, Any], path: str | os.PathLike[str],
              metadata: Mapping[str, str] | None = None) -> None:
    """Write a safetensors file atomically (a temporary file renamed over `path`)."""
    blob = save(tensors, metadata)
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(blob)


def load_file(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        return load(f.read(), path)


def numpy_save(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """The NumPy writer: widest dtypes first (then by name), so every tensor starts on a multiple of its size."""
    arrays = _prepare(tensors)
    metadata = _check_metadata(metadata)
    header: dict[str, Any] = {METADATA: metadata} if metadata else {}
    chunks, offset = [], 0
    for name in sorted(arrays, key=lambda k: (-arrays[k].itemsize, k)):
        arr = arrays[name]
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _CODES[arr.dtype.newbyteorder("<").str], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def numpy_load(data: bytes, source: str) -> dict[str, np.ndarray]:
    """The NumPy reader: every tensor copied out of `data` into a writable array of native byte order."""
    entries, _, start = read_header(data, source)
    out = {}
    for name, (dtype, shape, begin, end) in entries.items():
        flat = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=start + begin)
        out[name] = flat.astype(dtype.newbyteorder("=")).reshape(shape)
    return out


def read_header(data: bytes, source: str) -> tuple[dict[str, Entry], dict[str, str], int]:
    """The checked header: each tensor's entry, the metadata, and where the tensor bytes start.

    Refuses (ModelFileError naming `source`) a header longer than the file or MAX_HEADER_SIZE, JSON that is not
    an object, unknown dtypes, and offsets that overlap, leave gaps, overrun the file or disagree with the shape.
    """
    size = header_length(data[:8], len(data), source)
    entries, metadata = parse_header(data[8:8 + size], len(data) - 8 - size, source)
    return entries, metadata, 8 + size


def header_length(prefix: bytes, total: int, source: str) -> int:
    """The header length N read from the first 8 bytes of a safetensors file of `total` bytes, checked."""
    if len(prefix) < 8 or total < 8:
        raise _corrupted(source, f"{total} bytes is shorter than the 8-byte header length of a safetensors file")
    (size,) = struct.unpack_from("<Q", prefix)
    if size > min(MAX_HEADER_SIZE, total - 8):
        raise _corrupted(source, f"its header length {size} exceeds the file ({total} bytes) or the limit "
                                 f"{MAX_HEADER_SIZE}")
    return size


def parse_header(text: bytes, available: int, source: str) -> tuple[dict[str, Entry], dict[str, str]]:
    """The entries and metadata of the header JSON `text`, checked against the `available` bytes after it."""
    try:
        header = json.loads(bytes(text).decode("utf-8"), object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as err:
        raise _corrupted(source, f"its header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise _corrupted(source, f"its header is a JSON {type(header).__name__}, not an object")
    metadata = header.pop(METADATA, None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _corrupted(source, f"its {METADATA} is not a map of strings to strings")
    entries = {}
    for name, info in header.items():
        try:
            entries[name] = _entry(info)
        except ValueError as err:
            raise _corrupted(source, f"tensor '{name}': {err}") from None
    position = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin != position:
            raise _corrupted(source, f"tensor '{name}' starts at byte {begin}, expected {position} "
                                     "(offsets must be contiguous)")
        position = end
    if position != available:
        raise _corrupted(source, f"the tensors take {position} bytes but {available} follow the header")
    return entries, metadata


def _corrupted(source: str, reason: str) -> ModelFileError:
    return ModelFileError(f"{source} is corrupted or truncated: {reason}")


def _entry(info: Any) -> Entry:
    """One header entry checked: a known dtype, a shape of non-negative ints, offsets spanning shape * itemsize."""
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise ValueError(f"expected {{'dtype', 'shape', 'data_offsets'}}, got {info!r}")
    dtype = DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if dtype is None:
        raise ValueError(f"unknown dtype {info['dtype']!r} (known: {sorted(DTYPES)})")
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise ValueError(f"shape {shape!r} is not a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(n) for n in offsets):
        raise ValueError(f"data_offsets {offsets!r} is not a pair of non-negative integers")
    begin, end = offsets
    if end - begin != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"data_offsets {offsets} span {end - begin} bytes, but shape {shape} of {info['dtype']} "
                         f"needs {math.prod(shape) * dtype.itemsize}")
    return dtype, tuple(shape), begin, end


def _is_count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a name appears twice")
    return out


def _prepare(tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Name -> C-contiguous array, refusing what safetensors cannot hold (0-d arrays stay 0-d)."""
    out = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == METADATA:
            raise ValueError(f"safetensors: a tensor name must be a string other than {METADATA!r}, got {name!r}")
        arr = np.asarray(value)
        if arr.dtype.newbyteorder("<").str not in _CODES:
            raise ValueError(f"safetensors: tensor '{name}' has dtype {arr.dtype}, not one of "
                             f"{sorted(str(d) for d in DTYPES.values())}")
        out[name] = arr if arr.flags.c_contiguous else arr.copy()
    return out


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"safetensors: metadata must map strings to strings, got {dict(metadata)!r}")
    return dict(metadata)
