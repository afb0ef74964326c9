"""The errors a search raises or that a hypermodel raises to steer it (KerasTuner's `keras_tuner.errors`)."""

from __future__ import annotations


class FailedTrialError(Exception):
    """Raise it in `build` or `fit` to mark the trial FAILED at once, without the retries `max_retries_per_trial`
    grants to other errors (e.g. a model found too large)."""


class FatalError(Exception):
    """An error that stops the whole search instead of failing one trial (a hypermodel that returns no model)."""


class FatalValueError(FatalError, ValueError):
    """A fatal error about a value (e.g. `fit` returned a dict without the objective)."""


class FatalTypeError(FatalError, TypeError):
    """A fatal error about a type (e.g. `build` returned something that is not a model)."""


class FatalRuntimeError(FatalError, RuntimeError):
    """A fatal error while running the search."""
