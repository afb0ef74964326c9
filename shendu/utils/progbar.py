"""Progbar: the Keras progress bar (`938/938 ━━━━ 2s 2ms/step - loss: 0.2931`), cheap enough to update every step."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# A log file or CI console gets a new line at most this often (a terminal is redrawn every `interval`).
NON_INTERACTIVE_INTERVAL = 10.0


def _is_interactive() -> bool:
    """Whether stdout redraws a line in place with \\r (a terminal, Jupyter or PyCharm) or appends (a log)."""
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def _format_value(value: Any, count: int) -> str:
    """A metric's running mean as Keras prints it: 4 decimals, or scientific notation when |mean| <= 1e-3."""
    if not isinstance(value, float):
        value = float(np.mean(value))
    avg = value / max(1, count)
    return f"{avg:.4f}" if abs(avg) > 1e-3 else f"{avg:.4e}"


def _format_eta(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_time(time_per_unit: float, unit_name: str) -> str:
    """Seconds per unit as ' 2ms/step', ' 3s/step' or ' 45us/step' (Keras's rounding)."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar, Keras's `keras.utils.Progbar`.

    target: total number of steps (None if unknown); width: bar width in characters;
    verbose: 0 silent, 1 a live bar, 2 one line at the end; interval: minimum seconds between redraws;
    stateful_metrics: names shown as given (others are averaged over the steps seen);
    unit_name: the unit of the time per step ("step", "sample").
    A terminal gets the bar redrawn in place; a log file gets a line at most every NON_INTERACTIVE_INTERVAL s.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, unit_name: str = "step") -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics is not None else set()
        self._dynamic_display = _is_interactive()
        self._min_gap = interval if self._dynamic_display else max(interval, NON_INTERACTIVE_INTERVAL)
        self._values: dict[str, list[Any]] = {}  # name -> [weighted sum, weight]; insertion order = display order
        self._seen_so_far = 0
        self._start = time.monotonic()
        self._last_update = -math.inf
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def update(self, current: int, values: Sequence[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Record that `current` steps are done with these (name, value) pairs; redraw at most every `interval` s.

        A stateless value counts with weight `current - previous current`, so the display is the per-step mean.
        finalize (default: current >= target) draws the last line; its values are taken as final, unaveraged.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            self._record(current, values, finalize)
        self._seen_so_far = current
        if current == 1 and self._time_after_first_step is None:
            self._time_after_first_step = time.monotonic()
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        now = time.monotonic()
        if not finalize and (now - self._last_update < self._min_gap or (
                not self._dynamic_display and self.target is not None and current >= self.target)):
            return  # (a log file gets the last step's line from the finalizing update, once)
        self._last_update = now
        if self.verbose == 1:
            self._draw(current, now, finalize)
        elif self.target is not None and self.target > 0:
            self._write_summary(current, now)

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advance by n steps (update(seen + n, values))."""
        self.update(self._seen_so_far + n, values)

    def _record(self, current: int, values: Sequence[tuple[str, Any]], finalize: bool) -> None:
        weight = max(current - self._seen_so_far, 1)
        for name, value in values:
            entry = self._values.get(name)
            if finalize or name in self.stateful_metrics:
                self._values[name] = [value, 1]
            elif entry is None:
                self._values[name] = [value * weight, weight]
            else:
                entry[0] += value * weight
                entry[1] += weight

    def _step_duration(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the (slow, compiling or warming) first step once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current

    def _metrics_text(self) -> str:
        return "".join(f" - {name}: {_format_value(v, n)}" for name, (v, n) in self._values.items())

    def _draw(self, current: int, now: float, finalize: bool) -> None:
        styled = self._dynamic_display
        bold, green, grey, reset = ("\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m") if styled else ("",) * 4
        time_per_unit = self._step_duration(current, now)
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = min(int(self.width * current / self.target), self.width)
            bar = f"{count} {'━' * self.width}"
            shown = f"{bold}{count}{reset} "
            if done:
                shown += f"{green}{'━' * done}{reset}"
            shown += f"{grey}{'━' * (self.width - done)}{reset}"
        else:
            bar = shown = f"{current:7d}/Unknown"
        if self.target is not None and self.target > 0 and not finalize:
            clock = _format_eta(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {clock}{_format_time(time_per_unit, self.unit_name)}{self._metrics_text()}"
        width = len(bar) + len(info)
        if styled:
            message = "\r" + shown + f" {bold}{clock}{reset}" + info[len(clock) + 1:]
            message += " " * max(self._prev_total_width - width, 0)
            if finalize:
                message += "\n"
        else:
            message = bar + info + "\n"
        self._prev_total_width = width
        sys.stdout.write(message)
        sys.stdout.flush()

    def _write_summary(self, current: int, now: float) -> None:
        digits = int(math.log10(self.target)) + 1
        time_text = _format_time(self._step_duration(current, now), self.unit_name)
        sys.stdout.write(f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -{time_text}"
                         f"{self._metrics_text()}\n")
        sys.stdout.flush()
