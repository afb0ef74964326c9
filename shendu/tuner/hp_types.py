"""The five kinds of hyperparameter (KerasTuner's Int, Float, Choice, Boolean, Fixed): each maps a number
p in [0, 1) to a value (`prob_to_value`), which is how random search samples it, and lists its values for a grid.

Sampling of Int/Float: "linear" v = a + p (b - a); "log" v = a (b / a)^p; "reverse_log" v = a + b - a (b / a)^(1 - p).
With a `step` the values are a + k step (linear) or a step^k (log) up to b, and p picks one of them uniformly.
"""

from __future__ import annotations

import math
import random
from typing import Any

from shendu.tuner import conditions as conditions_mod

SAMPLINGS = ("linear", "log", "reverse_log")


def prob_to_index(prob: float, n: int) -> int:
    """The bucket of p when [0, 1) is cut into n equal buckets."""
    return min(math.floor(prob * n), n - 1)


def index_to_prob(index: float, n: int) -> float:
    """The centre of bucket `index` of n."""
    return (index + 0.5) / n


class HyperParameter:
    """A named hyperparameter with a default and the conditions under which it is active."""

    def __init__(self, name: str, default: Any = None, conditions: list | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__}: expected a non-empty string name, got {name!r}")
        self.name = name
        self._default = default
        self.conditions = list(conditions or [])

    @property
    def default(self) -> Any:
        return self._default

    @property
    def values(self) -> tuple:
        """Every value a grid search tries."""
        raise NotImplementedError

    def prob_to_value(self, prob: float) -> Any:
        raise NotImplementedError

    def value_to_prob(self, value: Any) -> float:
        raise NotImplementedError

    def random_sample(self, seed: int | None = None) -> Any:
        """A value drawn with Python's `random.Random(seed)`, as KerasTuner draws it."""
        return self.prob_to_value(random.Random(seed).random())

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "default": self._default,
                "conditions": [conditions_mod.serialize(c) for c in self.conditions]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameter:
        config = dict(config)
        config["conditions"] = [conditions_mod.deserialize(c) for c in config.get("conditions", [])]
        return cls(**config)


class _Numerical(HyperParameter):
    """Int and Float: a range [min_value, max_value] sampled linearly or logarithmically, with an optional step."""

    def __init__(self, name: str, min_value: Any, max_value: Any, step: Any = None, sampling: str | None = "linear",
                 default: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name, default=default, **kwargs)
        self.min_value, self.max_value, self.step = min_value, max_value, step
        self.sampling = (sampling or "linear").lower()
        where = f"HyperParameters.{type(self).__name__}(name='{name}')"
        if min_value > max_value:
            raise ValueError(f"{where}: min_value {min_value} is greater than max_value {max_value}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"{where}: sampling must be one of {SAMPLINGS}, got {sampling!r}")
        if self.sampling != "linear" and min_value <= 0:
            raise ValueError(f"{where}: sampling='{self.sampling}' needs min_value > 0, got {min_value}")
        if step is not None and self.sampling != "linear" and step <= 1:
            raise ValueError(f"{where}: sampling='{self.sampling}' multiplies by step, which must be > 1; got {step}")
        if step is not None and self.sampling == "linear" and step <= 0:
            raise ValueError(f"{where}: step must be > 0, got {step}")
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"{where}: default {default} is outside [{min_value}, {max_value}]")

    @property
    def default(self) -> Any:
        return self.min_value if self._default is None else self._default

    def _continuous(self, prob: float, high: float) -> float:
        lo = self.min_value
        if self.sampling == "linear":
            return lo + prob * (high - lo)
        if self.sampling == "log":
            return lo * math.pow(high / lo, prob)
        return high + lo - lo * math.pow(high / lo, 1.0 - prob)

    def _continuous_prob(self, value: float, high: float) -> float:
        lo = self.min_value
        if high == lo:
            return 0.5
        if self.sampling == "linear":
            return (value - lo) / (high - lo)
        if self.sampling == "log":
            return math.log(value / lo) / math.log(high / lo)
        return 1.0 - math.log((high + lo - value) / lo) / math.log(high / lo)

    def _n_values(self) -> int:
        if self.sampling == "linear":
            return math.floor((self.max_value - self.min_value) / self.step + 1e-9) + 1
        return int(math.log(self.max_value / self.min_value, self.step) + 1e-8) + 1

    def _value_at(self, index: int) -> float:
        if self.sampling == "linear":
            return self.min_value + index * self.step
        if self.sampling == "log":
            return self.min_value * math.pow(self.step, index)
        return self.max_value + self.min_value - self.min_value * math.pow(self.step, index)

    def _index_of(self, value: float) -> float:
        if self.sampling == "linear":
            return (value - self.min_value) / self.step
        if self.sampling == "log":
            return math.log(value / self.min_value, self.step)
        return math.log((self.max_value - value + self.min_value) / self.min_value, self.step)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value,
                "step": self.step, "sampling": self.sampling}


