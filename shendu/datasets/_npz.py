"""Reading .npz files whose ragged sequences are object arrays (imdb, reuters): numeric members with pickle off,
object members through an unpickler that may build NumPy arrays and plain lists and nothing else.

NumPy can store a ragged array only as a pickle stream. Rebuilding one needs three globals (numpy.ndarray,
numpy.dtype and multiarray._reconstruct); any other global (os.system, builtins.eval, ...) is refused, so a tampered
file cannot run code. A member that declares far more bytes than it stores is refused as a decompression bomb.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

from shendu.datasets._fetch import READ_ERRORS, InvalidDatasetFileError, Located, corrupted

ALLOWED_GLOBALS = frozenset({("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                             ("numpy._core.multiarray", "_reconstruct")})
BOMB_FLOOR_BYTES = 1 << 30  # a member declaring more than this ...
MAX_EXPANSION = 100  # ... and more than this many times its stored size is refused


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}: a dataset file holds only "
                                     "arrays and lists (the file is corrupted or malicious)")


def _read_member(path: str, name: str, raw: io.BytesIO) -> np.ndarray:
    """One .npy stream: with pickle disabled, or for an object array through _ArraysOnlyUnpickler."""
    version = np.lib.format.read_magic(raw)
    header = np.lib.format.read_array_header_1_0 if version[0] == 1 else np.lib.format.read_array_header_2_0
    _, _, dtype = header(raw)
    raw.seek(0)
    if not dtype.hasobject:
        return np.lib.format.read_array(raw, allow_pickle=False)
    np.lib.format.read_magic(raw)
    header(raw)
    array = _ArraysOnlyUnpickler(raw).load()
    if not isinstance(array, np.ndarray):
        raise InvalidDatasetFileError(f"{path}: member {name} holds a {type(array).__name__}, not an array")
    return array


def load_npz(located: Located) -> dict[str, np.ndarray]:
    """Every array of an .npz file by name (member name without .npy); InvalidDatasetFileError if it is damaged."""
    arrays = {}
    try:
        with zipfile.ZipFile(located.path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                if info.file_size > BOMB_FLOOR_BYTES and info.file_size > MAX_EXPANSION * info.compress_size:
                    raise InvalidDatasetFileError(
                        f"{located.path}: member {info.filename} declares {info.file_size} bytes but stores only "
                        f"{info.compress_size}: refused as a decompression bomb")
                with archive.open(info) as member:
                    arrays[info.filename[:-4]] = _read_member(located.path, info.filename, io.BytesIO(member.read()))
    except InvalidDatasetFileError:
        raise
    except (pickle.UnpicklingError, TypeError, AttributeError, IndexError, *READ_ERRORS) as error:
        raise corrupted(located.path, ".npz file", error) from error
    return arrays
