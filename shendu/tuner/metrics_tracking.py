"""The metrics a trial reported: per metric, the values observed at each step (several executions average)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shendu.tuner.objective import infer_metric_direction


class MetricHistory:
    """One metric's observations {step: [value per execution]} and its direction."""

    def __init__(self, direction: str = "min") -> None:
        if direction not in ("min", "max"):
            raise ValueError(f"MetricHistory: direction must be 'min' or 'max', got {direction!r}")
        self.direction = direction
        self.observations: dict[int, list[float]] = {}

    def update(self, value: float, step: int = 0) -> None:
        self.observations.setdefault(int(step), []).append(float(value))

    def _means(self) -> dict[int, float]:
        return {step: float(np.mean(values)) for step, values in sorted(self.observations.items())}

    def get_best_value(self) -> float | None:
        """The best step's mean over executions (NaN steps ignored); None before any observation."""
        means = list(self._means().values())
        if not means:
            return None
        return float(np.nanmin(means) if self.direction == "min" else np.nanmax(means))

    def get_best_step(self) -> int | None:
        best = self.get_best_value()
        return next((step for step, mean in self._means().items() if mean == best), None)

    def get_last_value(self) -> float | None:
        means = self._means()
        return means[max(means)] if means else None

    def get_config(self) -> dict[str, Any]:
        return {"direction": self.direction,
                "observations": [{"value": v, "step": s} for s, v in sorted(self.observations.items())]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricHistory:
        history = cls(config["direction"])
        for obs in config["observations"]:
            for value in obs["value"]:
                history.update(value, obs["step"])
        return history


class MetricsTracker:
    """The MetricHistory of each metric a trial reported."""

    def __init__(self) -> None:
        self.metrics: dict[str, MetricHistory] = {}

    def exists(self, name: str) -> bool:
        return name in self.metrics

    def register(self, name: str, direction: str | None = None) -> None:
        if name in self.metrics:
            raise ValueError(f"MetricsTracker: metric '{name}' already exists")
        self.metrics[name] = MetricHistory(direction or infer_metric_direction(name) or "min")

    def update(self, name: str, value: float, step: int = 0) -> None:
        if name not in self.metrics:
            self.register(name)
        self.metrics[name].update(value, step)

    def _get(self, name: str) -> MetricHistory:
        if name not in self.metrics:
            raise ValueError(f"MetricsTracker: unknown metric '{name}' (known: {sorted(self.metrics)})")
        return self.metrics[name]

    def get_best_value(self, name: str) -> float | None:
        return self._get(name).get_best_value()

    def get_best_step(self, name: str) -> int | None:
        return self._get(name).get_best_step()

    def get_last_value(self, name: str) -> float | None:
        return self._get(name).get_last_value()

    def get_config(self) -> dict[str, Any]:
        return {"metrics": {name: history.get_config() for name, history in self.metrics.items()}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MetricsTracker:
        tracker = cls()
        tracker.metrics = {name: MetricHistory.from_config(c) for name, c in config.get("metrics", {}).items()}
        return tracker
