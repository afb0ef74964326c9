"""keras.utils.plot_model and model_to_dot: the layer graph of a model as a pydot graph and an image file.

As in Keras, pydot builds the DOT source (one node per layer, labelled with an HTML table; one edge per connection)
and Graphviz's `dot` program renders it. Both are optional: `pip install pydot` (or shendu[plot]) and the Graphviz
system package (apt install graphviz, brew install graphviz, ...). A .dot file is written without Graphviz.
"""

from __future__ import annotations

import html
import importlib
import os
from typing import Any

from shendu.layers.input_layer import InputLayer
from shendu.models.sequential import Sequential
from shendu.utils.tree import flatten

PYDOT_MISSING = "plot_model needs pydot to draw the model: pip install pydot (or pip install shendu[plot])"
GRAPHVIZ_MISSING = ("plot_model needs Graphviz's `dot` program to render {fmt}: install the Graphviz system package "
                    "(apt install graphviz, brew install graphviz, or https://graphviz.org/download/), "
                    "or save to a .dot file")
SOURCE_FORMATS = ("dot", "gv", "raw")


def _pydot(where: str = "model_to_dot") -> Any:
    try:
        return importlib.import_module("pydot")
    except ImportError:
        raise ImportError(PYDOT_MISSING.replace("plot_model", where)) from None


def _is_graph_model(layer: Any) -> bool:
    return isinstance(layer, Sequential) or getattr(layer, "_graph", None) is not None


def _format_shape(shape: Any) -> str:
    """(None, 3) for one shape, [(None, 3), (None, 2)] for a list, a: (None, 3) for a dict of them."""
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_format_shape(v)}" for k, v in shape.items())
    if isinstance(shape, list) and any(d is not None and not isinstance(d, int) for d in shape):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(None if d is None else int(d) for d in shape))


def _shape_text(get: Any) -> str:
    try:
        shape = get()
    except (AttributeError, ValueError):
        return "?"
    return "?" if shape is None else html.escape(_format_shape(shape))


def _activation_name(activation: Any) -> str:
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)


def layer_label(layer: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
                show_layer_activations: bool, show_trainable: bool) -> str:
    """Keras 3's HTML-table label of a layer's node: name (class), activation, shapes, dtype, trainable."""
    cls = type(layer).__name__
    cells = []
    if show_shapes:
        if not isinstance(layer, InputLayer):
            cells.append(f"Input shape: <b>{_shape_text(lambda: layer.input_shape)}</b>")
        cells.append(f"Output shape: <b>{_shape_text(lambda: layer.output_shape)}</b>")
    if show_dtype:
        try:
            dtype = ", ".join(str(t.dtype) for t in flatten(layer.output))
        except (AttributeError, ValueError):
            dtype = "?"
        cells.append(f"Output dtype: <b>{html.escape(dtype)}</b>")
    span = max(1, len(cells) + (1 if show_trainable and layer.weights else 0))
    title = f"<b>{html.escape(layer.name)}</b> ({cls})" if show_layer_names else f"<b>{cls}</b>"
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">Activation: '
                    f"<b>{html.escape(_activation_name(layer.activation))}</b></font></td></tr>")
    cols = [f'<td bgcolor="white"><font point-size="14">{c}</font></td>' for c in cells]
    if show_trainable and layer.weights:
        color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick", "Non-trainable")
        cols.append(f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>')
    if cols:
        rows.append(f"<tr>{''.join(cols)}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


def _first_box(layer: Any, input_index: int = 0) -> Any:
    """The box an edge into layer points at: inside an expanded model, its input layer or first layer."""
    while _is_graph_model(layer):
        if isinstance(layer, Sequential):
            layer = layer.layers[0]
        else:
            layer = layer._graph.inputs[min(input_index, len(layer._graph.inputs) - 1)].node.layer
    return layer


def _last_box(layer: Any, output_index: int = 0) -> Any:
    """The box an edge out of layer starts from: inside an expanded model, the layer making that output."""
    while _is_graph_model(layer):
        if isinstance(layer, Sequential):
            layer = layer.layers[-1]
        else:
            layer = layer._graph.outputs[min(output_index, len(layer._graph.outputs) - 1)].node.layer
    return layer


def _edges(model: Any) -> list[tuple[Any, int, Any, int]]:
    """(source layer, its output index, destination layer, input index) for each connection of the model."""
    if isinstance(model, Sequential):
        return [(a, 0, b, 0) for a, b in zip(model.layers, model.layers[1:])]
    edges = []
    for node in model._graph.nodes:
        for i, tensor in enumerate(node.input_tensors):
            edges.append((tensor.node.layer, tensor.index, node.layer, i))
    return edges


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> Any:
    """A pydot.Dot (or with subgraph a pydot.Cluster) with a node per layer and an edge per connection.

    A Sequential model is a chain of its layers, a functional model its layer graph (its Input layers included), a
    subclassed model one node. expand_nested draws nested models as dashed clusters of their own layers.
    """
    pydot = _pydot()
    if not model.built:
        raise ValueError(f"model_to_dot: model '{model.name}' has not yet been built. Build it first by calling "
                         "build() or by calling it on a batch of data.")
    if subgraph:
        dot = pydot.Cluster(graph_name=model.name, style="dashed", label=model.name, labeljust="l")
    else:
        dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, concentrate=True, dpi=dpi)
        dot.set_node_defaults(shape="record")
    label_options = {"show_shapes": show_shapes, "show_dtype": show_dtype, "show_layer_names": show_layer_names,
                     "show_layer_activations": show_layer_activations, "show_trainable": show_trainable}
    if not _is_graph_model(model):
        dot.add_node(_node(pydot, model, label_options))
        return dot
    layers = model.layers if isinstance(model, Sequential) else model._graph.layers
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            dot.add_subgraph(model_to_dot(layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                                          dpi, subgraph=True, show_layer_activations=show_layer_activations,
                                          show_trainable=show_trainable))
        else:
            dot.add_node(_node(pydot, layer, label_options))
    for source, out_index, destination, in_index in _edges(model):
        if expand_nested:
            source, destination = _last_box(source, out_index), _first_box(destination, in_index)
        src, dst = str(id(source)), str(id(destination))
        if not dot.get_edge(src, dst):
            dot.add_edge(pydot.Edge(src, dst, penwidth="2"))
    return dot


def _node(pydot: Any, layer: Any, label_options: dict[str, bool]) -> Any:
    return pydot.Node(str(id(layer)), label=layer_label(layer, **label_options), fontname="Helvetica", border="0",
                      margin="0")


def plot_model(model: Any, to_file: str | os.PathLike = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False) -> Any:
    """Draw the model's layer graph into to_file (format from its extension: png, svg, pdf, ... or dot for the
    source). Returns an IPython Image of it where IPython is installed (as Keras, for notebooks), else None."""
    _pydot("plot_model")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    to_file = os.fspath(to_file)
    fmt = os.path.splitext(to_file)[1][1:].lower() or "png"
    if fmt in SOURCE_FORMATS:
        dot.write(to_file, format="raw")
        return None
    try:
        dot.write(to_file, format=fmt)
    except FileNotFoundError as error:
        raise ImportError(GRAPHVIZ_MISSING.format(fmt=fmt)) from error
    if fmt in ("png", "jpg", "jpeg", "gif"):
        try:
            display = importlib.import_module("IPython.display")
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
