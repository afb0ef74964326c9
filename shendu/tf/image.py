"""tf.image: resize, flips, rgb_to_grayscale over shendu.ops."""

from __future__ import annotations

__all__: list[str] = []
