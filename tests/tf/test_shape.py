"""tf.TensorShape (what `Tensor.shape` returns: still a tuple) and tf.TensorSpec."""

import copy
import json
import pickle

import numpy as np
import pytest

import shendu as tf
from shendu.tensor_shape import TensorShape


def test_tensor_shape_is_a_tuple_with_tensorflows_methods():
    x = tf.constant(np.zeros((2, 3, 4), np.float32))
    s = x.shape
    assert isinstance(s, TensorShape) and isinstance(s, tuple)
    assert s == (2, 3, 4) and s == [2, 3, 4] and (2, 3, 4) == s and s != (2, 3)  # noqa: SIM300 (both sides)
    assert s.as_list() == [2, 3, 4] and s.rank == s.ndims == 3 and len(s) == 3
    assert s[0] == 2 and s[-1] == 4 and type(s[0]) is int
    assert isinstance(s[1:], TensorShape) and s[1:].as_list() == [3, 4]
    assert s.num_elements() == 24 and s.is_fully_defined()
    n, h, w = s
    assert (n, h, w) == (2, 3, 4)
    assert np.zeros(s).shape == (2, 3, 4)
    assert json.loads(json.dumps({"shape": s})) == {"shape": [2, 3, 4]}
    assert x.get_shape() == s and x.ndim == 3


def test_str_and_repr():
    s = TensorShape([None, 3])
    assert str(s) == "(None, 3)" and repr(s) == "TensorShape([None, 3])"
    assert str(TensorShape([5])) == "(5,)" and f"{TensorShape([2, 2])}" == "(2, 2)"
    assert str(TensorShape(None)) == "<unknown>" and repr(TensorShape(None)) == "TensorShape(None)"


def test_partial_shapes():
    s = TensorShape([None, 3])
    assert s.rank == 2 and s[0] is None and s.as_list() == [None, 3]
    assert not s.is_fully_defined() and s.num_elements() is None
    assert s.is_compatible_with((7, 3)) and not s.is_compatible_with((7, 4)) and not s.is_compatible_with((3,))
    assert s.merge_with([2, None]) == (2, 3)
    with pytest.raises(ValueError, match="not compatible"):
        s.merge_with([2, 4])
    assert s.concatenate([5]) == (None, 3, 5)
    assert s + (5,) == (None, 3, 5) and (1,) + s == (1, None, 3)  # noqa: RUF005 (the operators are tested)
    assert isinstance((1,) + s, TensorShape) and isinstance(s + [5], TensorShape)  # noqa: RUF005
    assert TensorShape([np.int64(2), tf.constant(np.array(3))]) == (2, 3)
    assert TensorShape(4) == (4,)


def test_unknown_rank():
    u = TensorShape(None)
    assert u.rank is None and u.ndims is None and not u.is_fully_defined() and u.num_elements() is None
    assert u.is_compatible_with((1, 2)) and u.is_compatible_with(())
    assert u == TensorShape(None) and u != TensorShape([])
    assert u.merge_with([1, None]) == (1, None) and u.concatenate([2]).rank is None
    assert u[0] is None and u[1:].rank is None
    for bad in (u.as_list, lambda: len(u), lambda: list(u)):
        with pytest.raises(ValueError, match="unknown"):
            bad()


def test_bad_dimensions():
    with pytest.raises(ValueError, match=">= 0"):
        TensorShape([2, -1])
    with pytest.raises(TypeError, match="integer or None"):
        TensorShape([2.5])


def test_copy_pickle_and_hash():
    for s in (TensorShape([None, 3]), TensorShape(None), tf.zeros((2, 2)).shape):
        for clone in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
            assert clone == s and type(clone) is type(s)
    assert {TensorShape([2, 3]): 1}[(2, 3)] == 1


def test_tensor_shape_is_made_once_per_array_and_follows_a_new_array():
    v = tf.Variable(np.zeros((2, 2), np.float32), validate_shape=False)
    assert v.shape is v.shape
    v.assign(np.zeros((3, 1), np.float32))
    assert v.shape == (3, 1)


def test_set_shape_checks_compatibility():
    x = tf.zeros((2, 3))
    x.set_shape([None, 3])
    x.set_shape(TensorShape(None))
    with pytest.raises(ValueError, match=r"Tensor's shape \(2, 3\) is not compatible with supplied shape \(3, 3\)"):
        x.set_shape([3, 3])


def test_tensor_spec():
    spec = tf.TensorSpec([None, 2], tf.float32, name="x")
    assert spec.shape == (None, 2) and spec.dtype == np.float32 and spec.name == "x"
    assert repr(spec) == "TensorSpec(shape=(None, 2), dtype=tf.float32, name='x')"
    assert repr(tf.TensorSpec(None, "int32")) == "TensorSpec(shape=<unknown>, dtype=tf.int32, name=None)"
    assert spec.is_compatible_with(tf.zeros((5, 2))) and spec.is_compatible_with(np.zeros((1, 2), np.float32))
    assert not spec.is_compatible_with(tf.zeros((5, 3))) and not spec.is_compatible_with(np.zeros((5, 2)))
    assert spec.is_compatible_with(tf.TensorSpec([4, 2]))
    assert spec == tf.TensorSpec([None, 2], "float32", "x") and spec != tf.TensorSpec([None, 2])
    assert len({spec, tf.TensorSpec([None, 2], tf.float32, name="x")}) == 1
    t = tf.constant([[1, 2, 3], [4, 5, 6]])
    assert tf.TensorSpec.from_tensor(t) == tf.TensorSpec((2, 3), t.dtype)
    assert tf.TensorSpec.from_spec(spec, name="y").name == "y" and tf.TensorSpec.from_spec(spec).name == "x"
    assert tf.TensorSpec([3]).dtype == np.float32
