"""tf.linalg: matmul, inv, det, diag_part, norm, ... over shendu.ops."""

from __future__ import annotations

__all__: list[str] = []
