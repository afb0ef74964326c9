"""tf.train: Checkpoint, CheckpointManager and latest_checkpoint in shendu's own safe file format."""

from __future__ import annotations

__all__: list[str] = []
