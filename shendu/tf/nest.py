"""tf.nest: nested structures of lists, tuples and dicts (`tf.nest.flatten(inputs)` in a cell's call), the
functions of `shendu.utils.tree` under TensorFlow's names."""

from shendu.utils.tree import flatten, is_nested, map_structure, pack_sequence_as

__all__ = ["flatten", "is_nested", "map_structure", "pack_sequence_as"]
