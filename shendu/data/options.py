"""tf.data.Options: the settings `Dataset.with_options` attaches to a pipeline.

shendu's pipeline runs its steps in order on the calling thread (prefetch aside), so it is always deterministic
and has nothing to tune or shard: the options are kept and returned by `Dataset.options()` so that TensorFlow code
runs unchanged, and a misspelt option name is an error as in TensorFlow.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar


class AutoShardPolicy(enum.IntEnum):
    """How tf.distribute would split a dataset between workers (kept, not acted on: shendu runs one worker)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class _OptionsGroup:
    """A fixed set of named settings, each None (unset) until assigned; unknown names raise AttributeError."""

    _fields: ClassVar[dict[str, Any]] = {}
    _groups: ClassVar[dict[str, type]] = {}
    _aliases: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        for name in self._fields:
            object.__setattr__(self, name, None)
        for name, group in self._groups.items():
            object.__setattr__(self, name, group())

    def __getattr__(self, name: str) -> Any:
        if name in self._aliases:
            return getattr(self, self._aliases[name])
        raise AttributeError(f"tf.data.{type(self).__name__} has no option {name!r}; "
                             f"known: {sorted([*self._fields, *self._groups, *self._aliases])}")

    def __setattr__(self, name: str, value: Any) -> None:
        name = self._aliases.get(name, name)
        if name not in self._fields:
            if name in self._groups:
                raise AttributeError(f"tf.data.{type(self).__name__}.{name} is a group of options; set its fields")
            self.__getattr__(name)
        object.__setattr__(self, name, value)

    def merge(self, other: _OptionsGroup) -> _OptionsGroup:
        """These options with every option set in `other` overriding (tf.data's rule for with_options)."""
        out = type(self)()
        for name in self._fields:
            mine, theirs = getattr(self, name), getattr(other, name)
            object.__setattr__(out, name, mine if theirs is None else theirs)
        for name in self._groups:
            object.__setattr__(out, name, getattr(self, name).merge(getattr(other, name)))
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items() if v is not None)})"


class DistributeOptions(_OptionsGroup):
    _fields: ClassVar[dict[str, Any]] = {"auto_shard_policy": None, "num_devices": None}


class OptimizationOptions(_OptionsGroup):
    _fields: ClassVar[dict[str, Any]] = dict.fromkeys((
        "apply_default_optimizations", "filter_fusion", "filter_parallelization", "inject_prefetch",
        "map_and_batch_fusion", "map_and_filter_fusion", "map_fusion", "map_parallelization", "noop_elimination",
        "parallel_batch", "seq_interleave_prefetch", "shuffle_and_repeat_fusion"))


class ThreadingOptions(_OptionsGroup):
    _fields: ClassVar[dict[str, Any]] = {"max_intra_op_parallelism": None, "private_threadpool_size": None}


class AutotuneOptions(_OptionsGroup):
    _fields: ClassVar[dict[str, Any]] = dict.fromkeys(("enabled", "cpu_budget", "ram_budget", "autotune_algorithm"))


class Options(_OptionsGroup):
    """tf.data.Options: deterministic, experimental_distribute.auto_shard_policy, experimental_optimization.*,
    threading.*, autotune.*, ... (recorded; see the module docstring)."""

    _fields: ClassVar[dict[str, Any]] = dict.fromkeys((
        "deterministic", "experimental_external_state_policy", "experimental_slack",
        "experimental_symbolic_checkpoint", "experimental_warm_start"))
    _groups: ClassVar[dict[str, type]] = {"experimental_distribute": DistributeOptions,
                                          "experimental_optimization": OptimizationOptions,
                                          "threading": ThreadingOptions, "autotune": AutotuneOptions}
    _aliases: ClassVar[dict[str, str]] = {"experimental_deterministic": "deterministic",
                                          "experimental_threading": "threading"}
