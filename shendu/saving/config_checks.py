"""The JSON entries of a model file checked before anything is built from them: UTF-8 JSON objects of bounded
depth, the format tag of `metadata.json`, and the shape of `config.json`. Every problem is a ModelFileError
naming the file, the entry and what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

from shendu.saving.file_utils import ModelFileError

FORMAT = "shendu.model/1"
MAX_DEPTH = 100  # nesting of JSON containers; a model nested in models in models stays far below it


def parse_json(raw: bytes, name: str, path: str) -> dict[str, Any]:
    """The JSON object held in entry `name`, or ModelFileError saying why it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{path}: {name} is not valid UTF-8 (byte {raw[err.start]:#04x} at position "
                             f"{err.start}); the file is corrupted") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: {name} is corrupted ({err})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: {name} nests deeper than this Python can parse (at most {MAX_DEPTH} "
                             "levels are allowed)") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: {name} holds a JSON {_kind(value)}, expected an object")
    if _depth(value) > MAX_DEPTH:
        raise ModelFileError(f"{path}: {name} nests more than the {MAX_DEPTH} levels allowed")
    return value


def check_metadata(metadata: dict[str, Any], path: str) -> None:
    """Refuse a file whose format tag is missing or names another format or version than FORMAT."""
    tag = metadata.get("format")
    if tag == FORMAT:
        return
    family, _, version = FORMAT.partition("/")
    if isinstance(tag, str) and tag.startswith(family + "/"):
        raise ModelFileError(f"{path} is in format {tag!r}, which this version of shendu cannot read: it reads "
                             f"{FORMAT!r} (version {version}); upgrade shendu to load it")
    raise ModelFileError(f"{path} is not a shendu model file: metadata.json has format {tag!r}, expected {FORMAT!r}")


def check_model_config(config: dict[str, Any], path: str, custom_objects: dict[str, Any] | None) -> None:
    """Refuse a config that cannot describe a model; give Lambda layers saved as code the function from
    `custom_objects` keyed by the layer's name (code in a model file is never executed)."""
    where = f"{path}: config.json"
    name = config.get("class_name")
    if not isinstance(name, str):
        raise ModelFileError(f"{where} has no 'class_name' string naming the model's class (got {name!r})")
    if not isinstance(config.get("config"), dict):
        raise ModelFileError(f"{where}: 'config' of {name} must be a JSON object, got {_kind(config.get('config'))}")
    if name == "Layer":
        raise ModelFileError(f"{where}: class_name 'Layer' is the abstract base class, not a model a file can hold")
    stack: list[Any] = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda" and isinstance(node.get("config"), dict):
                _check_lambda(node["config"], where, custom_objects)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_lambda(config: dict[str, Any], where: str, custom_objects: dict[str, Any] | None) -> None:
    function, layer = config.get("function"), config.get("name")
    if isinstance(function, str):
        return
    if isinstance(layer, str) and custom_objects and callable(custom_objects.get(layer)):
        config["function"] = layer
        return
    raise ModelFileError(
        f"{where}: Lambda layer '{layer}' stores its function as serialized Python code; code in a model file is "
        f"never executed. Define the function and pass it keyed by the layer's name: "
        f"load_model(..., custom_objects={{'{layer}': function}})"
    )


def _depth(value: Any) -> int:
    """The nesting depth of JSON containers, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")
