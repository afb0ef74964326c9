"""Magnitude masks: keep the k = max(round(n (1 - sparsity)), 1) weights of largest |w| (TFMOT's count), per
tensor, per block of a 2-D kernel, or over several tensors at once (global pruning)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def keep_count(n: int, sparsity: float) -> int:
    """How many of n weights survive at this sparsity: max(round(n (1 - sparsity)), 1), as TFMOT."""
    return max(int(np.round(n * (1.0 - sparsity))), 1)


def _top_k_mask(scores: np.ndarray, sparsity: float) -> tuple[np.ndarray, float]:
    """(mask of the k largest scores, the k-th largest score); ties at the threshold go to the lower index."""
    flat = scores.reshape(-1)
    k = keep_count(flat.size, sparsity)
    keep = np.argsort(-flat, kind="stable")[:k]
    mask = np.zeros(flat.size, dtype=scores.dtype)
    mask[keep] = 1
    return mask.reshape(scores.shape), float(flat[keep[-1]])


def _block_scores(abs_w: np.ndarray, block_size: tuple[int, int], pooling: str) -> np.ndarray:
    """|w| pooled over (rows, cols) blocks, the last blocks cut short at the edges (TF's 'SAME' pooling)."""
    r, c = block_size
    rows, cols = -(-abs_w.shape[0] // r), -(-abs_w.shape[1] // c)
    padded = np.zeros((rows * r, cols * c), dtype=abs_w.dtype)
    padded[:abs_w.shape[0], :abs_w.shape[1]] = abs_w
    blocks = padded.reshape(rows, r, cols, c)
    if pooling == "MAX":
        return blocks.max(axis=(1, 3))
    counts = np.zeros_like(padded)
    counts[:abs_w.shape[0], :abs_w.shape[1]] = 1
    return blocks.sum(axis=(1, 3)) / counts.reshape(rows, r, cols, c).sum(axis=(1, 3))


def magnitude_mask(weights: np.ndarray, sparsity: float, block_size: Sequence[int] = (1, 1),
                   block_pooling_type: str = "AVG") -> tuple[np.ndarray, float]:
    """(0/1 mask of weights' shape, threshold): the largest-magnitude weights kept; with a block size other than
    (1, 1), a 2-D kernel's blocks are scored by the mean (AVG) or max (MAX) of |w| and kept or dropped whole."""
    abs_w = np.abs(weights)
    if tuple(block_size) == (1, 1):
        return _top_k_mask(abs_w, sparsity)
    squeezed = abs_w.reshape([n for n in abs_w.shape if n != 1] or [1])
    if squeezed.ndim != 2:
        raise ValueError(f"magnitude pruning: block_size {tuple(block_size)} needs a 2-D kernel, got shape "
                         f"{weights.shape}")
    r, c = block_size
    block_mask, threshold = _top_k_mask(_block_scores(squeezed, (r, c), block_pooling_type), sparsity)
    full = np.kron(block_mask, np.ones((r, c), dtype=block_mask.dtype))[:squeezed.shape[0], :squeezed.shape[1]]
    return full.reshape(weights.shape), threshold


def global_masks(weights: Sequence[np.ndarray], sparsity: float) -> tuple[list[np.ndarray], float]:
    """Masks keeping the largest |w| over all the tensors together (torch's global_unstructured with L1):
    one threshold for every layer, so layers with many small weights lose more of them."""
    flat = np.concatenate([np.abs(w).reshape(-1) for w in weights])
    mask, threshold = _top_k_mask(flat, sparsity)
    out, start = [], 0
    for w in weights:
        out.append(mask[start:start + w.size].reshape(w.shape).astype(w.dtype))
        start += w.size
    return out, threshold


def sparsity_of(array: np.ndarray) -> float:
    """The fraction of exact zeros."""
    return float(np.count_nonzero(array == 0) / max(array.size, 1))
