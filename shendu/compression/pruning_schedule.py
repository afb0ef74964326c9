"""Pruning schedules with TensorFlow Model Optimization's names, arguments and formulas: at a training step, whether
to prune and to which sparsity (the fraction of weights set to zero)."""

from __future__ import annotations

from typing import Any


class PruningSchedule:
    """`schedule(step) -> (should_prune, sparsity)`; pruning happens on steps begin_step, begin_step + frequency, ...
    up to end_step (-1: forever)."""

    begin_step: int
    end_step: int
    frequency: int

    def _should_prune_in_step(self, step: int, begin_step: int, end_step: int, frequency: int) -> bool:
        in_range = step >= begin_step and (step <= end_step or end_step < 0)
        return in_range and (step - begin_step) % frequency == 0

    def _validate_step(self, begin_step: int, end_step: int, frequency: int, allow_negative_1: bool) -> None:
        name = type(self).__name__
        if begin_step < 0:
            raise ValueError(f"{name}: begin_step should be >= 0, got {begin_step}")
        if not allow_negative_1 and end_step == -1:
            raise ValueError(f"{name}: end_step cannot be -1 (the sparsity needs an end to decay to)")
        if end_step != -1 and end_step < begin_step:
            raise ValueError(f"{name}: end_step ({end_step}) must be -1 or >= begin_step ({begin_step})")
        if frequency <= 0:
            raise ValueError(f"{name}: frequency should be > 0, got {frequency}")

    def _validate_sparsity(self, sparsity: float, name: str) -> None:
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f"{type(self).__name__}: {name} must be in [0, 1), got {sparsity}")

    def __call__(self, step: int) -> tuple[bool, float]:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PruningSchedule:
        return cls(**config)


class ConstantSparsity(PruningSchedule):
    """sparsity = target_sparsity at every pruning step of [begin_step, end_step]."""

    def __init__(self, target_sparsity: float, begin_step: int, end_step: int = -1, frequency: int = 100) -> None:
        self.target_sparsity, self.begin_step = float(target_sparsity), int(begin_step)
        self.end_step, self.frequency = int(end_step), int(frequency)
        self._validate_step(self.begin_step, self.end_step, self.frequency, True)
        self._validate_sparsity(self.target_sparsity, "target_sparsity")

    def __call__(self, step: int) -> tuple[bool, float]:
        return self._should_prune_in_step(step, self.begin_step, self.end_step, self.frequency), self.target_sparsity

    def get_config(self) -> dict[str, Any]:
        return {"class_name": type(self).__name__,
                "config": {"target_sparsity": self.target_sparsity, "begin_step": self.begin_step,
                           "end_step": self.end_step, "frequency": self.frequency}}


class PolynomialDecay(PruningSchedule):
    """sparsity = final + (initial - final) (1 - p)^power, p = clip((step - begin_step) / (end_step - begin_step), 0, 1)
    (Zhu & Gupta 2017): fast pruning at first, then a plateau at final_sparsity."""

    def __init__(self, initial_sparsity: float, final_sparsity: float, begin_step: int, end_step: int,
                 power: float = 3, frequency: int = 100) -> None:
        self.initial_sparsity, self.final_sparsity = float(initial_sparsity), float(final_sparsity)
        self.power, self.begin_step, self.end_step = power, int(begin_step), int(end_step)
        self.frequency = int(frequency)
        self._validate_step(self.begin_step, self.end_step, self.frequency, False)
        self._validate_sparsity(self.initial_sparsity, "initial_sparsity")
        self._validate_sparsity(self.final_sparsity, "final_sparsity")

    def __call__(self, step: int) -> tuple[bool, float]:
        span = self.end_step - self.begin_step
        p = min(1.0, max(0.0, (step - self.begin_step) / span)) if span else float(step >= self.begin_step)
        sparsity = (self.initial_sparsity - self.final_sparsity) * (1 - p) ** self.power + self.final_sparsity
        return self._should_prune_in_step(step, self.begin_step, self.end_step, self.frequency), sparsity

    def get_config(self) -> dict[str, Any]:
        return {"class_name": type(self).__name__,
                "config": {"initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
                           "power": self.power, "begin_step": self.begin_step, "end_step": self.end_step,
                           "frequency": self.frequency}}


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> PruningSchedule:
    """A schedule from its `get_config()` dict (TFMOT's {"class_name", "config"}) or the schedule itself."""
    from shendu.saving.object_registration import get_registered_object

    if isinstance(config, PruningSchedule):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"pruning schedule: expected a PruningSchedule or its get_config() dict, got {config!r}")
    builtins = {"ConstantSparsity": ConstantSparsity, "PolynomialDecay": PolynomialDecay}
    cls = get_registered_object(config["class_name"], custom_objects, builtins)
    if cls is None:
        raise ValueError(f"pruning schedule: unknown class '{config['class_name']}' (known: {sorted(builtins)}; "
                         "register your own with @register_keras_serializable())")
    return cls.from_config(config.get("config", {}))
