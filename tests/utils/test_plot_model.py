"""keras.utils.plot_model / model_to_dot: the DOT graph of a model (nodes, edges, labels) through pydot, the files
written, and the one-line errors when pydot or Graphviz is missing."""

import shutil
import sys

import pytest

import shendu as sd
from shendu.keras import layers
from shendu.keras.utils import model_to_dot, plot_model


def branched_model():
    """input -> a (relu) and b; concat(a, b) -> out: a functional model with a branch."""
    inputs = sd.keras.Input((4,), name="x")
    a = layers.Dense(3, activation="relu", name="a")(inputs)
    b = layers.Dense(2, name="b")(inputs)
    joined = layers.Concatenate(name="joined")([a, b])
    return sd.keras.Model(inputs, layers.Dense(1, name="out")(joined), name="branched")


def graph(dot):
    """({node id: layer name}, {(source name, destination name)}) of a pydot graph and its clusters."""
    names = {}
    for node in dot.get_nodes() + [n for sub in dot.get_subgraphs() for n in sub.get_nodes()]:
        label = node.get_label() or ""
        if "<b>" in label:
            names[node.get_name()] = label.split("<b>", 1)[1].split("</b>", 1)[0]
    edges = {(names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges()}
    return names, edges


def test_functional_model_with_a_branch_gives_a_node_per_layer_and_an_edge_per_connection(pydot):
    dot = model_to_dot(branched_model())
    names, edges = graph(dot)
    assert sorted(names.values()) == ["a", "b", "joined", "out", "x"]
    assert edges == {("x", "a"), ("x", "b"), ("a", "joined"), ("b", "joined"), ("joined", "out")}
    source = dot.to_string()
    assert source.startswith("digraph") and "rankdir=TB" in source and "dpi=200" in source
    assert "<b>joined</b> (Concatenate)" in source and "<b>x</b> (InputLayer)" in source
    assert "Output shape" not in source and "Activation" not in source


def test_labels_show_shapes_dtype_activation_and_trainable_on_request(pydot):
    model = branched_model()
    model.get_layer("b").trainable = False
    dot = model_to_dot(model, show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True,
                       rankdir="LR", dpi=96)
    labels = {name: next(n.get_label() for n in dot.get_nodes() if n.get_name() == node_id)
              for node_id, name in graph(dot)[0].items()}
    assert "Input shape: <b>(None, 4)</b>" in labels["a"] and "Output shape: <b>(None, 3)</b>" in labels["a"]
    assert "Input shape: <b>[(None, 3), (None, 2)]</b>" in labels["joined"]
    assert "Input shape" not in labels["x"] and "Output shape: <b>(None, 4)</b>" in labels["x"]
    assert "Activation: <b>relu</b>" in labels["a"] and "Output dtype: <b>float32</b>" in labels["out"]
    assert "<b>Trainable</b>" in labels["a"] and "<b>Non-trainable</b>" in labels["b"]
    assert "Trainable" not in labels["joined"]  # no weights
    assert "rankdir=LR" in dot.to_string() and "dpi=96" in dot.to_string()
    unnamed = model_to_dot(model, show_layer_names=False).to_string()
    assert "<b>Dense</b>" in unnamed and "<b>a</b>" not in unnamed


def test_sequential_is_a_chain_and_nested_models_expand_into_clusters(pydot):
    seq = sd.keras.Sequential([layers.Dense(3, name="h"), layers.Dense(1, name="y")], name="tower")
    seq.build((None, 2))
    names, edges = graph(model_to_dot(seq))
    assert sorted(names.values()) == ["h", "y"] and edges == {("h", "y")}
    inputs = sd.keras.Input((2,), name="in")
    outer = sd.keras.Model(inputs, layers.Dense(1, name="head")(seq(inputs)))
    names, edges = graph(model_to_dot(outer))
    assert edges == {("in", "tower"), ("tower", "head")}
    dot = model_to_dot(outer, expand_nested=True)
    cluster = dot.get_subgraphs()[0]
    assert cluster.get_name() == "cluster_tower" and cluster.get("style") == "dashed"
    names, edges = graph(dot)
    assert sorted(graph(cluster)[0].values()) == ["h", "y"] and graph(cluster)[1] == {("h", "y")}
    assert sorted(names.values()) == ["h", "head", "in", "y"]
    assert edges == {("in", "h"), ("y", "head")}


def test_plot_model_writes_the_dot_source_without_graphviz(pydot, tmp_path):
    assert plot_model(branched_model(), to_file=tmp_path / "model.dot", show_shapes=True) is None
    text = (tmp_path / "model.dot").read_text()
    assert text.startswith("digraph") and "(Concatenate)" in text and "Output shape" in text


def test_missing_graphviz_is_one_line_saying_what_to_install(pydot, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` program to be found
    with pytest.raises(ImportError) as caught:
        plot_model(branched_model(), to_file=tmp_path / "model.png")
    message = str(caught.value)
    assert "\n" not in message and "Graphviz" in message and "apt install graphviz" in message
    assert not (tmp_path / "model.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_plot_model_renders_a_png_with_graphviz(pydot, tmp_path):
    plot_model(branched_model(), to_file=tmp_path / "model.png", show_shapes=True, dpi=50)
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_pydot_is_one_line_saying_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match=r"^plot_model needs pydot to draw the model: pip install pydot"):
        plot_model(branched_model(), to_file=tmp_path / "model.png")
    with pytest.raises(ImportError, match=r"^model_to_dot needs pydot"):
        model_to_dot(branched_model())


def test_unbuilt_and_subclassed_models(pydot):
    with pytest.raises(ValueError, match="has not yet been built"):
        model_to_dot(sd.keras.Sequential([layers.Dense(2)]))

    class Tiny(sd.keras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model.build((None, 3))
    names, edges = graph(model_to_dot(model))
    assert list(names.values()) == ["tiny"] and edges == set()
