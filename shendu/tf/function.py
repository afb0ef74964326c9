"""tf.function: runs the Python function eagerly (TensorFlow's run_functions_eagerly(True) semantics)."""

from __future__ import annotations

__all__: list[str] = []
