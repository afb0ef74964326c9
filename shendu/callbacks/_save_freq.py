"""The `save_freq=N` count of ModelCheckpoint and BackupAndRestore: batches since the last save, as Keras counts
them (with steps_per_execution a hook sees every N-th batch index, and a new epoch restarts the index)."""

from __future__ import annotations


class BatchCount:
    """Counts the batches behind each `on_train_batch_end(batch)`; `due(batch)` is True every `every` batches."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.reset()

    def reset(self, last_batch: int = -1) -> None:
        """Start counting again, the last batch seen being `last_batch` (-1: none yet in this epoch)."""
        self.since_save, self.last_batch = 0, last_batch

    def due(self, batch: int) -> bool:
        """Count the batches up to `batch`; True (and the count restarts) when `every` of them have passed."""
        new = batch + 1 if batch <= self.last_batch else batch - self.last_batch  # a new epoch restarts the index
        self.last_batch = batch
        self.since_save += new
        if self.since_save < self.every:
            return False
        self.since_save = 0
        return True
