"""The safetensors format in NumPy: its byte layout, round trips, files the safetensors package reads and writes,
and malformed files refused with a ValueError naming the file."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

from shendu.saving import ModelFileError, safetensors_format
from shendu.saving.safetensors_format import load_metadata, numpy_load, numpy_save

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8",
          "bool"]


def _tensors():
    rng = np.random.default_rng(0)
    out = {f"t_{name}": (rng.normal(size=(3, 4)) * 50).astype(name) for name in DTYPES}
    out["scalar"] = np.array(2.5, "float32")
    out["empty"] = np.zeros((0, 3), "float32")
    out["layers/0/kernel"] = rng.normal(size=(2, 3, 5)).astype("float32")
    return out


def _header(blob: bytes) -> tuple[int, dict]:
    (size,) = struct.unpack("<Q", blob[:8])
    return size, json.loads(blob[8:8 + size])


def test_numpy_round_trip_keeps_every_dtype_shape_and_value():
    tensors = _tensors()
    loaded = numpy_load(numpy_save(tensors, {"format": "test"}), "mem")
    assert loaded.keys() == tensors.keys()
    for name, arr in tensors.items():
        assert loaded[name].dtype == arr.dtype and loaded[name].shape == arr.shape, name
        np.testing.assert_array_equal(loaded[name], arr)
        assert loaded[name].flags.writeable and loaded[name].flags.c_contiguous


def test_layout_is_length_header_padded_to_8_then_little_endian_c_order_bytes():
    w = np.arange(6, dtype="float32").reshape(2, 3)
    b = np.array([1, -2], "int64")
    blob = numpy_save({"w": w, "b": b}, {"k": "v"})
    text = (b'{"__metadata__":{"k":"v"},"b":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},'
            b'"w":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}}')
    padded = text + b" " * (-len(text) % 8)
    assert len(padded) % 8 == 0 and len(padded) > len(text)
    assert blob == struct.pack("<Q", len(padded)) + padded + struct.pack("<2q", 1, -2) + struct.pack("<6f", *range(6))


def test_non_contiguous_and_big_endian_inputs_are_written_as_little_endian_c_order():
    base = np.arange(12, dtype="float64").reshape(3, 4)
    tensors = {"t": base.T, "big": np.arange(5, dtype=">i4"), "step": base[:, ::2]}
    blob = numpy_save(tensors)
    size, header = _header(blob)
    start = 8 + size + header["big"]["data_offsets"][0]
    assert blob[start:start + 20] == struct.pack("<5i", *range(5))
    loaded = numpy_load(blob, "mem")
    for name, arr in tensors.items():
        np.testing.assert_array_equal(loaded[name], arr)
    assert loaded["big"].dtype == np.dtype("int32")


def test_save_refuses_what_safetensors_cannot_hold():
    with pytest.raises(ValueError, match="tensor 'z' has dtype complex64"):
        safetensors_format.save({"z": np.zeros(2, "complex64")})
    with pytest.raises(ValueError, match="metadata must map strings to strings"):
        safetensors_format.save({"a": np.zeros(2)}, {"n": 1})
    with pytest.raises(ValueError, match="tensor name"):
        numpy_save({"__metadata__": np.zeros(2)})


def test_file_round_trip_is_atomic_and_keeps_metadata(tmp_path):
    path = tmp_path / "w.safetensors"
    tensors = {"a": np.arange(4, dtype="float32")}
    safetensors_format.save_file(tensors, path, {"format": "x"})
    assert os.listdir(tmp_path) == ["w.safetensors"]
    np.testing.assert_array_equal(safetensors_format.load_file(path)["a"], tensors["a"])
    assert load_metadata(path.read_bytes(), str(path)) == {"format": "x"}
    assert load_metadata(numpy_save(tensors), "mem") == {}


def test_without_the_package_the_numpy_code_reads_and_writes(monkeypatch):
    monkeypatch.setattr(safetensors_format, "_st", None)
    tensors = _tensors()
    blob = safetensors_format.save(tensors, {"format": "x"})
    assert blob == numpy_save(tensors, {"format": "x"})
    loaded = safetensors_format.load(blob, "mem")
    for name, arr in tensors.items():
        np.testing.assert_array_equal(loaded[name], arr)
    with pytest.raises(ModelFileError, match=r"bad\.safetensors"):
        safetensors_format.load(blob[:-1], "bad.safetensors")


def test_our_files_load_in_the_safetensors_package(safetensors, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load, load_file

    tensors = _tensors()
    path = tmp_path / "ours.safetensors"
    path.write_bytes(numpy_save(tensors, {"format": "shendu", "note": "ünïcode"}))
    for theirs in (load_file(path), load(path.read_bytes())):
        assert theirs.keys() == tensors.keys()
        for name, arr in tensors.items():
            assert theirs[name].dtype == arr.dtype and theirs[name].shape == arr.shape, name
            np.testing.assert_array_equal(theirs[name], arr)
    with safe_open(path, framework="np") as f:
        assert f.metadata() == {"format": "shendu", "note": "ünïcode"}


def test_safetensors_package_files_load_in_ours(safetensors):
    from safetensors.numpy import save

    tensors = _tensors()
    blob = save(tensors, metadata={"format": "theirs"})
    ours = numpy_load(blob, "theirs.safetensors")
    assert ours.keys() == tensors.keys()
    for name, arr in tensors.items():
        assert ours[name].dtype == arr.dtype and ours[name].shape == arr.shape, name
        np.testing.assert_array_equal(ours[name], arr)
    assert load_metadata(blob, "theirs.safetensors") == {"format": "theirs"}


def _file(header: object, body: bytes = b"", size: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if size is None else size) + text + body


F32x2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}

BAD_FILES = {
    "shorter than the 8-byte": b"\x10\x00",
    "header length 4096 exceeds the file": _file({"a": F32x2}, bytes(8), size=4096),
    "not valid JSON": _file(b"{not json}   "),
    "a name appears twice": _file(b'{"a": {}, "a": {}}'),
    "JSON list, not an object": _file([1, 2]),
    "unknown dtype 'BF16'": _file({"a": {**F32x2, "dtype": "BF16"}}, bytes(4)),
    "expected {'dtype', 'shape', 'data_offsets'}": _file({"a": {"dtype": "F32"}}),
    "shape [-2] is not a list of non-negative": _file({"a": {**F32x2, "shape": [-2]}}, bytes(8)),
    "data_offsets [0, 8, 9] is not a pair": _file({"a": {**F32x2, "data_offsets": [0, 8, 9]}}, bytes(8)),
    "span 8 bytes, but shape [3] of F32 needs 12": _file({"a": {**F32x2, "shape": [3]}}, bytes(8)),
    "starts at byte 4, expected 8": _file({"a": F32x2, "b": {**F32x2, "data_offsets": [4, 12]}}, bytes(16)),
    "starts at byte 8, expected 0": _file({"a": {**F32x2, "data_offsets": [8, 16]}}, bytes(16)),
    "take 8 bytes but 12 follow": _file({"a": F32x2}, bytes(12)),
    "take 8 bytes but 4 follow": _file({"a": F32x2}, bytes(4)),
    "__metadata__ is not a map of strings": _file({"__metadata__": {"n": 1}}),
}


@pytest.mark.parametrize("reason", list(BAD_FILES))
def test_malformed_files_are_refused_naming_the_file(reason):
    with pytest.raises(ValueError, match=r"bad\.safetensors is corrupted or truncated") as err:
        numpy_load(BAD_FILES[reason], "bad.safetensors")
    assert reason in str(err.value)


def test_header_length_beyond_the_limit_is_refused_before_reading_it(monkeypatch):
    blob = numpy_save({"a": np.zeros(1000, "float32")})
    monkeypatch.setattr(safetensors_format, "MAX_HEADER_SIZE", 16)
    with pytest.raises(ModelFileError, match="or the limit 16"):
        numpy_load(blob, "big.safetensors")


def test_package_errors_are_reported_naming_the_file(safetensors):
    with pytest.raises(ModelFileError, match=r"bad\.safetensors is corrupted or truncated"):
        safetensors_format.load(BAD_FILES["take 8 bytes but 12 follow"], "bad.safetensors")
