"""tf's array functions: reshape, transpose, concat, stack, split, tile, gather, pad, squeeze, einsum, matmul, ..."""

from __future__ import annotations

__all__: list[str] = []
