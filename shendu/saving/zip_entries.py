"""Bounded reading of the entries of a model zip: each entry's declared size is checked before it is inflated,
at most that many bytes ever come out, and entries nobody asks for are never read (no `testzip` pass).
"""

from __future__ import annotations

import zipfile
import zlib
from typing import IO

from shendu.saving import safetensors_format
from shendu.saving.file_utils import ModelFileError
from shendu.saving.safetensors_format import Entry

MAX_JSON_BYTES = 16 * 2**20  # config.json and metadata.json: real configs are kilobytes
_CHUNK = 2**20
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def open_archive(path: str) -> zipfile.ZipFile:
    """The zip at `path` (only its directory is read here), or ModelFileError."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise ModelFileError(f"{path} is corrupted or truncated ({err})") from None


def entry_size(zf: zipfile.ZipFile, name: str, path: str) -> int:
    """The declared (uncompressed) size of entry `name`; ModelFileError when the entry is missing."""
    try:
        return zf.getinfo(name).file_size
    except KeyError:
        raise ModelFileError(f"{path} is not a complete shendu model file: {name} is missing") from None


def read_entry(zf: zipfile.ZipFile, name: str, path: str, limit: int) -> bytes:
    """The bytes of entry `name`, refused before inflating when its declared size exceeds `limit`."""
    size = entry_size(zf, name, path)
    if size > limit:
        raise ModelFileError(f"{path}: {name} declares {size} bytes, more than the {limit} bytes it may hold")
    try:
        with zf.open(name) as f:
            return _read_exactly(f, size, name, path)
    except _READ_ERRORS as err:
        raise ModelFileError(f"{path} is corrupted: cannot read {name} ({type(err).__name__}: {err})") from None


def read_layout(zf: zipfile.ZipFile, name: str, path: str) -> dict[str, Entry]:
    """The checked safetensors header of entry `name`, read without inflating the tensors; its declared size
    must be the size the header implies."""
    size = entry_size(zf, name, path)
    source = f"{path}: {name}"
    try:
        with zf.open(name) as f:
            prefix = _read_exactly(f, min(8, size), name, path)
            length = safetensors_format.header_length(prefix, size, source)
            text = _read_exactly(f, length, name, path, size)
    except _READ_ERRORS as err:
        raise ModelFileError(f"{path} is corrupted: cannot read {name} ({type(err).__name__}: {err})") from None
    return safetensors_format.parse_header(text, size - 8 - length, source)[0]


def _read_exactly(f: IO[bytes], n: int, name: str, path: str, declared: int | None = None) -> bytes:
    """n bytes from an open entry, inflated a chunk at a time (never more than n come out)."""
    parts, left = [], n
    while left > 0:
        part = f.read(min(left, _CHUNK))
        if not part:
            raise ModelFileError(f"{path} is corrupted: {name} ends after {n - left} of the {declared or n} bytes "
                                 "it declares")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
