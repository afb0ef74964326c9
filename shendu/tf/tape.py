"""tf.GradientTape over shendu's reverse-mode autograd."""

from __future__ import annotations

__all__: list[str] = []
