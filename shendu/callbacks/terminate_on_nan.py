"""TerminateOnNaN: stop training as soon as a batch's loss is NaN or infinite."""

from __future__ import annotations

import math

from shendu.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets `model.stop_training` when the logged loss is not finite (fit also stops by itself)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
