"""The order Keras lists a functional model's layers in: deepest first (furthest from the outputs), layers at one
depth in the order a depth-first walk back from the outputs first meets them (Keras 3's `map_graph`).

`model.layers`, `model.weights` and `get_weights()` follow it, so a legacy Keras .h5 file (matched by order) and the
arrays of a Keras model's `get_weights()` fit a shendu model of the same architecture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def keras_layer_order(inputs: list[Any], outputs: list[Any], parents: Callable[[Any], list[Any]]) -> list[Any]:
    """The layers of the nodes from `inputs` to `outputs` (symbolic tensors with `.node.layer`), ordered as Keras
    orders them; parents(node) gives the tensors a node reads (empty for an Input). An input no output needs comes
    first among the layers of depth 0, as in Keras."""
    first_seen: dict[int, int] = {}  # id(layer) -> pre-order index of the walk from the outputs
    post_order: list[Any] = []  # nodes from the inputs to the outputs
    finished: set[int] = set()
    for out in outputs:
        stack = [(out.node, None)]
        while stack:
            node, it = stack.pop()
            if it is None:
                if id(node) in finished:
                    continue
                first_seen.setdefault(id(node.layer), len(first_seen))
                it = iter(parents(node))
            for t in it:
                if id(t.node) not in finished:
                    stack.append((node, it))
                    stack.append((t.node, None))
                    break
            else:
                if id(node) not in finished:
                    finished.add(id(node))
                    post_order.append(node)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Any] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for t in parents(node):
            node_depth[id(t.node)] = max(depth + 1, node_depth.get(id(t.node), 0))
    for t in inputs:
        if id(t.node.layer) not in layers:
            layers[id(t.node.layer)], layer_depth[id(t.node.layer)], first_seen[id(t.node.layer)] = t.node.layer, 0, -1
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))
