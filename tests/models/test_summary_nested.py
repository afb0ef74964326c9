"""model.summary(expand_nested=True, show_trainable=True): nested models' layers indented under their parent
('   ' per level and '└ ', as Keras 3 prints them) and the Trainable column (Y, N, or '-' without weights)."""

from shendu import layers
from shendu.models import Model, Sequential


def _lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def _frozen_base_model():
    base = Sequential([layers.Input((8,)), layers.Dense(4, name="d1"), layers.Dropout(0.1, name="drop")], name="base")
    base.layers[0].trainable = False
    inputs = layers.Input((8,), name="x")
    return Model(inputs, layers.Dense(1, name="head")(base(inputs)), name="outer")


def test_expand_nested_lists_the_inner_layers_indented_under_their_model():
    lines = _lines(_frozen_base_model(), expand_nested=True)
    rows = lines[4:lines.index(lines[3], 4)]
    assert [r.split("(")[0].rstrip() for r in rows] == [" x", " base", "    └ d1", "    └ drop", " head"]
    assert rows[2].split()[-3:] == ["(None,", "4)", "36"] and rows[3].split()[-3:] == ["(None,", "4)", "0"]
    assert "Total params: 41 (164.00 B)" in lines and "Non-trainable params: 36 (144.00 B)" in lines


def test_without_expand_nested_the_inner_layers_are_not_listed():
    text = "\n".join(_lines(_frozen_base_model()))
    assert "base (Sequential)" in text and "d1" not in text and "└" not in text


def test_show_trainable_adds_a_column_of_y_n_and_dash():
    lines = _lines(_frozen_base_model(), expand_nested=True, show_trainable=True)
    header = lines[2]
    assert header.split()[-1] == "Trainable" and len(lines[1]) == len(header.rstrip()) + 1
    rows = lines[4:9]
    assert [r.split()[-1] for r in rows] == ["-", "Y", "N", "-", "Y"]
    column = header.index("Trainable")
    assert [r[column:].rstrip() for r in rows] == list("-YN-Y")  # each flag under the header, the last field


def test_nested_levels_and_connections_in_a_functional_table():
    inner = _frozen_base_model()
    a, b = layers.Input((8,), name="a"), layers.Input((8,), name="b")
    model = Model([a, b], layers.Add(name="add")([inner(a), inner(b)]), name="two")
    lines = _lines(model, expand_nested=True, show_trainable=True)
    names = [line.split(" (")[0] for line in lines[4:14]]
    assert names == [" a", " b", " outer", "    └ x", "    └ base", "       └ d1", "       └ drop", "    └ head",
                     " outer", " add"]
    d1 = lines[9]
    assert d1.split()[-3:] == ["36", "-", "N"]  # no connections of its own; frozen
    second_call = lines[12]
    assert second_call.split()[-3:] == ["0", "b[0][0]", "Y"]  # the second call of 'outer' is not expanded again
    assert "outer[0][0], outer[1][0]" in lines[13]
