"""tf's element-wise math, comparisons and reductions (top level and tf.math), as adapters over shendu.ops."""

from __future__ import annotations

__all__: list[str] = []