class Int(_Numerical):
    """An integer in [min_value, max_value], both included; linear sampling without a step means step 1."""

    def __init__(self, name: str, min_value: int, max_value: int, step: int | None = None,
                 sampling: str | None = "linear", default: int | None = None, **kwargs: Any) -> None:
        where = f"HyperParameters.Int(name='{name}')"
        min_value, max_value = _int(min_value, "min_value", where), _int(max_value, "max_value", where)
        if step is not None:
            step = _int(step, "step", where)
        elif (sampling or "linear").lower() == "linear":
            step = 1
        if default is not None:
            default = _int(default, "default", where)
        super().__init__(name, min_value, max_value, step, sampling, default, **kwargs)

    @property
    def values(self) -> tuple:
        if self.step is None:
            return tuple(sorted({self.prob_to_value(i * 0.1 + 0.05) for i in range(10)}))
        return tuple(round(self._value_at(i)) for i in range(self._n_values()))

    def prob_to_value(self, prob: float) -> int:
        if self.step is None:
            return min(int(self._continuous(prob, self.max_value + 1)), self.max_value)
        return round(self._value_at(prob_to_index(prob, self._n_values())))

    def value_to_prob(self, value: int) -> float:
        if self.step is None:
            return self._continuous_prob(value + 0.5, self.max_value + 1)
        return index_to_prob(round(self._index_of(value)), self._n_values())

    def __repr__(self) -> str:
        return (f"Int(name: '{self.name}', min_value: {self.min_value}, max_value: {self.max_value}, "
                f"step: {self.step}, sampling: {self.sampling}, default: {self.default})")


class Float(_Numerical):
    """A float in [min_value, max_value]; with a step, only min + k step (or min step^k for log) up to max."""

    def __init__(self, name: str, min_value: float, max_value: float, step: float | None = None,
                 sampling: str | None = "linear", default: float | None = None, **kwargs: Any) -> None:
        super().__init__(name, float(min_value), float(max_value), None if step is None else float(step), sampling,
                         None if default is None else float(default), **kwargs)

    @property
    def values(self) -> tuple:
        if self.step is None:
            return tuple(self.prob_to_value(i * 0.1 + 0.05) for i in range(10))
        return tuple(self._value_at(i) for i in range(self._n_values()))

    def prob_to_value(self, prob: float) -> float:
        if self.step is None:
            return self._continuous(prob, self.max_value)
        return self._value_at(prob_to_index(prob, self._n_values()))

    def value_to_prob(self, value: float) -> float:
        if self.step is None:
            return self._continuous_prob(value, self.max_value)
        return index_to_prob(round(self._index_of(value)), self._n_values())

    def __repr__(self) -> str:
        return (f"Float(name: '{self.name}', min_value: {self.min_value}, max_value: {self.max_value}, "
                f"step: {self.step}, sampling: {self.sampling}, default: {self.default})")


