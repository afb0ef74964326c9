"""tf.version: VERSION is shendu's own version (labelled as such), not a TensorFlow release."""

from __future__ import annotations

__all__: list[str] = []
