"""tf.TensorShape: a tensor's shape as TensorFlow reports it (indexable, as_list(), comparable with tuples)."""

from __future__ import annotations

__all__: list[str] = []
