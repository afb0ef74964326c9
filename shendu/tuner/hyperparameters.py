"""HyperParameters: the search space (`space`) and one trial's values (`values`), KerasTuner's container.

`build_model(hp)` calls `hp.Int(...)`, `hp.Choice(...)`, ...: the first call registers the hyperparameter and
returns its default; in a trial it returns the value the oracle chose. Only active hyperparameters have values:
one declared inside `conditional_scope(parent, values)` returns None while the parent takes another value.
"""

from __future__ import annotations

import collections
import contextlib
import copy
from collections.abc import Iterator
from typing import Any

from shendu.tuner import conditions as conditions_mod
from shendu.tuner import hp_types


class HyperParameters:
    """A search space and the current values of its active hyperparameters."""

    def __init__(self) -> None:
        self._name_scopes: list[str] = []
        self._conditions: list[conditions_mod.Parent] = []
        self._hps: dict[str, list[hp_types.HyperParameter]] = collections.defaultdict(list)
        self._space: list[hp_types.HyperParameter] = []
        self.values: dict[str, Any] = {}
        self.active_scopes: list[list[conditions_mod.Parent]] = []
        self.inactive_scopes: list[list[conditions_mod.Parent]] = []

    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names of the hyperparameters declared inside with `name/`."""
        self._name_scopes.append(name)
        try:
            yield
        finally:
            self._name_scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters declared inside are active only while `parent_name` takes one of `parent_values`."""
        parent_name = self._get_name(parent_name)
        if not self._exists(parent_name):
            raise ValueError(f"conditional_scope: no hyperparameter named '{parent_name}' is defined before it")
        condition = conditions_mod.Parent(parent_name, parent_values)
        self._conditions.append(condition)
        scopes = self.active_scopes if condition.is_active(self.values) else self.inactive_scopes
        scopes.append(copy.deepcopy(self._conditions))
        try:
            yield
        finally:
            self._conditions.pop()

    def is_active(self, hyperparameter: hp_types.HyperParameter | str) -> bool:
        """Whether all the conditions of the hyperparameter (or of any of that name) hold for the current values."""
        if isinstance(hyperparameter, hp_types.HyperParameter):
            return self._conditions_active(hyperparameter.conditions)
        return any(self._conditions_active(hp.conditions) for hp in self._hps[str(hyperparameter)])

    def _conditions_active(self, conditions: list) -> bool:
        return all(c.is_active(self.values) for c in conditions)

    def _exists(self, name: str, conditions: list | None = None) -> bool:
        conditions = self._conditions if conditions is None else conditions
        return any(hp.conditions == conditions for hp in self._hps.get(name, []))

    def _retrieve(self, hp: hp_types.HyperParameter) -> Any:
        if self._exists(hp.name, hp.conditions):
            return self.values[hp.name] if self.is_active(hp) else None
        return self._register(hp)

    def _register(self, hp: hp_types.HyperParameter, overwrite: bool = False) -> Any:
        for condition in self._conditions:
            if condition.name == hp.name:
                raise ValueError(f"HyperParameters: a conditional hyperparameter cannot have the name of its parent "
                                 f"('{hp.name}')")
        hp = hp_types.deserialize(hp_types.serialize(hp))
        self._hps[hp.name].append(hp)
        self._space.append(hp)
        if self.is_active(hp):
            if overwrite or hp.name not in self.values:
                self.values[hp.name] = hp.default
            return self.values[hp.name]
        return None

    def get(self, name: str) -> Any:
        """The current value of `name`; ValueError when it is inactive, KeyError when it does not exist."""
        name = self._get_name(name)
        if name in self.values:
            return self.values[name]
        if name in self._hps:
            raise ValueError(f"HyperParameters.get: '{name}' is currently inactive")
        raise KeyError(f"HyperParameters.get: '{name}' does not exist")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
        except (KeyError, ValueError):
            return False
        return True

    def Choice(self, name: str, values: Any, ordered: bool | None = None, default: Any = None,
               parent_name: str | None = None, parent_values: Any = None) -> Any:
        """One of `values` (int, float, str or bool, one type); default the first."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_types.Choice(self._get_name(name), values, ordered=ordered, default=default,
                                                  conditions=self._conditions))

    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None, sampling: str = "linear",
            default: int | None = None, parent_name: str | None = None, parent_values: Any = None) -> Any:
        """An integer in [min_value, max_value] (both included); default min_value."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_types.Int(self._get_name(name), min_value, max_value, step=step,
                                               sampling=sampling, default=default, conditions=self._conditions))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,
              sampling: str = "linear", default: float | None = None, parent_name: str | None = None,
              parent_values: Any = None) -> Any:
        """A float in [min_value, max_value]; default min_value."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_types.Float(self._get_name(name), min_value, max_value, step=step,
                                                 sampling=sampling, default=default, conditions=self._conditions))

    def Boolean(self, name: str, default: bool = False, parent_name: str | None = None,
                parent_values: Any = None) -> Any:
        """True or False; default False."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_types.Boolean(self._get_name(name), default=default,
                                                   conditions=self._conditions))

    def Fixed(self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None) -> Any:
        """A value that is not tuned."""
        with self._maybe_conditional_scope(parent_name, parent_values):
            return self._retrieve(hp_types.Fixed(self._get_name(name), value, conditions=self._conditions))

    @property
    def space(self) -> list[hp_types.HyperParameter]:
        return self._space

    def get_config(self) -> dict[str, Any]:
        return {"space": [hp_types.serialize(hp) for hp in self._space], "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameters:
        hps = cls()
        for item in config.get("space", []):
            hp = hp_types.deserialize(item)
            hps._hps[hp.name].append(hp)
            hps._space.append(hp)
        hps.values = dict(config.get("values", {}))
        return hps

    def copy(self) -> HyperParameters:
        return HyperParameters.from_config(self.get_config())

    def merge(self, hps: HyperParameters | list, overwrite: bool = True) -> None:
        """Add the hyperparameters of `hps` (another container or a list); `overwrite` resets their values."""
        items = hps.space if isinstance(hps, HyperParameters) else list(hps)
        if not overwrite:
            items = [hp for hp in items if not self._exists(hp.name, hp.conditions)]
        for hp in items:
            self._register(hp, overwrite)

    def ensure_active_values(self) -> None:
        """Give every active hyperparameter a value (a random one if missing) and drop inactive ones' values."""
        for hp in self._space:
            if self.is_active(hp):
                if hp.name not in self.values:
                    self.values[hp.name] = hp.random_sample()
            else:
                self.values.pop(hp.name, None)

    @contextlib.contextmanager
    def _maybe_conditional_scope(self, parent_name: str | None, parent_values: Any) -> Iterator[None]:
        if parent_name:
            with self.conditional_scope(parent_name, parent_values):
                yield
        else:
            yield

    def _get_name(self, name: str) -> str:
        return "/".join([*self._name_scopes, str(name)])

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values})"