class Choice(HyperParameter):
    """One of a list of values of one type (int, float, str or bool); `ordered` defaults to True for numbers."""

    def __init__(self, name: str, values: Any, ordered: bool | None = None, default: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, default=default, **kwargs)
        where = f"HyperParameters.Choice(name='{name}')"
        values = list(values) if values is not None else []
        if not values:
            raise ValueError(f"{where}: expected a non-empty list of values, got {values!r}")
        types = {type(v) for v in values}
        if len(types) > 1:
            raise TypeError(f"{where}: all values must have one type; got {values!r} of types "
                            f"{sorted(t.__name__ for t in types)}")
        kind = types.pop()
        if kind not in (int, float, str, bool):
            raise TypeError(f"{where}: values must be int, float, str or bool; got {kind.__name__}")
        if default is not None and default not in values:
            raise ValueError(f"{where}: default {default!r} is not one of the values {values!r}")
        numeric = kind in (int, float)
        if ordered and not numeric:
            raise ValueError(f"{where}: ordered=True needs numeric values, got {kind.__name__}")
        self._values = values
        self.ordered = numeric if ordered is None else bool(ordered)

    @property
    def values(self) -> list:
        return self._values

    @property
    def default(self) -> Any:
        return self._values[0] if self._default is None else self._default

    def prob_to_value(self, prob: float) -> Any:
        return self._values[prob_to_index(prob, len(self._values))]

    def value_to_prob(self, value: Any) -> float:
        return index_to_prob(self._values.index(value), len(self._values))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "values": list(self._values), "ordered": self.ordered}

    def __repr__(self) -> str:
        return f"Choice(name: '{self.name}', values: {self._values}, ordered: {self.ordered}, default: {self.default})"


class Boolean(HyperParameter):
    """True or False (default False)."""

    def __init__(self, name: str, default: bool = False, **kwargs: Any) -> None:
        if default not in (True, False):
            raise ValueError(f"HyperParameters.Boolean(name='{name}'): default must be True or False, got {default!r}")
        super().__init__(name=name, default=bool(default), **kwargs)

    @property
    def values(self) -> tuple:
        return (True, False)

    def prob_to_value(self, prob: float) -> bool:
        return bool(prob >= 0.5)

    def value_to_prob(self, value: bool) -> float:
        return 0.75 if value else 0.25

    def __repr__(self) -> str:
        return f"Boolean(name: '{self.name}', default: {self.default})"


class Fixed(HyperParameter):
    """A value that is not tuned (int, float, str or bool), recorded with the trial."""

    def __init__(self, name: str, value: Any, **kwargs: Any) -> None:
        kwargs.pop("default", None)
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"HyperParameters.Fixed(name='{name}'): value must be int, float, str or bool, "
                             f"got {type(value).__name__}")
        super().__init__(name=name, default=value, **kwargs)
        self.value = value

    @property
    def values(self) -> tuple:
        return (self.value,)

    def prob_to_value(self, prob: float) -> Any:
        return self.value

    def value_to_prob(self, value: Any) -> float:
        return 0.5

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("default")
        return {**config, "value": self.value}

    def __repr__(self) -> str:
        return f"Fixed(name: '{self.name}', value: {self.value})"


TYPES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


def serialize(hp: HyperParameter) -> dict[str, Any]:
    return {"class_name": type(hp).__name__, "config": hp.get_config()}


def deserialize(config: dict[str, Any]) -> HyperParameter:
    """The hyperparameter a `serialize` dict describes; ValueError for an unknown kind."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in TYPES:
        raise ValueError(f"HyperParameters: unknown hyperparameter kind {name!r}; expected one of {sorted(TYPES)}")
    return TYPES[name].from_config(config["config"])


def _int(value: Any, arg: str, where: str) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{where}: {arg} must be an int, got {value!r} of type {type(value).__name__}")
    return int(value)
