"""tf.nn: activations, cross-entropies with logits, dropout, conv2d, pooling, moments, ... over shendu.ops."""

from __future__ import annotations

__all__: list[str] = []
