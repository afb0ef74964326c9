"""shendu.utils.tree: flatten / pack_sequence_as round trips over nested lists, tuples, dicts and None leaves."""

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shendu.utils import tree

Pair = namedtuple("Pair", ["first", "second"])

leaves = st.one_of(st.none(), st.integers(), st.text(max_size=3))
structures = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.tuples(inner, inner).map(lambda t: Pair(*t)),
    ),
    max_leaves=12,
)


def test_flatten_orders_leaves_depth_first_with_dicts_in_insertion_order():
    value = {"b": [1, (2, None)], "a": {"y": 3, "x": [4]}, "c": 5}
    assert tree.flatten(value) == [1, 2, None, 3, 4, 5]
    assert tree.flatten(None) == [None]
    assert tree.flatten([]) == []


def test_pack_sequence_as_rebuilds_types_and_keys():
    structure = {"b": [0, (0, None)], "a": Pair(0, [0])}
    packed = tree.pack_sequence_as(structure, ["p", "q", "r", "s", "t"])
    assert packed == {"b": ["p", ("q", "r")], "a": Pair("s", ["t"])}
    assert type(packed["b"][1]) is tuple and type(packed["a"]) is Pair
    assert list(packed) == ["b", "a"]


def test_arrays_are_leaves_and_are_not_copied():
    x = np.zeros((3, 2))
    out = tree.pack_sequence_as([x, {"k": x}], tree.flatten([x, {"k": x}]))
    assert out[0] is x and out[1]["k"] is x


@given(structures)
def test_flatten_then_pack_is_the_identity(value):
    assert tree.pack_sequence_as(value, tree.flatten(value)) == value


@given(structures)
def test_map_structure_keeps_the_structure_and_maps_every_leaf(value):
    mapped = tree.map_structure(lambda leaf: f"<{leaf!r}>", value)
    assert tree.flatten(mapped) == [f"<{leaf!r}>" for leaf in tree.flatten(value)]
    assert tree.pack_sequence_as(value, tree.flatten(mapped)) == mapped


@pytest.mark.parametrize("flat", [[1], [1, 2, 3, 4]], ids=["too few", "too many"])
def test_pack_sequence_as_with_the_wrong_number_of_leaves_says_how_many(flat):
    with pytest.raises(ValueError, match=f"has 3 leaves but {len(flat)} were given"):
        tree.pack_sequence_as([0, (0, 0)], flat)


def test_map_shape_structure_treats_each_shape_as_one_leaf():
    assert tree.map_shape_structure(len, (None, 3)) == 2
    assert tree.map_shape_structure(len, [(None, 3), {"k": [None, 2, 4]}]) == [2, {"k": 3}]
    assert tree.is_shape_tuple((None, np.int64(3))) and not tree.is_shape_tuple([(None, 3)])
