"""tf.saved_model: not supported; says what to use instead (model.save, ONNX export)."""

from __future__ import annotations

__all__: list[str] = []
