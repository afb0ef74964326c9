"""The search's JSON files (trial.json, oracle.json, tuner0.json): written atomically, read with a size bound."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from shendu.saving.file_utils import atomic_write

MAX_JSON_BYTES = 64 * 2**20  # a trial with thousands of epochs of metrics is a few hundred kilobytes


def save_json(path: str, obj: Any) -> None:
    """Write obj as JSON to path atomically (NaN and infinities written as null)."""
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(to_json_ready(obj), f, indent=2)


def load_json(path: str) -> dict[str, Any]:
    """The JSON object in path; ValueError naming the file when it is too large, corrupted or not an object."""
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise ValueError(f"shendu.tuner: {path} is {size} bytes, more than the {MAX_JSON_BYTES} a search file may be")
    with open(path, encoding="utf-8") as f:
        try:
            value = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"shendu.tuner: {path} is not valid JSON ({err}); delete it or pass "
                             "overwrite=True") from None
    if not isinstance(value, dict):
        raise ValueError(f"shendu.tuner: {path} holds a JSON {type(value).__name__}, expected an object")
    return value


def to_json_ready(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): to_json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json_ready(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalars
        return to_json_ready(obj.item())
    return obj
