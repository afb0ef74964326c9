"""The pruning callbacks of TFMOT: `UpdatePruningStep` advances the wrappers' step each batch and prunes on the
schedule's steps; `PruningSummaries` writes each kernel's sparsity and threshold to TensorBoard."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.callbacks.callback import Callback
from shendu.compression import magnitude
from shendu.compression.pruning_wrapper import PruneLowMagnitude, collect_prunable_layers


def prune_step(wrappers: list[PruneLowMagnitude]) -> None:
    """One training step of pruning: step += 1 in each wrapper, then the masks of those the schedule prunes now
    (a global group against one threshold over all its kernels)."""
    groups: dict[str, list[PruneLowMagnitude]] = {}
    for layer in wrappers:
        if not layer.built:
            continue
        layer.pruning_step.assign(np.asarray(int(layer.pruning_step.data) + 1, dtype=np.int64))
        if layer.global_group is not None:
            groups.setdefault(layer.global_group, []).append(layer)
            continue
        should, sparsity = layer.pruning_schedule(int(layer.pruning_step.data))
        if should:
            layer.update_masks(sparsity)
    for members in groups.values():
        should, sparsity = members[0].pruning_schedule(int(members[0].pruning_step.data))
        if should:
            pruning_vars = [v for layer in members for v in layer.pruning_vars]
            masks, threshold = magnitude.global_masks([w.data for w, _, _ in pruning_vars], sparsity)
            for (weight, mask, thr), new in zip(pruning_vars, masks):
                PruneLowMagnitude.set_mask(weight, mask, thr, new, threshold)


class UpdatePruningStep(Callback):
    """Required by `fit` on a pruned model: sets the step to 0 at the start, then before each batch advances it and
    updates the masks on the schedule's steps; re-applies the masks at each epoch's end (the kernels' mask
    constraints already keep pruned weights at zero after each optimizer update)."""

    def __init__(self) -> None:
        super().__init__()
        self.prunable_layers: list[PruneLowMagnitude] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.prunable_layers = collect_prunable_layers(self.model)
        for layer in self.prunable_layers:
            if layer.built and int(layer.pruning_step.data) < 0:
                layer.pruning_step.assign(np.asarray(0, dtype=np.int64))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if not all(layer.built for layer in self.prunable_layers):  # built by the first batch of a lazy model
            self.on_train_begin()
        prune_step(self.prunable_layers)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for layer in self.prunable_layers:
            layer.apply_masks()


class PruningSummaries(Callback):
    """Writes '<mask name>/sparsity' and '<threshold name>/threshold' at each epoch's start (TFMOT's names) to
    `log_dir/metrics` through shendu's TensorBoard event writer, at the optimizer's iteration count."""

    def __init__(self, log_dir: str, update_freq: str = "epoch") -> None:
        super().__init__()
        if not isinstance(log_dir, str) or not log_dir:
            raise ValueError(f"PruningSummaries: `log_dir` must be a non-empty string, got {log_dir!r}")
        self.log_dir, self.update_freq = log_dir, update_freq
        self._writer: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        from shendu.tf import summary

        if self._writer is None:
            self._writer = summary.create_file_writer(f"{self.log_dir}/metrics")
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", 0)
        step = int(np.asarray(getattr(iterations, "data", iterations)))
        with self._writer.as_default():
            for layer in collect_prunable_layers(self.model):
                for _, mask, threshold in layer.pruning_vars:
                    summary.scalar(f"{mask.name}/sparsity", 1.0 - float(np.mean(mask.data)), step=step)
                    summary.scalar(f"{threshold.name}/threshold", float(threshold.data), step=step)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
