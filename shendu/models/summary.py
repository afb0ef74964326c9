"""`model.summary()`: Keras's table of layers (name and type, output shape, parameters) and the totals.

Totals are given with their size in memory as Keras 3 prints them: "Total params: 101,770 (397.54 KB)".
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np


def readable_memory_size(n_bytes: float) -> str:
    """Bytes as '397.54 KB' (powers of 1024, two decimals), Keras's format."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024 or unit == "TB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _count(variables: list[Any]) -> tuple[int, int]:
    """(number of values, bytes) of these weights or arrays."""
    size = sum(int(np.prod(np.shape(v))) for v in variables)
    nbytes = sum(int(np.prod(np.shape(v))) * np.dtype(getattr(v, "dtype", np.float32)).itemsize for v in variables)
    return size, nbytes


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_format_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _output_shape(layer: Any) -> Any:
    try:
        return layer.output_shape
    except (AttributeError, ValueError):
        return None


def _params(layer: Any) -> str:
    if not layer.built:
        return "0 (unbuilt)"
    count = f"{_count(_unique(layer.weights))[0]:,}"
    sparsity = getattr(layer, "summary_sparsity", None)  # a pruned layer (shendu.compression) shows its zeros
    return count if sparsity is None else f"{count} ({sparsity:.1%} sparse)"


def _unique(variables: list[Any]) -> list[Any]:
    seen: set[int] = set()
    return [v for v in variables if not (id(v) in seen or seen.add(id(v)))]


def _rows(model: Any, connected: bool) -> list[tuple[Any, list[str]]]:
    """(layer, [name (type), output shape, params(, connected to)]) for each layer call of the model."""
    from shendu.models.sequential import Sequential

    if isinstance(model, Sequential):
        return [(layer, [f"{layer.name} ({type(layer).__name__})", _format_shape(shape), _params(layer)])
                for layer, shape in zip(model.layers, model.layer_output_shapes())]
    graph = model._graph
    if graph is None:
        return [(layer, [f"{layer.name} ({type(layer).__name__})", _format_shape(_output_shape(layer)),
                         _params(layer)]) for layer in model.layers]
    node_index: dict[int, int] = {}
    counts: dict[int, int] = {}
    for node in graph.nodes:
        node_index[id(node)] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = node_index[id(node)] + 1
    rows = []
    for node in graph.nodes:
        layer = node.layer
        shapes = node.outputs[0].shape if len(node.outputs) == 1 else [t.shape for t in node.outputs]
        first = node_index[id(node)] == 0
        row = [f"{layer.name} ({type(layer).__name__})", _format_shape(shapes), _params(layer) if first else "0"]
        if connected:
            inbound = [t for t in node.input_tensors if hasattr(t, "node")]
            row.append(", ".join(f"{t.node.layer.name}[{node_index[id(t.node)]}][{t.index}]" for t in inbound) or "-")
        rows.append((layer, row))
    return rows


def _trainable_flag(layer: Any) -> str:
    """Keras 3's Trainable column: Y or N for a layer with weights, '-' for one without."""
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def _expand(rows: list[tuple[Any, list[str]]], connected: bool, expand_nested: bool, show_trainable: bool,
            level: int = 0) -> list[list[str]]:
    """The table's rows: with expand_nested, a nested model's layers follow its first row, indented as
    Keras 3 does ('   ' per level and '└ '), with no connections of their own; with show_trainable, the flag."""
    from shendu.models.model import Model

    out = []
    expanded: set[int] = set()
    for layer, row in rows:
        if level:
            row = ["   " * level + "└ " + row[0], *row[1:], *(["-"] if connected else [])]
        out.append([*row, _trainable_flag(layer)] if show_trainable else row)
        if expand_nested and isinstance(layer, Model) and layer.layers and id(layer) not in expanded:
            expanded.add(id(layer))
            out.extend(_expand(_rows(layer, False), connected, expand_nested, show_trainable, level + 1))
    return out


def _is_sequential_like(model: Any) -> bool:
    graph = model._graph
    if graph is None:
        return True
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return False
    consumers: dict[int, int] = {}
    for node in graph.nodes:
        tensors = node.input_tensors
        if len(tensors) > 1:
            return False
        for t in tensors:
            consumers[id(t)] = consumers.get(id(t), 0) + 1
    return all(n <= 1 for n in consumers.values())


def _wrap(text: str, width: int | None) -> list[str]:
    """The text in lines of at most width characters, broken at spaces where possible (None: one line)."""
    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, max(width, 4)) or [""]


def print_summary(model: Any, line_length: int | None = None, positions: list[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> None:
    """Print (or pass to print_fn line by line) the summary table of a model."""
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    headers = ["Layer (type)", "Output Shape", "Param #"]
    if not sequential_like:
        headers.append("Connected to")
    line_length = line_length or (65 if sequential_like else 98)
    if positions is None:
        positions = [0.45, 0.85, 1.0] if sequential_like else [0.33, 0.55, 0.67, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    top = _rows(model, not sequential_like)
    if layer_range is not None:
        names = [layer.name for layer, _ in top]
        start, end = (names.index(n) for n in layer_range)
        top = top[start:end + 1]
    rows = _expand(top, not sequential_like, expand_nested, show_trainable)
    if show_trainable:
        headers.append("Trainable")
        positions = [*positions, positions[-1] + 11]
        line_length = positions[-1]

    def emit(fields: list[str]) -> None:
        starts = [0, *positions[:-1]]
        widths = [end - start - 1 for start, end in zip(starts, positions)]
        widths[-1] = None
        cells = [_wrap(f, w) for f, w in zip(fields, widths)]
        for i in range(max(len(c) for c in cells)):
            line = ""
            for cell, end in zip(cells, positions):
                line += " " + (cell[i] if i < len(cell) else "")
                line = line.ljust(end)
            print_fn(line.rstrip())

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    emit(headers)
    print_fn("=" * line_length)
    for row in rows:
        emit(row)
    print_fn("=" * line_length)
    weights = _unique(model.weights)
    trainable = {id(v) for v in model.trainable_weights}
    total = _count(weights)
    train = _count([v for v in weights if id(v) in trainable])
    frozen = _count([v for v in weights if id(v) not in trainable])
    print_fn(f"Total params: {total[0]:,} ({readable_memory_size(total[1])})")
    print_fn(f"Trainable params: {train[0]:,} ({readable_memory_size(train[1])})")
    print_fn(f"Non-trainable params: {frozen[0]:,} ({readable_memory_size(frozen[1])})")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        state = list(optimizer.get_state().values())
        if state:
            size, nbytes = _count(state)
            print_fn(f"Optimizer params: {size:,} ({readable_memory_size(nbytes)})")
    print_fn("_" * line_length)
