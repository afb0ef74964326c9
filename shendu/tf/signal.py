"""tf.signal: the FFTs tutorials use."""

from __future__ import annotations

__all__: list[str] = []
