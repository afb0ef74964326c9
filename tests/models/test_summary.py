"""model.summary(): Keras's table, parameter counts and memory sizes."""

import io
from contextlib import redirect_stdout

from shendu import layers
from shendu.models import Model, Sequential
from shendu.models.summary import readable_memory_size


def _lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_mnist_mlp_table_matches_keras():
    model = Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                        layers.Dense(10, activation="softmax")], name="mnist")
    lines = _lines(model)
    assert lines[0] == 'Model: "mnist"'
    header = lines[2]
    assert header.index("Layer (type)") < header.index("Output Shape") < header.index("Param #")
    rows = lines[4:7]
    assert rows[0].split() == [model.layers[0].name, "(Flatten)", "(None,", "784)", "0"]
    assert rows[1].split()[-3:] == ["(None,", "128)", "100,480"]
    assert rows[2].split()[-3:] == ["(None,", "10)", "1,290"]
    assert "Total params: 101,770 (397.54 KB)" in lines
    assert "Trainable params: 101,770 (397.54 KB)" in lines
    assert "Non-trainable params: 0 (0.00 B)" in lines
    assert all(len(line) <= 65 for line in lines)


def test_summary_prints_to_stdout_by_default():
    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    assert "Total params: 8 (32.00 B)" in out.getvalue()


def test_functional_summary_has_inputs_and_connections():
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    out = layers.Dense(1, name="head")(layers.concatenate([a, b], name="joined"))
    lines = _lines(Model([a, b], out, name="pair"))
    text = "\n".join(lines)
    assert "Connected to" in lines[2]
    assert "a (InputLayer)" in text and "joined (Concatenate)" in text
    joined = next(line for line in lines if line.startswith(" joined"))
    assert "a[0][0], b[0][0]" in joined
    assert "Total params: 9 (36.00 B)" in text


def test_unbuilt_and_non_trainable():
    lazy = Sequential([layers.Dense(3)])
    assert any("0 (unbuilt)" in line for line in _lines(lazy))
    model = Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    model.layers[0].trainable = False
    lines = _lines(model, show_trainable=True)
    assert "Trainable params: 3 (12.00 B)" in lines and "Non-trainable params: 8 (32.00 B)" in lines
    assert lines[4].rstrip().endswith("N") and lines[5].rstrip().endswith("Y")


def test_optimizer_params_after_training():
    import numpy as np

    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert any(line.startswith("Optimizer params: ") for line in _lines(model))


def test_readable_memory_size():
    assert readable_memory_size(0) == "0.00 B"
    assert readable_memory_size(437544) == "427.29 KB"
    assert readable_memory_size(3 * 1024 ** 2) == "3.00 MB"
