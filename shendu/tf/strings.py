"""tf.strings: lower, regex_replace, split, length on NumPy string arrays."""

from __future__ import annotations

__all__: list[str] = []
